import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryStore } from '../../src/storage/memory-store.ts';
import { PieceWriter } from '../../src/storage/piece-writer.ts';
import type { PieceData, PieceEntry, Store } from '../../src/storage/store.ts';

/**
 * The writer makes each piece's stored form (a Blob, in the browser) when the
 * piece arrives, so the batch write that follows copies nothing in one long
 * task. Checked: prepare() runs within write(), once a piece; putPieces gets
 * exactly what it made; the bytes read back are the ones written, Blob or not.
 */
const FILE = 'a'.repeat(64);

function recordingStore(prepare: (data: Uint8Array) => PieceData) {
  const base = createMemoryStore();
  const prepared: PieceData[] = [];
  const batches: PieceEntry[][] = [];
  const store: Store = {
    ...base,
    prepare(data) {
      const made = prepare(data);
      prepared.push(made);
      return made;
    },
    async putPieces(fileId, entries) {
      batches.push([...entries]);
      return base.putPieces(fileId, entries);
    },
  };
  return { base, store, prepared, batches };
}

test('each piece is prepared as it is written, and its batch carries what was prepared', async () => {
  const { base, store, prepared, batches } = recordingStore((data) => new Blob([data as Uint8Array<ArrayBuffer>]));
  const writer = new PieceWriter(store);
  const writes = [0, 1, 2].map((i) => {
    const done = writer.write(FILE, i, new Uint8Array([i, i + 1]));
    assert.equal(prepared.length, i + 1, 'prepared within write(), before any batch is written');
    return done;
  });
  assert.equal(batches.length, 0);
  assert.deepEqual(await Promise.all(writes), [true, true, true]);
  assert.deepEqual(batches.flat().map((e) => e.data), prepared, 'the very objects prepare() made');
  for (const i of [0, 1, 2]) assert.deepEqual(await base.getPiece(FILE, i), new Uint8Array([i, i + 1]));
});

test('a withdrawn piece is not written, though it was prepared', async () => {
  const { base, store, prepared } = recordingStore((data) => data);
  const writer = new PieceWriter(store);
  const done = writer.write(FILE, 0, new Uint8Array([1]));
  writer.drop(FILE);
  assert.equal(await done, false);
  assert.equal(prepared.length, 1);
  assert.equal(await base.getPiece(FILE, 0), undefined);
});

test('the memory store takes pieces as Blobs too, counting their bytes against its quota', async () => {
  const store = createMemoryStore({ quotaBytes: 4 });
  await store.putPieces(FILE, [{ index: 0, data: new Blob([new Uint8Array([1, 2, 3])]) }]);
  assert.deepEqual(await store.getPiece(FILE, 0), new Uint8Array([1, 2, 3]));
  await assert.rejects(store.putPieces(FILE, [{ index: 1, data: new Blob([new Uint8Array(2)]) }]), /no more storage space/);
});
