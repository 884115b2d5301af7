import type { PieceEntry } from './store.ts';

/**
 * How a file's pieces are laid out as IndexedDB records (idb-store.ts), the
 * pure part. Chromium keeps every value over ~64 KiB as a blob file of its
 * own, so a record per 256 KiB piece is a file created, written and committed
 * per piece. A record here holds a run of consecutive pieces instead, up to
 * MAX_RUN of them:
 *
 *   key [fileId, first, count] -> { blob, step }   pieces first .. first+count-1,
 *                                                  each `step` bytes but the last
 *   key [fileId, index]        -> Blob              one piece (records from before runs)
 *
 * The count is in the key, so which pieces are present is read from keys
 * alone, and the record holding piece i is among the keys whose first lies in
 * [i - MAX_RUN + 1, i]: one key range, no scan and no index to keep. MAX_RUN
 * must never shrink (records of the old length would no longer be found).
 *
 * Records may overlap only when pieces are written again (a repair), and a
 * write deletes every record it overlaps (overlapsOf), so a piece is in at
 * most one record. A record's other pieces go with it: a repaired piece's
 * record is a damaged one (its blob file lost or its bytes wrong), so its
 * neighbours are suspect too; reads find them missing and they are fetched
 * again, as any lost piece is.
 */
export const MAX_RUN = 16;

export interface RunKey {
  first: number;
  count: number;
}

/** The run a stored key names, or undefined for a key that is not a piece record. */
export function runOfKey(key: IDBValidKey): RunKey | undefined {
  if (!Array.isArray(key) || typeof key[1] !== 'number') return undefined;
  if (key.length === 2) return { first: key[1], count: 1 };
  return typeof key[2] === 'number' && key[2] >= 1 ? { first: key[1], count: key[2] } : undefined;
}

export const runKey = (fileId: string, run: RunKey): IDBValidKey => [fileId, run.first, run.count];

/**
 * A batch's entries as runs of consecutive indexes, each at most MAX_RUN long,
 * in index order (a repeated index keeps its last entry).
 */
export function splitRuns(entries: readonly PieceEntry[]): PieceEntry[][] {
  const byIndex = new Map(entries.map((e) => [e.index, e]));
  const sorted = [...byIndex.values()].sort((a, b) => a.index - b.index);
  const runs: PieceEntry[][] = [];
  for (const entry of sorted) {
    const last = runs[runs.length - 1];
    const prev = last?.[last.length - 1];
    if (last && prev!.index + 1 === entry.index && last.length < MAX_RUN) last.push(entry);
    else runs.push([entry]);
  }
  return runs;
}

/** Keys whose runs could hold any piece in [from, to): firsts in [from - MAX_RUN + 1, to - 1]. */
export const lookbackFrom = (from: number): number => from - MAX_RUN + 1;

const covers = (run: RunKey, index: number) => run.first <= index && index < run.first + run.count;

/** Of `keys`, the ones whose runs hold any piece of [from, to). */
export function overlapsOf(keys: readonly IDBValidKey[], from: number, to: number): IDBValidKey[] {
  return keys.filter((key) => {
    const run = runOfKey(key);
    return run !== undefined && run.first < to && from < run.first + run.count;
  });
}

/** The key of the record holding piece `index`, if any (the latest first wins, should records overlap). */
export function keyHolding(keys: readonly IDBValidKey[], index: number): IDBValidKey | undefined {
  let best: IDBValidKey | undefined;
  let bestFirst = -Infinity;
  for (const key of keys) {
    const run = runOfKey(key);
    if (run && covers(run, index) && run.first >= bestFirst) [best, bestFirst] = [key, run.first];
  }
  return best;
}

/** Marks in `present` (pieces 0 .. present.length-1) every piece the keys' runs hold. */
export function markPresent(keys: readonly IDBValidKey[], present: boolean[]): void {
  for (const key of keys) {
    const run = runOfKey(key);
    if (!run) continue;
    for (let i = Math.max(0, run.first); i < Math.min(present.length, run.first + run.count); i++) present[i] = true;
  }
}

/** A stored run record: its pieces' bytes in one Blob, each `step` bytes but the last. */
export interface RunValue {
  blob: Blob;
  step: number;
}

/** The record's value for a run's pieces: one Blob of them all. */
export function runValue(run: readonly PieceEntry[]): RunValue {
  const step = run[0]!.data instanceof Blob ? run[0]!.data.size : run[0]!.data.length;
  return { blob: new Blob(run.map((e) => e.data as BlobPart)), step };
}

/**
 * Pieces [from, to)'s bytes within the record stored under `key`, or undefined
 * when the record does not hold them all or its value is not a piece
 * record's. The record's own Blob when the span is the whole run: a slice is a
 * Blob the browser registers anew (saving a file sliced every piece of every
 * run: 108-221 ms of one 64-piece step on a phone's CPU, BENCHMARKS.md "Goal 6 (phone)").
 */
export function spanOf(key: IDBValidKey, value: unknown, from: number, to: number): Blob | undefined {
  const run = runOfKey(key);
  if (!run || from >= to || !covers(run, from) || !covers(run, to - 1)) return undefined;
  if (run.count === 1 && key instanceof Array && key.length === 2) return value instanceof Blob ? value : undefined;
  const v = value as Partial<RunValue> | undefined;
  if (!(v?.blob instanceof Blob) || typeof v.step !== 'number') return undefined;
  const last = run.first + run.count;
  if (from === run.first && to === last) return v.blob;
  return v.blob.slice((from - run.first) * v.step, to === last ? v.blob.size : (to - run.first) * v.step);
}

/** Piece `index`'s bytes within the record stored under `key` (spanOf of one piece). */
export const pieceOf = (key: IDBValidKey, value: unknown, index: number): Blob | undefined => spanOf(key, value, index, index + 1);
