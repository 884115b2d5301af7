/**
 * Coalesced writes of file records: while one round runs, further changes
 * wait for the next. `persisting` is cleared in the same step as the last
 * check of `dirty`, so a change can never slip between them unwritten.
 */
export class RecordQueue {
  private dirty = new Set<string>();
  private persisting: Promise<void> | null = null;

  constructor(
    /** Writes the current record of `id` (nothing if it is gone). */
    private readonly write: (id: string) => Promise<void>,
    private readonly failed: (e: Error) => void,
  ) {}

  mark(id: string): void {
    this.dirty.add(id);
    if (this.persisting) return;
    this.persisting = this.persist();
    // Failures surface through flush() and the next piece write; keep the rejection observed here.
    this.persisting.catch((e: Error) => this.failed(e));
  }

  /** The record is going away: no write for it is pending any more. */
  forget(id: string): void {
    this.dirty.delete(id);
  }

  /** Resolves when every pending record write has reached storage; rejects if one failed. */
  async flush(): Promise<void> {
    while (this.persisting) await this.persisting;
  }

  private async persist(): Promise<void> {
    await null; // let mark() store this promise before the finally below may clear it
    try {
      while (this.dirty.size > 0) {
        const ids = [...this.dirty];
        this.dirty.clear();
        for (const id of ids) await this.write(id);
      }
    } finally {
      this.persisting = null;
    }
  }
}
