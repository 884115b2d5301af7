import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readSpans, type RunTable } from '../../src/storage/run-table.ts';
import { keyHolding, lookbackFrom, markPresent, MAX_RUN, overlapsOf, pieceOf, runKey, runOfKey, runValue, spanOf, splitRuns } from '../../src/storage/runs.ts';
import type { PieceEntry } from '../../src/storage/store.ts';

/** The record layout of src/storage/runs.ts: a run of consecutive pieces per record, found by key alone. */
const entry = (index: number, size = 4): PieceEntry => ({ index, data: new Uint8Array(size).fill(index) });
const indexes = (runs: PieceEntry[][]) => runs.map((r) => r.map((e) => e.index));
const F = 'file';

test('a batch splits into runs of consecutive pieces, at most MAX_RUN each, in index order', () => {
  assert.deepEqual(indexes(splitRuns([entry(5), entry(3), entry(4), entry(9), entry(0)])), [[0], [3, 4, 5], [9]]);
  const long = Array.from({ length: MAX_RUN * 2 + 1 }, (_, i) => entry(i + 7));
  assert.deepEqual(indexes(splitRuns(long)).map((r) => [r[0], r.length]), [[7, MAX_RUN], [7 + MAX_RUN, MAX_RUN], [7 + 2 * MAX_RUN, 1]]);
  const twice = splitRuns([entry(1), { index: 1, data: new Uint8Array([42]) }]);
  assert.deepEqual(twice.map((r) => r.map((e) => [...(e.data as Uint8Array)])), [[[42]]], 'a piece given twice is written once, the last copy');
  assert.deepEqual(splitRuns([]), []);
});

test('keys name their runs; old one-piece keys are runs of one; other keys are none', () => {
  assert.deepEqual(runOfKey(runKey(F, { first: 8, count: 5 })), { first: 8, count: 5 });
  assert.deepEqual(runOfKey([F, 3]), { first: 3, count: 1 });
  assert.equal(runOfKey([F, 'hashes']), undefined);
  assert.equal(runOfKey([F, 3, 0]), undefined);
  assert.equal(runOfKey(F), undefined);
});

test('the record holding a piece is found among the keys of its look-back range, old and new alike', () => {
  const keys = [[F, 0], runKey(F, { first: 1, count: 4 }), runKey(F, { first: 9, count: MAX_RUN })];
  assert.deepEqual(keyHolding(keys, 0), [F, 0]);
  assert.deepEqual(keyHolding(keys, 4), [F, 1, 4]);
  assert.equal(keyHolding(keys, 5), undefined, 'a gap');
  assert.deepEqual(keyHolding(keys, 9 + MAX_RUN - 1), [F, 9, MAX_RUN], 'the last piece of a longest run');
  assert.ok(lookbackFrom(9 + MAX_RUN - 1) <= 9, 'whose first the look-back range reaches');
  assert.equal(keyHolding(keys, 9 + MAX_RUN), undefined);
});

test('a write finds every record it overlaps, and only those', () => {
  const keys = [[F, 0], runKey(F, { first: 2, count: 4 }), runKey(F, { first: 6, count: 2 }), runKey(F, { first: 10, count: 3 })];
  assert.deepEqual(overlapsOf(keys, 5, 7), [[F, 2, 4], [F, 6, 2]], 'pieces 5 and 6: the end of one run, the start of the next');
  assert.deepEqual(overlapsOf(keys, 8, 10), [], 'pieces 8 and 9 are in no record');
  assert.deepEqual(overlapsOf(keys, 0, 1), [[F, 0]]);
});

test('presence is read from keys alone, runs clipped to the file', () => {
  const present = new Array<boolean>(10).fill(false);
  markPresent([[F, 0], runKey(F, { first: 3, count: 3 }), runKey(F, { first: 8, count: 4 }), [F, 'hashes']], present);
  assert.deepEqual(present.map((p, i) => (p ? i : -1)).filter((i) => i >= 0), [0, 3, 4, 5, 8, 9]);
});

test("a run's value gives back each piece's bytes, the short last one too", async () => {
  const run = [entry(4, 6), entry(5, 6), entry(6, 2)];
  const key = runKey(F, { first: 4, count: 3 });
  const value = runValue(run);
  assert.equal(value.step, 6);
  for (const e of run) {
    const blob = pieceOf(key, value, e.index)!;
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), e.data, `piece ${e.index}`);
  }
  assert.equal(pieceOf(key, value, 7), undefined, 'not in this run');
  assert.equal(pieceOf(key, new Uint8Array(3), 4), undefined, 'not a run value');
  const old = new Blob([new Uint8Array([1, 2])]);
  assert.equal(pieceOf([F, 2], old, 2), old, 'an old one-piece record is its Blob');
  const prepared = runValue([{ index: 0, data: new Blob([new Uint8Array(6)]) }, { index: 1, data: new Blob([new Uint8Array(1)]) }]);
  assert.equal(prepared.step, 6, 'pieces already made Blobs (Store.prepare) size the run as well');
});

test("a span of a run's pieces: the record's own Blob when whole, one slice otherwise, nothing it does not hold", async () => {
  const run = [entry(4, 6), entry(5, 6), entry(6, 2)];
  const key = runKey(F, { first: 4, count: 3 });
  const value = runValue(run);
  assert.equal(spanOf(key, value, 4, 7), value.blob, 'the whole run is its Blob, not a slice of it');
  const bytes = async (b: Blob | undefined) => [...new Uint8Array(await b!.arrayBuffer())];
  assert.deepEqual(await bytes(spanOf(key, value, 5, 7)), [...(run[1]!.data as Uint8Array), ...(run[2]!.data as Uint8Array)], 'the last two, the short one whole');
  assert.deepEqual(await bytes(spanOf(key, value, 4, 6)), [...(run[0]!.data as Uint8Array), ...(run[1]!.data as Uint8Array)]);
  assert.equal(spanOf(key, value, 3, 5), undefined, 'starts before the run');
  assert.equal(spanOf(key, value, 6, 8), undefined, 'ends after it');
  assert.equal(spanOf(key, value, 5, 5), undefined, 'empty');
  const old = new Blob([new Uint8Array([1, 2])]);
  assert.equal(spanOf([F, 2], old, 2, 3), old, 'an old one-piece record is its Blob');
});

/** A piece table over an array of records, in key order, as IndexedDB gives them (run-table.ts RunTable). */
function tableOf(records: [IDBValidKey, unknown][]): RunTable<unknown> {
  const inRange = (from: number, to: number) => records.filter(([k]) => runOfKey(k)!.first >= from && runOfKey(k)!.first < to);
  return {
    keys: async (_, from, to) => inRange(from, to).map(([k]) => k),
    entries: async (_, from, to) => [inRange(from, to).map(([k]) => k), inRange(from, to).map(([, v]) => v)],
    get: async (key) => records.find(([k]) => k === key)?.[1],
    put: () => assert.fail('a read writes nothing'),
    delete: () => assert.fail('a read deletes nothing'),
  };
}

test('a range is read as one part per record, whole records whole, sliced only at its ends', async () => {
  const asked: [number, number][] = [];
  const spans = (key: IDBValidKey, _: unknown, from: number, to: number) => (asked.push([from, to]), `${runOfKey(key)!.first}:${from}-${to}`);
  const t = tableOf([[runKey(F, { first: 0, count: 16 }), 'a'], [runKey(F, { first: 16, count: 16 }), 'b'], [runKey(F, { first: 32, count: 5 }), 'c']]);
  assert.deepEqual(await readSpans(t, F, 10, 35, spans), { parts: ['0:10-16', '16:16-32', '32:32-35'] });
  assert.deepEqual(await readSpans(t, F, 16, 32, spans), { parts: ['16:16-32'] }, 'exactly one record');
  assert.deepEqual(await readSpans(t, F, 30, 40, spans), { missing: 37 }, 'the first piece no record holds');
  assert.deepEqual(asked.slice(0, 4), [[10, 16], [16, 32], [32, 35], [16, 32]]);
});

test('a record that cannot give its span, or a gap, names the first piece missing; an overlap ends a part', async () => {
  const t = tableOf([[runKey(F, { first: 0, count: 4 }), 'a'], [runKey(F, { first: 2, count: 1 }), 'repair'], [runKey(F, { first: 6, count: 2 }), 'b']]);
  const spans = (key: IDBValidKey, value: unknown, from: number, to: number) => (value === 'b' ? undefined : `${value}:${from}-${to}`);
  assert.deepEqual(await readSpans(t, F, 0, 4, spans), { parts: ['a:0-2', 'repair:2-3', 'a:3-4'] }, 'the later record holds piece 2');
  assert.deepEqual(await readSpans(t, F, 0, 6, spans), { missing: 4 });
  assert.deepEqual(await readSpans(t, F, 6, 8, spans), { missing: 6 }, 'a value that is not a run');
});
