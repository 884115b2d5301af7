import { runOfKey } from './runs.ts';

/**
 * The last piece record read of each file, kept as its key and value (for
 * IndexedDB a Blob handle: the bytes stay on disk). A peer fetching from us
 * asks for a run's pieces in order (the scheduler's runs), and a run record
 * holds up to 16 pieces (runs.ts), so most reads that follow are from the
 * same record: they skip the transaction and its two requests.
 *
 * A write or deletion of a file's pieces forgets its record (a repair may have
 * replaced it), and a read that was already under way when it did keeps
 * nothing: it may have found the record the write replaced.
 */
export class RecordCache<V> {
  private byFile = new Map<string, { key: IDBValidKey; value: V }>();
  /** Bumped by every forget(): a read started before it must not keep what it found. */
  private epoch = 0;

  /** Files whose records are kept at once; the one kept longest ago goes first. */
  constructor(private readonly files = 8) {}

  /** The kept record of the file, if it holds piece `index`. */
  holding(fileId: string, index: number): { key: IDBValidKey; value: V } | undefined {
    const kept = this.byFile.get(fileId);
    const run = kept && runOfKey(kept.key);
    return run && run.first <= index && index < run.first + run.count ? kept : undefined;
  }

  /** The record holding piece `index`: the one kept if it does, else `read`'s, which is kept. */
  async read(fileId: string, index: number, read: () => Promise<{ key: IDBValidKey; value: V } | undefined>): Promise<{ key: IDBValidKey; value: V } | undefined> {
    const kept = this.holding(fileId, index);
    if (kept) return kept;
    const since = this.since();
    const found = await read();
    if (found) this.keep(fileId, found.key, found.value, since);
    return found;
  }

  /** Call before reading a record; give the answer to keep(). */
  since(): number {
    return this.epoch;
  }

  /** Keeps the record read, unless a write came since the read began (`since`). */
  keep(fileId: string, key: IDBValidKey, value: V, since: number): void {
    if (since !== this.epoch) return;
    this.byFile.delete(fileId); // re-inserted last: Maps iterate in insertion order
    this.byFile.set(fileId, { key, value });
    if (this.byFile.size > this.files) this.byFile.delete(this.byFile.keys().next().value!);
  }

  /** The file's pieces are being written or deleted, or a kept record failed to read. */
  forget(fileId: string): void {
    this.epoch++;
    this.byFile.delete(fileId);
  }
}
