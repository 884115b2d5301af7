import { UploadQueue } from '../core/swarm/upload-queue.ts';
import { DATA_CHUNK, DATA_FRAME_BYTES, RejectReason, encodeFrame, writeDataFrame } from '../core/wire/frames.ts';
import { roomToSend, type DataLink } from '../net/link.ts';

/**
 * Serves piece requests. The pure UploadQueue decides whose request goes
 * next (round-robin, uploaders first); this class reads the piece from
 * storage and writes its DATA frames, waiting on the channel's
 * bufferedamountlow, never on a timer.
 */
export interface UploaderDeps {
  readPiece(fileId: string, piece: number): Promise<Uint8Array | undefined>;
  link(peer: string): DataLink | undefined;
  /** Whether the peer has sent us data recently (it gives as well as takes). */
  uploadsToUs(peer: string): boolean;
  served(peer: string, bytes: number): void;
  /** Optional test-only throttle: resolves when `bytes` more may be sent. */
  throttle?(bytes: number): Promise<void>;
}

/** Pieces being written to one peer at once: enough to keep its channel full. */
export const PIECES_IN_FLIGHT_PER_PEER = 2;
/** Pieces being read and written in total: bounds memory and storage reads. */
export const PIECES_IN_FLIGHT = 6;

export class Uploader {
  private queue = new UploadQueue();
  private inFlight = new Map<string, number>();
  private total = 0;
  /** Pieces being sent whose request was cancelled: the send stops at the next frame. */
  private cancelledInFlight = new Set<string>();
  private sending = new Set<string>();
  /**
   * Every DATA frame is written here and sent at once (the link copies it): one
   * buffer, not a 64 KiB allocation per frame. Pieces served at the same time
   * share it safely because nothing awaits between writing a frame and sending it.
   */
  private readonly frame = new Uint8Array(DATA_FRAME_BYTES);

  constructor(private readonly deps: UploaderDeps) {}

  /** Returns false when the peer is flooding us with requests. */
  request(peer: string, fileId: string, piece: number): boolean {
    if (!this.queue.enqueue({ peer, fileId, piece })) return false;
    this.pump();
    return true;
  }

  cancel(peer: string, fileId: string, piece: number): void {
    this.queue.cancel(peer, fileId, piece);
    const key = jobKey(peer, fileId, piece);
    if (this.sending.has(key)) this.cancelledInFlight.add(key);
  }

  /** Whether we owe this peer pieces (queued or being sent): then we keep it posted with keep-alives. */
  hasWork(peer: string): boolean {
    return (this.inFlight.get(peer) ?? 0) > 0 || this.queue.has(peer);
  }

  removePeer(peer: string): void {
    this.queue.removePeer(peer);
  }

  get queued(): number {
    return this.queue.size;
  }

  private pump(): void {
    while (this.total < PIECES_IN_FLIGHT) {
      const job = this.queue.next(
        (p) => (this.inFlight.get(p) ?? 0) >= PIECES_IN_FLIGHT_PER_PEER,
        (p) => this.deps.uploadsToUs(p),
      );
      if (!job) return;
      this.total++;
      this.inFlight.set(job.peer, (this.inFlight.get(job.peer) ?? 0) + 1);
      void this.serve(job.peer, job.fileId, job.piece).finally(() => {
        this.total--;
        this.inFlight.set(job.peer, (this.inFlight.get(job.peer) ?? 1) - 1);
        this.pump();
      });
    }
  }

  private async serve(peer: string, fileId: string, piece: number): Promise<void> {
    const key = jobKey(peer, fileId, piece);
    this.sending.add(key);
    try {
      await this.send(peer, fileId, piece, key);
    } finally {
      this.sending.delete(key);
      this.cancelledInFlight.delete(key);
    }
  }

  private async send(peer: string, fileId: string, piece: number, key: string): Promise<void> {
    const data = await this.deps.readPiece(fileId, piece);
    const link = this.deps.link(peer);
    if (!link) return;
    if (!data) return link.send(encodeFrame({ type: 'reject', fileId, piece, reason: RejectReason.notFound }));
    for (let offset = 0; offset < data.length; offset += DATA_CHUNK) {
      const bytes = data.subarray(offset, offset + DATA_CHUNK);
      if (this.deps.throttle) await this.deps.throttle(bytes.length);
      // The peer left, or no longer wants this piece (endgame, stall release): stop here.
      if (!this.deps.link(peer) || this.cancelledInFlight.has(key)) return;
      await roomToSend(link);
      link.send(writeDataFrame(this.frame, fileId, piece, offset, bytes));
    }
    this.deps.served(peer, data.length);
  }
}

const jobKey = (peer: string, fileId: string, piece: number) => `${peer}:${fileId}:${piece}`;
