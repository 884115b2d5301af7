import { keyHolding, lookbackFrom, overlapsOf, runKey, splitRuns } from './runs.ts';
import type { PieceEntry } from './store.ts';

/**
 * The run layout's reads and writes (runs.ts), over one transaction's view of
 * a piece table: IndexedDB's object store in the browser (idb-store.ts), Maps
 * in Node (memory-store.ts), so Node's simulations run the browser's layout.
 * `R` is a record's value, `P` a piece read from one.
 */
export interface RunTable<R> {
  /** Keys of the file's records whose first piece is in [from, to), in key order. */
  keys(fileId: string, from: number, to: number): Promise<IDBValidKey[]>;
  /** The same records' keys and values, in key order. */
  entries(fileId: string, from: number, to: number): Promise<[IDBValidKey[], unknown[]]>;
  get(key: IDBValidKey): Promise<unknown>;
  put(key: IDBValidKey, value: R): void;
  delete(key: IDBValidKey): void;
}

/**
 * Writes the entries as one record per run. Records the runs overlap (pieces
 * written again: a repair) are deleted first, so a piece is never in two
 * records; the caller gives one transaction, so the deletes and puts land together.
 */
export async function writeRuns<R>(t: RunTable<R>, fileId: string, entries: readonly PieceEntry[], value: (run: readonly PieceEntry[]) => R): Promise<void> {
  const runs = splitRuns(entries);
  if (runs.length === 0) return;
  const near = await t.keys(fileId, lookbackFrom(runs[0]![0]!.index), runs.at(-1)!.at(-1)!.index + 1);
  for (const run of runs) {
    const first = run[0]!.index;
    for (const key of overlapsOf(near, first, first + run.length)) t.delete(key);
    t.put(runKey(fileId, { first, count: run.length }), value(run));
  }
}

/** The key and value of the record holding piece `index`, or undefined when none does. */
export async function readRecord<R>(t: RunTable<R>, fileId: string, index: number): Promise<{ key: IDBValidKey; value: unknown } | undefined> {
  const key = keyHolding(await t.keys(fileId, lookbackFrom(index), index + 1), index);
  return key === undefined ? undefined : { key, value: await t.get(key) };
}

/** Pieces [from, to)'s bytes within the record stored under `key`, or undefined when it does not hold them all. */
export type SpanOf<P> = (key: IDBValidKey, value: unknown, from: number, to: number) => P | undefined;

/** Pieces [from, to) as consecutive parts, each from one record, or the first piece no record holds. */
export type Spans<P> = { parts: P[] } | { missing: number };

/**
 * Pieces [from, to) in order as one part per record that holds them (a whole
 * record where it lies inside the range): two requests, and no part per piece.
 */
export async function readSpans<R, P>(t: RunTable<R>, fileId: string, from: number, to: number, spanOf: SpanOf<P>): Promise<Spans<P>> {
  const [keys, values] = await t.entries(fileId, lookbackFrom(from), to);
  const parts: P[] = [];
  for (let i = from; i < to; ) {
    const key = keyHolding(keys, i);
    let end = i + 1;
    // Should records overlap (keyHolding takes the latest first), a part ends where another record takes over.
    while (key !== undefined && end < to && keyHolding(keys, end) === key) end++;
    const part = key === undefined ? undefined : spanOf(key, values[keys.indexOf(key)], i, end);
    if (part === undefined) return { missing: i };
    parts.push(part);
    i = end;
  }
  return { parts };
}
