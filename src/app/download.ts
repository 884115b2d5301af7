import { concatBytes } from '../core/bytes.ts';
import type { Sha256 } from '../core/hash.ts';
import {
  HASH_BYTES, pieceCountFor, pieceLength, verifyManifest, verifyPiece, type FileMeta,
} from '../core/manifest/manifest.ts';
import { RateMeter } from '../core/rate.ts';
import type { Availability, PieceView } from '../core/swarm/availability.ts';
import { PieceScheduler } from '../core/swarm/scheduler.ts';
import { HASHES_PER_PART, MANIFEST_PIECE, type WireMessage } from '../core/wire/frames.ts';
import type { Manifest } from '../core/manifest/manifest.ts';
import type { Library, LocalFile } from './library.ts';

/**
 * One file being fetched from the room: first its manifest (size and piece
 * hashes, verified against the file id), then its pieces from every linked
 * peer that has them, each verified before it is stored. Who holds what is
 * read from the availability record; which pieces we hold, from the library.
 * Decisions come from the pure PieceScheduler; this class turns them into
 * messages and storage writes.
 */
export type DownloadStatus = 'manifest' | 'downloading' | 'complete' | 'stopped';

export interface DownloadDeps {
  library: Library;
  availability: Availability;
  sha256: Sha256;
  now(): number;
  random(): number;
  /** Peers with an open link. */
  openPeers(): string[];
  send(peer: string, m: WireMessage): void;
  /** Let the peer's data through for this piece. */
  expect(peer: string, piece: number, length: number): void;
  /** Withdraw a request: CANCEL, and ignore data still on the way. */
  cancel(peer: string, piece: number): void;
  /** The peer sent a piece or manifest that failed verification. */
  misbehaved(peer: string, what: string): void;
  /** A piece is durably stored: tell the room. */
  stored(piece: number): void;
  changed(): void;
  completed(): void;
  /** Storage failed: the download cannot go on. */
  failed(message: string): void;
  /** Who may be asked for which pieces: all holders, or fewer (a draft: its origin, hashes it signed; app/draft-fetch.ts). */
  restrict?(view: PieceView): PieceView;
  /** Starts holding the file once its manifest is verified (default: library.addDownload). */
  hold?(meta: FileMeta, manifest: Manifest): Promise<LocalFile>;
}

export const MANIFEST_TIMEOUT_MS = 10_000;
/**
 * Verified pieces waiting for storage. Beyond this we stop requesting: the
 * network must not outrun IndexedDB, or memory would grow with the file.
 * Twice PieceWriter's GATHER, so requests go on while a gathered run is
 * written: 8 MiB of pieces in the JS heap at most.
 */
export const MAX_UNSTORED = 32;
/**
 * Stored pieces tell the screen at most this often. Every refresh rebuilds the
 * room's state and re-renders it: one per piece cost the downloader's renderer
 * about 10 ms of CPU per MiB (BENCHMARKS.md, issue 11). Completion and
 * failures still refresh at once, and the engine's tick every second.
 */
export const PROGRESS_INTERVAL_MS = 250;

export interface DownloadStats {
  /** Pieces held from storage when this download (re)started: a resume never fetches these. */
  resumedWith: number;
  piecesReceived: number;
  /** Arrived when we already had (or were verifying) the piece: endgame copies and late answers. */
  duplicatePieces: number;
  badPieces: number;
}

interface ManifestRequest {
  peer: string;
  deadline: number;
  size: number | null;
  parts: (Uint8Array | undefined)[];
}

export class Download {
  status: DownloadStatus = 'manifest';
  readonly rate = new RateMeter();
  readonly stats: DownloadStats = { resumedWith: 0, piecesReceived: 0, duplicatePieces: 0, badPieces: 0 };
  /** The person wants the file saved once complete; kept on the file's record once there is one. */
  saveWanted = false;
  private scheduler: PieceScheduler | null = null;
  private local: LocalFile | null = null;
  private manifestFrom: ManifestRequest | null = null;
  private manifestTried = new Set<string>();
  private verifying = new Set<number>();
  private unstored = 0;
  private progressShown = -Infinity;
  /** Where a player reads the file (bytes), kept here until the manifest gives us a scheduler. */
  private focus: number | null = null;

  constructor(readonly meta: FileMeta, private readonly deps: DownloadDeps, local?: LocalFile) {
    if (local) this.local = local;
  }

  get fileId(): string {
    return this.meta.id;
  }

  get pieceCount(): number {
    return this.local?.manifest.pieceCount ?? pieceCountFor(this.meta.size);
  }

  get bytesDone(): number {
    const l = this.local;
    if (!l) return 0;
    const last = l.manifest.pieceCount - 1;
    const short = l.have.get(last) ? l.manifest.pieceSize - pieceLength(l.manifest, last) : 0;
    return l.have.count * l.manifest.pieceSize - short;
  }

  /** Linked peers that hold at least one piece we still lack. */
  get sources(): number {
    const local = this.local;
    const open = new Set(this.deps.openPeers());
    const peers = this.deps.availability.peersWith(this.fileId).filter((p) => open.has(p));
    if (!local) return peers.length;
    return peers.filter((p) => {
      for (let i = 0; i < local.manifest.pieceCount; i++) if (!local.have.get(i) && this.deps.availability.holds(p, this.fileId, i)) return true;
      return false;
    }).length;
  }

  start(): void {
    if (this.local) this.begin(this.local);
    else this.requestManifest();
    this.deps.changed();
  }

  /** A player reads the file from `byteOffset` (null: it closed): those pieces go first. */
  setFocus(byteOffset: number | null): void {
    if (byteOffset === this.focus) return;
    this.focus = byteOffset;
    this.scheduler?.setFocus(byteOffset);
    this.fillAll();
  }

  /** Something changed about what `peer` holds, or its link opened: use it. */
  peerUpdated(peer: string): void {
    if (this.status === 'manifest') {
      if (!this.manifestFrom) this.requestManifest();
      return;
    }
    this.fill(peer);
  }

  peerGone(peer: string): void {
    this.scheduler?.removePeer(peer);
    if (this.manifestFrom?.peer === peer) this.nextManifestPeer(peer);
    this.fillAll();
  }

  /** A piece we held went missing from storage (the library cleared its bit): fetch it again. */
  pieceLost(): void {
    if (this.status === 'complete') this.status = 'downloading';
    this.fillAll();
    this.deps.changed();
  }

  /** The peer refused: it lacks the piece (`lacks`), or is busy and may serve it later. */
  onReject(peer: string, piece: number, lacks: boolean): void {
    if (piece === MANIFEST_PIECE) {
      if (this.manifestFrom?.peer === peer) this.nextManifestPeer(peer);
      return;
    }
    if (lacks) this.deps.availability.setLacks(peer, this.fileId, piece);
    this.scheduler?.failed(peer, piece);
    this.fillAll();
  }

  /** Any frame from the peer: it is alive. */
  onHeard(peer: string): void {
    this.scheduler?.heard(peer, this.deps.now());
  }

  onProgress(peer: string, bytes: number): void {
    this.scheduler?.progress(peer, bytes, this.deps.now());
  }

  onManifestPart(peer: string, part: number, parts: number, size: number, hashes: Uint8Array): void {
    const m = this.manifestFrom;
    if (!m || m.peer !== peer) return; // a late answer from a peer we gave up on
    const pieceCount = pieceCountFor(size);
    const expectedParts = Math.max(1, Math.ceil(pieceCount / HASHES_PER_PART));
    const expectedHashes = Math.max(0, Math.min(HASHES_PER_PART, pieceCount - part * HASHES_PER_PART));
    if ((m.size !== null && m.size !== size) || parts !== expectedParts || hashes.length !== expectedHashes * HASH_BYTES) {
      return this.badManifest(peer, 'manifest parts do not fit together');
    }
    m.size = size;
    m.parts[part] = hashes.slice();
    if (m.parts.filter(Boolean).length === parts) void this.finishManifest(peer, size, m.parts as Uint8Array[]);
  }

  /**
   * A whole piece from `peer`: verified, then stored. Resolves once `data` is no longer
   * read nor kept (stored, or dropped): the caller then reuses its buffer
   * (core/wire/assembler.ts recycle). Keep nothing that refers to `data` beyond that.
   */
  async onPiece(peer: string, piece: number, data: Uint8Array): Promise<void> {
    const s = this.scheduler;
    const local = this.local;
    if (!s || !local || this.status !== 'downloading') return;
    this.stats.piecesReceived++;
    if (local.have.get(piece) || s.isArriving(piece) || this.verifying.has(piece)) {
      this.stats.duplicatePieces++;
      s.failed(peer, piece); // not the peer's fault: endgame or a late answer
      return this.fill(peer);
    }
    this.verifying.add(piece);
    const good = await verifyPiece(local.manifest, piece, data, this.deps.sha256);
    this.verifying.delete(piece);
    if (this.status !== 'downloading') return;
    if (!good) {
      this.stats.badPieces++;
      s.failed(peer, piece);
      this.deps.misbehaved(peer, `piece ${piece} of ${this.meta.name} failed verification`);
      return this.fillAll();
    }
    for (const other of s.completed(peer, piece)) this.deps.cancel(other, piece);
    await this.store(s, local, piece, data);
  }

  private async store(s: PieceScheduler, local: LocalFile, piece: number, data: Uint8Array): Promise<void> {
    this.unstored++;
    this.fillAll();
    let stored: boolean;
    try {
      stored = await this.deps.library.storePiece(local, piece, data, true);
    } catch (e) {
      s.settled(piece);
      this.unstored--;
      return this.deps.failed(`could not store ${this.meta.name}: ${(e as Error).message}`);
    }
    s.settled(piece);
    this.unstored--;
    if (!stored || this.status !== 'downloading') return; // cancelled or removed meanwhile
    this.rate.add(data.length, this.deps.now());
    this.deps.stored(piece);
    if (local.have.complete) return this.complete();
    if (this.unstored === MAX_UNSTORED - 1) this.fillAll(); // storage caught up: resume requesting
    this.showProgress();
  }

  private showProgress(): void {
    const now = this.deps.now();
    if (now - this.progressShown < PROGRESS_INTERVAL_MS) return;
    this.progressShown = now;
    this.deps.changed();
  }

  tick(now: number): void {
    if (this.status === 'manifest') {
      // The same bytes were shared here meanwhile: their verified manifest is already ours.
      const held = this.deps.library.get(this.fileId);
      if (held?.rooms.includes(this.deps.library.room)) return this.begin(held);
      if (this.manifestFrom && now > this.manifestFrom.deadline) this.nextManifestPeer(this.manifestFrom.peer);
      else if (!this.manifestFrom) this.requestManifest();
      return;
    }
    for (const { peer, pieces } of this.scheduler?.tick(now) ?? []) for (const piece of pieces) this.deps.cancel(peer, piece);
    this.fillAll();
  }

  /** Stops for good (cancel, removal, storage failure): withdraws every request. Stored pieces stay valid. */
  stop(): void {
    if (this.status === 'stopped') return;
    this.status = 'stopped';
    const s = this.scheduler;
    for (const peer of s?.peerIds() ?? []) for (const piece of s!.outstanding(peer)) this.deps.cancel(peer, piece);
    this.manifestFrom = null;
  }

  private complete(): void {
    if (this.status !== 'downloading') return;
    this.status = 'complete';
    this.deps.completed();
  }

  private begin(local: LocalFile): void {
    this.local = local;
    this.stats.resumedWith = local.have.count;
    const all = this.deps.availability.view(this.fileId, local.manifest.pieceCount);
    const view = this.deps.restrict?.(all) ?? all;
    this.scheduler = new PieceScheduler(local.manifest.pieceCount, local.manifest.pieceSize, local.have, view, this.deps.random);
    this.scheduler.setFocus(this.focus);
    this.manifestFrom = null;
    this.status = 'downloading';
    if (local.have.complete) return this.complete();
    this.fillAll();
  }

  private requestManifest(): void {
    const open = new Set(this.deps.openPeers());
    const candidates = this.deps.availability.peersWith(this.fileId).filter((p) => open.has(p) && !this.manifestTried.has(p));
    const peer = candidates[Math.floor(this.deps.random() * candidates.length)];
    if (peer === undefined) {
      this.manifestFrom = null;
      this.manifestTried.clear(); // everyone failed or left: try them all again on the next tick
      return;
    }
    this.manifestFrom = { peer, deadline: this.deps.now() + MANIFEST_TIMEOUT_MS, size: null, parts: [] };
    this.deps.send(peer, { type: 'want-manifest', fileId: this.fileId });
  }

  private nextManifestPeer(peer: string): void {
    this.manifestTried.add(peer);
    this.requestManifest();
  }

  private badManifest(peer: string, what: string): void {
    this.deps.misbehaved(peer, what);
    this.nextManifestPeer(peer);
  }

  private async finishManifest(peer: string, size: number, parts: Uint8Array[]): Promise<void> {
    const verified = await verifyManifest(this.fileId, size, concatBytes(parts), this.deps.sha256);
    if (this.status !== 'manifest' || this.manifestFrom?.peer !== peer) return;
    if (!verified.ok) return this.badManifest(peer, verified.error);
    const meta = { ...this.meta, size };
    const local = await (this.deps.hold?.(meta, verified.value) ?? this.deps.library.addDownload(meta, verified.value));
    if (this.status !== 'manifest') return; // cancelled while storage settled
    if (this.saveWanted) this.deps.library.setSaveWanted(this.fileId, true);
    this.begin(local);
    this.deps.changed();
  }

  /** Requests for `peer`; `open` lets fillAll look up the open links once, not once per peer. */
  private fill(peer: string, open: ReadonlySet<string> = new Set(this.deps.openPeers())): void {
    const s = this.scheduler;
    const local = this.local;
    if (!s || !local || this.status !== 'downloading' || this.unstored >= MAX_UNSTORED) return;
    if (!open.has(peer)) return;
    for (const piece of s.fill(peer, this.deps.now())) {
      this.deps.expect(peer, piece, pieceLength(local.manifest, piece));
      this.deps.send(peer, { type: 'request', fileId: this.fileId, piece });
    }
  }

  private fillAll(): void {
    if (!this.scheduler) return;
    // The same bytes may have been completed another way (shared again from the person's file).
    if (this.local?.have.complete) return this.complete();
    const open = new Set(this.deps.openPeers());
    for (const peer of this.deps.availability.peersWith(this.fileId)) if (open.has(peer)) this.fill(peer, open);
  }
}
