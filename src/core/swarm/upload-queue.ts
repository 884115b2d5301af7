/**
 * Which piece to serve next, across every peer asking. Round-robin over
 * peers, so one greedy downloader cannot starve the others; peers that also
 * upload to us go first when capacity is short (a simple tit-for-tat against
 * free riding). Pure: the caller says which peers are busy and who uploads.
 */
export interface UploadJob {
  peer: string;
  fileId: string;
  piece: number;
}

/** Requests a peer may have queued with us; more is a flood and is refused. */
export const MAX_QUEUED_PER_PEER = 256;

export class UploadQueue {
  private queues = new Map<string, UploadJob[]>();
  private order: string[] = [];

  /** Returns false when the peer already has too many requests queued. */
  enqueue(job: UploadJob): boolean {
    let q = this.queues.get(job.peer);
    if (!q) {
      q = [];
      this.queues.set(job.peer, q);
      this.order.push(job.peer);
    }
    if (q.length >= MAX_QUEUED_PER_PEER) return false;
    if (!q.some((j) => j.fileId === job.fileId && j.piece === job.piece)) q.push(job);
    return true;
  }

  cancel(peer: string, fileId: string, piece: number): void {
    const q = this.queues.get(peer);
    if (q) this.queues.set(peer, q.filter((j) => !(j.fileId === fileId && j.piece === piece)));
  }

  removePeer(peer: string): void {
    this.queues.delete(peer);
    this.order = this.order.filter((p) => p !== peer);
  }

  has(peer: string): boolean {
    return (this.queues.get(peer)?.length ?? 0) > 0;
  }

  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /**
   * The next job from the first eligible peer in round-robin order, preferring
   * peers for which `uploadsToUs` is true. That peer moves to the back.
   */
  next(isBusy: (peer: string) => boolean, uploadsToUs: (peer: string) => boolean): UploadJob | undefined {
    const ready = this.order.filter((p) => (this.queues.get(p)?.length ?? 0) > 0 && !isBusy(p));
    const peer = ready.find(uploadsToUs) ?? ready[0];
    if (peer === undefined) return undefined;
    const job = this.queues.get(peer)!.shift()!;
    this.order = [...this.order.filter((p) => p !== peer), peer];
    return job;
  }
}
