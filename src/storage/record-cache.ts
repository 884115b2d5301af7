import { runOfKey } from './runs.ts';

/**
 * The piece records read last (up to `records` of them, of any files), kept
 * as key and value: for IndexedDB a Blob handle, with the record's bytes once
 * they are read whole (served-records.ts). A peer fetching from us asks for a
 * run's pieces in order (the scheduler's runs), and a run record holds up to
 * 16 pieces (runs.ts), so most reads that follow are from the same record:
 * they skip the transaction and its two requests. Several peers fetching one
 * file at different places each keep their own record, up to the limit.
 *
 * A write or deletion of a file's pieces forgets its records (a repair may
 * have replaced them), and a read that was already under way when it did
 * keeps nothing: it may have found the record the write replaced.
 */
export interface Kept<V> {
  /** Its place in the cache: file and key, made once when it is kept. */
  id: string;
  fileId: string;
  key: IDBValidKey;
  value: V;
  /** Pieces asked of it since it was kept, after the one that read it. */
  hits: number;
}

export class RecordCache<V> {
  /** In the order last used: Maps iterate in insertion order, and a use re-inserts. */
  private kept = new Map<string, Kept<V>>();
  /** Bumped by every forget(): a read started before it must not keep what it found. */
  private epoch = 0;

  constructor(private readonly records = 8) {}

  /** The kept record of the file holding piece `index`, if any. */
  holding(fileId: string, index: number): Kept<V> | undefined {
    for (const k of this.kept.values()) {
      const run = k.fileId === fileId ? runOfKey(k.key) : undefined;
      if (run && run.first <= index && index < run.first + run.count) return k;
    }
    return undefined;
  }

  /** The record holding piece `index`: a kept one if one does (counted as a hit), else `read`'s, which is kept. */
  async read(fileId: string, index: number, read: () => Promise<{ key: IDBValidKey; value: V } | undefined>): Promise<Kept<V> | undefined> {
    const kept = this.holding(fileId, index);
    if (kept) {
      kept.hits++;
      this.use(kept);
      return kept;
    }
    const since = this.since();
    const found = await read();
    if (!found) return undefined;
    return this.keep(fileId, found.key, found.value, since) ?? { id: idOf(fileId, found.key), fileId, ...found, hits: 0 };
  }

  /** Call before reading a record; give the answer to keep(). */
  since(): number {
    return this.epoch;
  }

  /** Keeps the record read, unless a write came since the read began (`since`); returns what it keeps. */
  keep(fileId: string, key: IDBValidKey, value: V, since: number): Kept<V> | undefined {
    if (since !== this.epoch) return undefined;
    const kept = { id: idOf(fileId, key), fileId, key, value, hits: 0 };
    this.use(kept);
    if (this.kept.size > this.records) this.kept.delete(this.kept.keys().next().value!);
    return kept;
  }

  /** The file's pieces are being written or deleted, or a kept record failed to read. */
  forget(fileId: string): void {
    this.epoch++;
    for (const [id, k] of this.kept) if (k.fileId === fileId) this.kept.delete(id);
  }

  private use(k: Kept<V>): void {
    this.kept.delete(k.id);
    this.kept.set(k.id, k);
  }
}

const idOf = (fileId: string, key: IDBValidKey) => JSON.stringify([fileId, key]);
