import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryStore } from '../../src/storage/memory-store.ts';
import { GATHER, GATHER_MAX_MS, GATHER_MS, PieceWriter } from '../../src/storage/piece-writer.ts';
import type { Store } from '../../src/storage/store.ts';

/**
 * PieceWriter gathers pieces that arrive one by one into fewer IndexedDB
 * transactions: a batch with room waits GATHER_MS for more, or less once
 * GATHER are queued. The wait is the test's: it ends only when the test says.
 */
function setUp() {
  const store = createMemoryStore();
  const batches: string[][] = [];
  const recording: Store = {
    ...store,
    putPieces: (fileId, entries) => {
      batches.push(entries.map((e) => `${fileId}:${e.index}`));
      return store.putPieces(fileId, entries);
    },
  };
  const waits: { ms: number; end: () => void }[] = [];
  const writer = new PieceWriter(recording, (ms) => new Promise<void>((end) => waits.push({ ms, end })));
  return { store, batches, waits, writer };
}

const piece = (i: number) => new Uint8Array([i]);
const turn = () => new Promise((resolve) => setImmediate(resolve));

test('pieces arriving one by one during the wait go in one transaction', async () => {
  const { store, batches, waits, writer } = setUp();
  const writes = [writer.write('f', 0, piece(0), true)];
  await turn();
  assert.deepEqual(waits.map((w) => w.ms), [GATHER_MS]);
  writes.push(writer.write('f', 1, piece(1), true), writer.write('f', 2, piece(2), true));
  await turn();
  assert.deepEqual(batches, [], 'nothing is written while the batch waits');
  waits[0]!.end();
  await turn();
  assert.deepEqual(waits.map((w) => w.ms), [GATHER_MS, GATHER_MS], 'pieces came during the wait: it waits again');
  assert.deepEqual(batches, []);
  waits[1]!.end();
  assert.deepEqual(await Promise.all(writes), [true, true, true]);
  assert.deepEqual(batches, [['f:0', 'f:1', 'f:2']]);
  assert.deepEqual(store.pieceKeys().sort(), ['f:0', 'f:1', 'f:2']);
});

test('once GATHER pieces are queued they are written without waiting out the timer', async () => {
  const { batches, waits, writer } = setUp();
  const writes = Array.from({ length: GATHER }, (_, i) => writer.write('f', i, piece(i), true));
  assert.deepEqual(await Promise.all(writes), Array(GATHER).fill(true));
  assert.deepEqual(batches, [Array.from({ length: GATHER }, (_, i) => `f:${i}`)]);
  assert.equal(waits.length, 0, 'a full batch never waited');
  const late = [writer.write('f', GATHER, piece(GATHER), true)];
  await turn();
  for (let i = 1; i < GATHER; i++) late.push(writer.write('f', GATHER + i, piece(GATHER + i), true));
  assert.equal((await Promise.all(late)).length, GATHER, 'the GATHER-th piece ended the wait, though the timer never fired');
  assert.equal(batches.length, 2);
});

test('a batch waits GATHER_MAX_MS at the most while pieces keep coming one by one', async () => {
  const { batches, waits, writer } = setUp();
  const writes: Promise<boolean>[] = [];
  for (let i = 0; i < GATHER_MAX_MS / GATHER_MS; i++) {
    writes.push(writer.write('f', i, piece(i), true));
    await turn();
    assert.equal(waits.length, i + 1);
    assert.deepEqual(batches, []);
    writes.push(writer.write('f', 100 + i, piece(i), true)); // one more during each wait
    waits[i]!.end();
  }
  assert.equal((await Promise.all(writes)).length, writes.length);
  assert.equal(batches.length, 1, 'written after the last wait, though pieces still came');
  assert.equal(waits.length, GATHER_MAX_MS / GATHER_MS);
});

test('a file dropped during the wait: its pieces are withdrawn, the others written, idle() settles', async () => {
  const { store, waits, writer } = setUp();
  const gone = writer.write('gone', 0, piece(0), true);
  const kept = writer.write('kept', 0, piece(1), true);
  await turn();
  writer.drop('gone');
  assert.equal(await gone, false);
  const idle = writer.idle();
  waits[0]!.end();
  await idle;
  assert.equal(await kept, true);
  assert.deepEqual(store.pieceKeys(), ['kept:0']);
});

test('every piece dropped during the wait: nothing is written, and a later write still goes through', async () => {
  const { batches, waits, writer } = setUp();
  const gone = writer.write('gone', 0, piece(0), true);
  await turn();
  writer.drop('gone');
  waits[0]!.end();
  await writer.idle();
  assert.equal(await gone, false);
  assert.deepEqual(batches, []);
  const next = writer.write('f', 0, piece(0), true);
  await turn();
  waits[1]!.end();
  assert.equal(await next, true);
  assert.deepEqual(batches, [['f:0']]);
});

test('pieces not marked as arriving one by one (an import) never wait', async () => {
  const { batches, waits, writer } = setUp();
  assert.equal(await writer.write('f', 0, piece(0)), true);
  assert.deepEqual([batches, waits.length], [[['f:0']], 0]);
});
