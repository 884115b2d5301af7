import type { PieceEntry, Store } from './store.ts';

/**
 * Batches piece writes: while one IndexedDB transaction is in flight, newly
 * verified pieces queue up and go together in the next one. One transaction
 * per piece is slow (~20 MB/s); batches run at 100+ MB/s. No timers: the
 * batch size follows how fast storage answers.
 *
 * A file being removed must not get pieces written after its deletion:
 * drop(fileId) withdraws its queued writes, and idle() says when the batch in
 * flight (which may hold some of them) has landed.
 */
export const MAX_BATCH = 32;

interface Job {
  fileId: string;
  entry: PieceEntry;
  /** true once durable, false if withdrawn before it was written. */
  resolve: (written: boolean) => void;
  reject: (e: unknown) => void;
}

export class PieceWriter {
  private queue: Job[] = [];
  private writing: Promise<void> | null = null;

  constructor(private readonly store: Store) {}

  /**
   * Resolves true once the piece is durably stored, false if drop() withdrew
   * it first. The store's form of the piece is made here, in the task the
   * piece arrived in, not for the whole batch in the task that writes it.
   */
  write(fileId: string, index: number, data: Uint8Array): Promise<boolean> {
    const entry = { index, data: this.store.prepare(data) };
    return new Promise((resolve, reject) => {
      this.queue.push({ fileId, entry, resolve, reject });
      this.writing ??= this.flush();
    });
  }

  /** Withdraws the file's writes that have not started. */
  drop(fileId: string): void {
    const keep: Job[] = [];
    for (const job of this.queue) {
      if (job.fileId === fileId) job.resolve(false);
      else keep.push(job);
    }
    this.queue = keep;
  }

  /** Resolves once no write is in flight or queued. */
  async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Writes until the queue is empty; `writing` is cleared in the same step as that last check, so no write is stranded. */
  private async flush(): Promise<void> {
    await null; // let write() store this promise before the finally below may clear it
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        const byFile = new Map<string, PieceEntry[]>();
        for (const item of batch) byFile.set(item.fileId, [...(byFile.get(item.fileId) ?? []), item.entry]);
        try {
          for (const [fileId, entries] of byFile) await this.store.putPieces(fileId, entries);
          for (const item of batch) item.resolve(true);
        } catch (e) {
          for (const item of batch) item.reject(e);
        }
      }
    } finally {
      this.writing = null;
    }
  }
}
