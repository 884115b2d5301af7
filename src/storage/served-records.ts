import { RecordCache } from './record-cache.ts';
import { pieceOf, runOfKey, spanOf, type RunValue } from './runs.ts';

/**
 * Serving pieces from stored run records (runs.ts) with as few reads as a
 * run's order allows. The first piece asked of a record is read alone (a
 * slice of its Blob); when a second piece of the same record is asked while
 * it is still kept, the whole record is read once (one 4 MiB read instead of
 * fifteen more slices, each a Blob the browser registers and a read of its
 * own: in a profile of the sharer, a quarter of its main thread's time; its
 * browser process went from 6-7 to 3-4 ms per MiB served), and the rest of
 * its pieces are copied out of those bytes. Only a record asked twice is read whole, so peers fetching
 * at more places than are kept (each miss forgets another record) cost a
 * slice per piece, as before, and never a whole record per piece.
 *
 * Memory: at most `records` records' bytes, 4 MiB each (16 pieces of 256 KiB).
 */
export const RECORDS_SERVED = 6;

interface Value {
  /** The record as stored: a RunValue, or a Blob for a one-piece record from before runs. */
  stored: unknown;
  /** Its bytes, once a second piece was asked of it. */
  whole?: Promise<Uint8Array>;
}

export class ServedRecords {
  private cache: RecordCache<Value>;

  constructor(records = RECORDS_SERVED) {
    this.cache = new RecordCache<Value>(records);
  }

  /** Piece `index`'s bytes (a copy of its own), or undefined when no record holds it. `read` finds its record in storage. */
  async piece(fileId: string, index: number, read: () => Promise<{ key: IDBValidKey; value: unknown } | undefined>): Promise<Uint8Array | undefined> {
    const kept = await this.cache.read(fileId, index, async () => {
      const found = await read();
      return found && { key: found.key, value: { stored: found.value } };
    });
    if (!kept) return undefined;
    const run = runOfKey(kept.key)!;
    const step = (kept.value.stored as Partial<RunValue> | null | undefined)?.step; // a damaged record may hold anything
    if (kept.hits > 0 && run.count > 1 && typeof step === 'number' && !kept.value.whole) {
      const whole = spanOf(kept.key, kept.value.stored, run.first, run.first + run.count);
      if (whole) {
        kept.value.whole = whole.arrayBuffer().then((b) => new Uint8Array(b));
        kept.value.whole.catch(() => (kept.value.whole = undefined)); // the next piece asked tries the read again
      }
    }
    if (kept.value.whole && typeof step === 'number') {
      const bytes = await kept.value.whole;
      const from = (index - run.first) * step;
      return bytes.slice(from, index === run.first + run.count - 1 ? bytes.length : from + step);
    }
    const blob = pieceOf(kept.key, kept.value.stored, index);
    return blob && new Uint8Array(await blob.arrayBuffer());
  }

  /** The file's pieces are being written or deleted, or a kept record failed to read. */
  forget(fileId: string): void {
    this.cache.forget(fileId);
  }
}
