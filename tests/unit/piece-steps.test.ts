import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryStore } from '../../src/storage/memory-store.ts';
import { assembleInSteps, PIECE_STEP, steps } from '../../src/storage/piece-steps.ts';
import { StorageError } from '../../src/storage/store.ts';

/**
 * Saving a file reads its pieces a step at a time (piece-steps.ts), so no
 * main-thread task grows with the file. What is checked: the saved bytes are
 * the stored ones in order, across step boundaries; no read covers more than
 * a step; a missing piece anywhere still stops the save and is named.
 */
const FILE = 'f'.repeat(64);
/** Piece i: 3 bytes that say i, so a piece out of place shows. */
const piece = (i: number) => new Uint8Array([i & 0xff, (i >> 8) & 0xff, 0x5a]);

async function storeWith(count: number) {
  const store = createMemoryStore();
  await store.putPieces(FILE, Array.from({ length: count }, (_, index) => ({ index, data: piece(index) })));
  return store;
}

const expected = (count: number) => Uint8Array.from(Array.from({ length: count }, (_, i) => [...piece(i)]).flat());

for (const count of [0, 1, PIECE_STEP - 1, PIECE_STEP, PIECE_STEP + 1, 2 * PIECE_STEP + 44]) {
  test(`a file of ${count} pieces saves byte for byte, in order`, async () => {
    const blob = await (await storeWith(count)).assemble(FILE, count, 'video/mp4');
    assert.equal(blob.type, 'video/mp4');
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), expected(count));
  });
}

test('steps cover every piece once, none longer than a step', () => {
  const count = 3 * PIECE_STEP + 5;
  const all = [...steps(count)];
  assert.deepEqual(all.map(([from]) => from), [0, PIECE_STEP, 2 * PIECE_STEP, 3 * PIECE_STEP]);
  assert.equal(all.at(-1)![1], count);
  assert.ok(all.every(([from, to]) => to > from && to - from <= PIECE_STEP));
  assert.deepEqual([...steps(0)], []);
});

test('each read asks for one step of pieces, in order', async () => {
  const asked: [number, number][] = [];
  const blob = await assembleInSteps(readRecorded(asked), 10, '', 4);
  assert.deepEqual(asked, [[0, 4], [4, 8], [8, 10]]);
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), expected(10));
});

/** A read of pieces made in memory, that records what it was asked. */
function readRecorded(asked: [number, number][]) {
  return async (from: number, to: number) => {
    asked.push([from, to]);
    return { parts: Array.from({ length: to - from }, (_, i) => new Blob([piece(from + i)])) };
  };
}

for (const [count, step] of [[37, 2], [100, 3], [64, 4], [65, 4], [1, 1]] as const) {
  test(`step Blobs merged as they come (${count} pieces, steps of ${step}) keep the file in order`, async () => {
    const asked: [number, number][] = [];
    const blob = await assembleInSteps(readRecorded(asked), count, 'text/plain', step);
    assert.equal(blob.type, 'text/plain');
    assert.equal(asked.length, Math.ceil(count / step));
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), expected(count));
  });
}

for (const lost of [0, PIECE_STEP - 1, PIECE_STEP, 2 * PIECE_STEP + 43]) {
  test(`a missing piece ${lost} stops the save and is named`, async () => {
    const count = 2 * PIECE_STEP + 44;
    const store = await storeWith(count);
    store.dropPiece(FILE, lost);
    await assert.rejects(store.assemble(FILE, count, ''), (e: unknown) => {
      assert.ok(e instanceof StorageError);
      assert.equal(e.code, 'ERR_MISSING_PIECE');
      assert.match(e.message, new RegExp(`piece ${lost} is missing`));
      return true;
    });
  });
}

test('a step read that names a missing piece stops the save with that piece', async () => {
  const gap = assembleInSteps(async (from, to) => (from <= 4 && 4 < to ? { missing: 4 } : { parts: [new Blob(['x'])] }), 6, '', 3);
  await assert.rejects(gap, (e: unknown) => e instanceof StorageError && e.code === 'ERR_MISSING_PIECE' && /piece 4 is missing/.test(e.message));
});

/**
 * Pieces written in batches that do not line up with the steps (runs of 7, and
 * in reverse order) cross step boundaries; the save still gives every byte in order,
 * and reads whole records as one part each, slicing only at a step's ends.
 */
for (const order of ['forward', 'reverse'] as const) {
  test(`runs across step boundaries (batches of 7, ${order}) save byte for byte, a part per record`, async () => {
    const count = 2 * PIECE_STEP + 44;
    const store = createMemoryStore();
    const batches = Array.from({ length: Math.ceil(count / 7) }, (_, b) => b * 7);
    for (const first of order === 'forward' ? batches : batches.reverse()) {
      const indexes = Array.from({ length: Math.min(7, count - first) }, (_, i) => first + i);
      await store.putPieces(FILE, indexes.map((index) => ({ index, data: piece(index) })));
    }
    assert.equal(store.recordCount(FILE), batches.length);
    const blob = await store.assemble(FILE, count, '');
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), expected(count));
  });
}

test('a failing read is passed on, not turned into a missing piece', async () => {
  const failing = assembleInSteps(async () => {
    throw new StorageError('ERR_STORAGE', 'storage failed: disk');
  }, 3, '');
  await assert.rejects(failing, (e: unknown) => e instanceof StorageError && e.code === 'ERR_STORAGE');
});
