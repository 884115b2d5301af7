import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runKey, type RunValue } from '../../src/storage/runs.ts';
import { ServedRecords } from '../../src/storage/served-records.ts';

/** Serving pieces from run records (src/storage/served-records.ts): a slice for the first piece asked, the whole record once for the rest. */
const STEP = 8;

/** A Blob that counts the reads made of it and of its slices. */
class CountingBlob extends Blob {
  constructor(parts: BlobPart[], readonly reads: { whole: number; slices: number; bytes: number }, private readonly isSlice = false) {
    super(parts);
  }
  override slice(start?: number, end?: number): Blob {
    return new CountingBlob([super.slice(start, end)], this.reads, true);
  }
  override async arrayBuffer(): Promise<ArrayBuffer> {
    if (this.isSlice) this.reads.slices++;
    else this.reads.whole++;
    this.reads.bytes += this.size;
    return super.arrayBuffer();
  }
}

/** Records of `perRun` pieces for a file of `pieces` pieces, the last piece 3 bytes short; piece i's bytes are all i. */
function storage(pieces: number, perRun: number) {
  const reads = { whole: 0, slices: 0, bytes: 0, records: 0 };
  const pieceBytes = (i: number) => new Uint8Array(i === pieces - 1 ? STEP - 3 : STEP).fill(i);
  const records = new Map<number, { key: IDBValidKey; value: RunValue }>();
  for (let first = 0; first < pieces; first += perRun) {
    const count = Math.min(perRun, pieces - first);
    const parts = Array.from({ length: count }, (_, k) => pieceBytes(first + k));
    records.set(first, { key: runKey('f', { first, count }), value: { blob: new CountingBlob(parts, reads), step: STEP } });
  }
  const read = (index: number) => async () => {
    reads.records++;
    return records.get(index - (index % perRun));
  };
  return { reads, read, pieceBytes };
}

test('a run read in order: its first piece alone, then the whole record once, every piece exact', async () => {
  const s = storage(20, 16);
  const served = new ServedRecords();
  for (let i = 0; i < 20; i++) assert.deepEqual(await served.piece('f', i, s.read(i)), s.pieceBytes(i), `piece ${i}`);
  // Record 0..15: a slice (piece 0), then whole. Record 16..19: a slice (16), then whole (its last piece is short).
  assert.deepEqual({ ...s.reads, bytes: undefined }, { whole: 2, slices: 2, records: 2, bytes: undefined });
  assert.equal(s.reads.bytes, STEP + 16 * STEP + STEP + (4 * STEP - 3), 'nothing read twice but the first pieces');
});

test('pieces handed out are copies: changing one changes neither the kept record nor the next piece', async () => {
  const s = storage(4, 4);
  const served = new ServedRecords();
  await served.piece('f', 0, s.read(0));
  const one = (await served.piece('f', 1, s.read(1)))!;
  one.fill(99);
  assert.deepEqual(await served.piece('f', 1, s.read(1)), s.pieceBytes(1));
  assert.equal(one.buffer.byteLength, STEP, 'its own buffer, not a view of the 4-piece record');
});

test('peers fetching at more places than are kept cost a slice per piece, never a whole record per piece', async () => {
  const s = storage(16 * 8, 16);
  const served = new ServedRecords(3);
  // Four streams, round-robin, one piece each in turn: each miss forgets the record kept longest ago.
  for (let k = 0; k < 16; k++) for (const run of [0, 1, 2, 3]) {
    const i = run * 32 + k;
    assert.deepEqual(await served.piece('f', i, s.read(i)), s.pieceBytes(i));
  }
  assert.equal(s.reads.whole, 0);
  assert.equal(s.reads.slices, 64);
});

test('as many places as are kept: each record read whole once', async () => {
  const s = storage(16 * 8, 16);
  const served = new ServedRecords(3);
  for (let k = 0; k < 16; k++) for (const run of [0, 2, 4]) {
    const i = run * 16 + k;
    assert.deepEqual(await served.piece('f', i, s.read(i)), s.pieceBytes(i));
  }
  assert.deepEqual([s.reads.whole, s.reads.slices, s.reads.records], [3, 3, 3]);
});

test('a write forgets the bytes read: the next piece comes from storage again', async () => {
  const s = storage(16, 16);
  const served = new ServedRecords();
  await served.piece('f', 0, s.read(0));
  await served.piece('f', 1, s.read(1));
  served.forget('f'); // a repair rewrote the file's pieces
  assert.deepEqual(await served.piece('f', 2, s.read(2)), s.pieceBytes(2));
  assert.equal(s.reads.records, 2);
});

test('a whole read that fails fails its pieces; the next piece tries again', async () => {
  const s = storage(16, 16);
  const served = new ServedRecords();
  const record = (await s.read(0)())!;
  let failing = true;
  const blob = record.value.blob as CountingBlob;
  const original = blob.arrayBuffer.bind(blob);
  blob.arrayBuffer = () => (failing ? Promise.reject(new Error('file lost')) : original());
  await served.piece('f', 0, s.read(0)); // a slice: not the record's own read
  await assert.rejects(served.piece('f', 1, s.read(1)), /file lost/);
  failing = false;
  assert.deepEqual(await served.piece('f', 2, s.read(2)), s.pieceBytes(2));
});

test('a one-piece record from before runs, and a piece no record holds', async () => {
  const served = new ServedRecords();
  const old = async () => ({ key: ['f', 7] as IDBValidKey, value: new Blob([new Uint8Array([7, 7])]) });
  assert.deepEqual(await served.piece('f', 7, old), new Uint8Array([7, 7]));
  assert.deepEqual(await served.piece('f', 7, old), new Uint8Array([7, 7]));
  assert.equal(await served.piece('f', 8, async () => undefined), undefined);
});

test('two at once: pieces asked together share one whole read; a first read raced by another keeps one record', async () => {
  const s = storage(16, 16);
  const served = new ServedRecords();
  // Two first asks at once: both miss and read the record; one copy is kept.
  const [a, b] = await Promise.all([served.piece('f', 0, s.read(0)), served.piece('f', 1, s.read(1))]);
  assert.deepEqual([a, b], [s.pieceBytes(0), s.pieceBytes(1)]);
  assert.equal(s.reads.records, 2);
  // Then three at once, all hits: one whole read between them.
  const more = await Promise.all([2, 3, 4].map((i) => served.piece('f', i, s.read(i))));
  assert.deepEqual(more, [2, 3, 4].map((i) => s.pieceBytes(i)));
  assert.equal(s.reads.whole, 1);
  assert.equal(s.reads.records, 2, 'no more storage reads');
});

test('a damaged record (a value that is no run) holds no piece: undefined, not a throw', async () => {
  const served = new ServedRecords();
  for (const value of [null, undefined, 42, { blob: 'no', step: 8 }]) {
    const read = async () => ({ key: runKey('f', { first: 0, count: 4 }), value });
    assert.equal(await served.piece('f', 1, read), undefined);
    assert.equal(await served.piece('f', 2, read), undefined, 'asked again (a hit): still undefined');
    served.forget('f');
  }
});
