import type { PieceEntry, Store } from './store.ts';

/**
 * Batches piece writes: while one IndexedDB transaction is in flight, newly
 * verified pieces queue up and go together in the next one. One transaction
 * per piece is slow (~20 MB/s); batches run at 100+ MB/s.
 *
 * A download's pieces arrive one at a time (~30 a second at 8 MiB/s) and
 * each transaction ends long before the next piece, so that alone gave a
 * transaction per piece. Each costs the browser process a commit and a
 * blob file's bookkeeping: 17-20 ms of CPU per MiB stored one piece per
 * transaction against 10-11 in transactions of 8 (tests/bench/storage-bench.ts,
 * BENCHMARKS.md). So a batch with room left that holds a download's pieces
 * waits a moment (GATHER_MS) for more, unless GATHER are already queued.
 * Memory stays bounded by the callers (the download's MAX_UNSTORED).
 *
 * A file being removed must not get pieces written after its deletion:
 * drop(fileId) withdraws its queued writes, and idle() says when the batch in
 * flight (which may hold some of them) has landed.
 */
export const MAX_BATCH = 32;
/**
 * Pieces worth a transaction without waiting for more: a download's pieces
 * come in runs (the scheduler's RUN_PIECES), and a batch's consecutive pieces
 * are one record (runs.ts), so a batch of 16 is one blob file for 4 MiB. Half
 * the download's MAX_UNSTORED (32), so requests go on while it is written.
 */
export const GATHER = 16;
/**
 * A smaller batch waits while pieces keep coming: it is written once a wait of
 * GATHER_MS brings none, or after GATHER_MAX_MS. A fast download (10 MiB/s,
 * a piece every 25 ms) gathers GATHER; a slow one waits GATHER_MS, not the
 * most: a stored piece is announced to the room only once written, and a
 * fixed 250 ms wait slowed the swarm simulation's trading downloaders 1.2-1.6x.
 */
export const GATHER_MS = 100;
export const GATHER_MAX_MS = 300;

/** Resolves after `ms`: a timer in the browser, a test's clock in Node if it wants one. */
export type Wait = (ms: number) => Promise<void>;
const realWait: Wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

interface Job {
  fileId: string;
  entry: PieceEntry;
  /** More pieces are on their way (a download's): the batch may wait for them. */
  gather: boolean;
  /** true once durable, false if withdrawn before it was written. */
  resolve: (written: boolean) => void;
  reject: (e: unknown) => void;
}

export class PieceWriter {
  private queue: Job[] = [];
  private writing: Promise<void> | null = null;
  /** Ends a batch's wait for more pieces early, once GATHER are queued. */
  private gathered: (() => void) | null = null;

  constructor(private readonly store: Store, private readonly wait: Wait = realWait) {}

  /**
   * Resolves true once the piece is durably stored, false if drop() withdrew
   * it first. The store's form of the piece is made here, in the task the
   * piece arrived in, not for the whole batch in the task that writes it.
   * `gather`: the caller's pieces arrive one by one (a download), so a batch holding
   * this one may wait for more. An import's pieces come as fast as they are read and
   * batch by themselves while a write is in flight.
   */
  write(fileId: string, index: number, data: Uint8Array, gather = false): Promise<boolean> {
    const entry = { index, data: this.store.prepare(data) };
    return new Promise((resolve, reject) => {
      this.queue.push({ fileId, entry, gather, resolve, reject });
      if (this.queue.length >= GATHER) this.gathered?.();
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
        if (this.queue.length < GATHER && this.queue.some((job) => job.gather)) await this.gather();
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

  /** Waits while pieces keep coming (GATHER_MS at a time, GATHER_MAX_MS at most), or until GATHER are queued. */
  private async gather(): Promise<void> {
    for (let waited = 0; waited < GATHER_MAX_MS && this.queue.length < GATHER; waited += GATHER_MS) {
      const before = this.queue.length;
      await new Promise<void>((resolve) => {
        this.gathered = resolve;
        void this.wait(GATHER_MS).then(resolve);
      }).finally(() => (this.gathered = null));
      if (this.queue.length <= before) return; // a whole wait brought nothing: the pieces have paused
    }
  }
}
