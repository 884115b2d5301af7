import type { PieceEntry, Store } from './store.ts';

/**
 * Batches piece writes: while one IndexedDB transaction is in flight, newly
 * verified pieces queue up and go together in the next one. One transaction
 * per piece is slow (~20 MB/s); batches run at 100+ MB/s. No timers: the
 * batch size follows how fast storage answers.
 */
export const MAX_BATCH = 32;

export class PieceWriter {
  private queue: { fileId: string; entry: PieceEntry; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private writing = false;

  constructor(private readonly store: Store) {}

  /** Resolves once the piece is durably stored. */
  write(fileId: string, index: number, data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ fileId, entry: { index, data }, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const byFile = new Map<string, PieceEntry[]>();
      for (const item of batch) byFile.set(item.fileId, [...(byFile.get(item.fileId) ?? []), item.entry]);
      try {
        for (const [fileId, entries] of byFile) await this.store.putPieces(fileId, entries);
        for (const item of batch) item.resolve();
      } catch (e) {
        for (const item of batch) item.reject(e);
      }
    }
    this.writing = false;
  }
}
