import { Bitfield } from '../core/bitfield.ts';
import { concatBytes } from '../core/bytes.ts';
import type { Sha256 } from '../core/hash.ts';
import {
  HASH_BYTES, pieceCountFor, pieceLength, verifyManifest, verifyPiece, type FileMeta,
} from '../core/manifest/manifest.ts';
import { RateMeter } from '../core/rate.ts';
import { PieceScheduler } from '../core/swarm/scheduler.ts';
import { HASHES_PER_PART, MANIFEST_PIECE, type WireMessage } from '../core/wire/frames.ts';
import type { Library, LocalFile } from './library.ts';

/**
 * One file being fetched from the room: first its manifest (verified against
 * the file id), then its pieces from every peer that has them, each verified
 * before it is stored. Decisions come from the pure PieceScheduler; this class
 * turns them into messages and storage writes.
 */
export type DownloadStatus = 'manifest' | 'downloading' | 'complete' | 'error';

export interface DownloadDeps {
  library: Library;
  sha256: Sha256;
  now(): number;
  random(): number;
  /** Open peers the catalogue lists as holding the whole file. */
  fullHolders(): string[];
  /** Open peers we can talk to. */
  openPeers(): string[];
  send(peer: string, m: WireMessage): void;
  /** Let the peer's data through for this piece. */
  expect(peer: string, piece: number, length: number): void;
  /** Withdraw a request: CANCEL, and ignore data still on the way. */
  cancel(peer: string, piece: number): void;
  /** The peer sent a piece or manifest that failed verification. */
  misbehaved(peer: string, what: string): void;
  /** A piece is durably stored: tell the swarm. */
  stored(piece: number): void;
  changed(): void;
  completed(): void;
}

export const MANIFEST_TIMEOUT_MS = 10_000;
/**
 * Verified pieces waiting for storage. Beyond this we stop requesting: the
 * network must not outrun IndexedDB, or memory would grow with the file.
 */
export const MAX_UNSTORED = 16;

export interface DownloadStats {
  /** Pieces held from storage when this download (re)started: a resume never fetches these. */
  resumedWith: number;
  piecesReceived: number;
  /** Arrived when we already had (or were verifying) the piece: endgame copies and late answers. */
  duplicatePieces: number;
  badPieces: number;
}

export class Download {
  status: DownloadStatus = 'manifest';
  error: string | null = null;
  readonly rate = new RateMeter();
  readonly stats: DownloadStats = { resumedWith: 0, piecesReceived: 0, duplicatePieces: 0, badPieces: 0 };
  private scheduler: PieceScheduler | null = null;
  private local: LocalFile | null = null;
  /** What peers told us (bitfields, HAVEs) before we had the manifest. */
  private early = new Map<string, Bitfield>();
  private manifestFrom: { peer: string; deadline: number; parts: (Uint8Array | undefined)[] } | null = null;
  private manifestTried = new Set<string>();
  private verifying = new Set<number>();
  private unstored = 0;

  constructor(readonly meta: FileMeta, private readonly deps: DownloadDeps, local?: LocalFile) {
    if (local) this.begin(local);
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

  /** Peers that hold at least one piece we still lack. */
  get sources(): number {
    const s = this.scheduler;
    if (!s) return this.deps.fullHolders().length;
    return s.peerIds().filter((p) => {
      const has = s.peer(p)!.has;
      for (let i = 0; i < this.pieceCount; i++) if (has.get(i) && !s.have.get(i)) return true;
      return false;
    }).length;
  }

  /** Tell every open peer we want this file; holders answer with their bitfields. */
  start(): void {
    for (const peer of this.deps.openPeers()) this.sendInterest(peer);
    if (!this.scheduler) this.requestManifest();
    this.deps.changed();
  }

  sendInterest(peer: string): void {
    const bits = this.local?.have.bytes ?? new Bitfield(this.pieceCount).bytes;
    this.deps.send(peer, { type: 'bitfield', fileId: this.meta.id, bits });
  }

  peerOpened(peer: string): void {
    this.sendInterest(peer);
    if (this.status === 'manifest' && !this.manifestFrom) this.requestManifest();
  }

  peerGone(peer: string): void {
    this.early.delete(peer);
    this.scheduler?.removePeer(peer);
    if (this.manifestFrom?.peer === peer) this.nextManifestPeer(peer);
    this.fillAll();
  }

  onBitfield(peer: string, bits: Uint8Array): void {
    if (!this.scheduler) {
      this.early.set(peer, new Bitfield(this.pieceCount, bits));
      if (!this.manifestFrom) this.requestManifest();
      return;
    }
    this.scheduler.addPeer(peer, new Bitfield(this.pieceCount, bits), this.deps.now());
    this.fill(peer);
  }

  onHave(peer: string, piece: number): void {
    if (!this.scheduler) {
      // Kept for when the manifest arrives: a HAVE missed now would hide that piece's source for good.
      const early = this.early.get(peer) ?? new Bitfield(this.pieceCount);
      early.set(piece);
      this.early.set(peer, early);
      if (!this.manifestFrom) this.requestManifest(); // it can give us the manifest now
      return;
    }
    if (!this.scheduler.peer(peer)) return;
    this.scheduler.peerHas(peer, piece);
    this.fill(peer);
  }

  /** A neighbour announced it holds the whole file: a source for every piece (verification keeps it honest). */
  onHolder(peer: string): void {
    const full = Bitfield.full(this.pieceCount);
    if (!this.scheduler) {
      this.early.set(peer, full);
      if (this.status === 'manifest' && !this.manifestFrom) this.requestManifest();
      return;
    }
    if (!this.scheduler.peer(peer)) this.scheduler.addPeer(peer, full, this.deps.now());
    else for (let i = 0; i < this.pieceCount; i++) this.scheduler.peerHas(peer, i);
    this.fill(peer);
  }

  onReject(peer: string, piece: number): void {
    if (piece === MANIFEST_PIECE) {
      if (this.manifestFrom?.peer === peer) this.nextManifestPeer(peer);
      return;
    }
    this.scheduler?.failed(peer, piece, true);
    this.fillAll();
  }

  /** Any frame from the peer: it is alive. */
  onHeard(peer: string): void {
    this.scheduler?.heard(peer, this.deps.now());
  }

  onProgress(peer: string, bytes: number): void {
    this.scheduler?.progress(peer, bytes, this.deps.now());
  }

  onManifestPart(peer: string, part: number, parts: number, hashes: Uint8Array): void {
    const m = this.manifestFrom;
    if (!m || m.peer !== peer) return; // a late answer from a peer we gave up on
    const expectedParts = Math.max(1, Math.ceil(this.pieceCount / HASHES_PER_PART));
    const expectedHashes = Math.min(HASHES_PER_PART, this.pieceCount - part * HASHES_PER_PART);
    if (parts !== expectedParts || hashes.length !== Math.max(0, expectedHashes) * HASH_BYTES) {
      return this.badManifest(peer, 'manifest parts do not fit the announced size');
    }
    m.parts[part] = hashes.slice();
    if (m.parts.filter(Boolean).length === parts) void this.finishManifest(peer, m.parts as Uint8Array[]);
  }

  async onPiece(peer: string, piece: number, data: Uint8Array): Promise<void> {
    const s = this.scheduler;
    const local = this.local;
    if (!s || !local || this.status !== 'downloading') return;
    this.stats.piecesReceived++;
    if (s.have.get(piece) || this.verifying.has(piece)) {
      this.stats.duplicatePieces++;
      s.failed(peer, piece); // not the peer's fault: endgame or a late answer
      return this.fill(peer);
    }
    this.verifying.add(piece);
    const good = await verifyPiece(local.manifest, piece, data, this.deps.sha256);
    this.verifying.delete(piece);
    if (!good) {
      this.stats.badPieces++;
      s.failed(peer, piece);
      this.deps.misbehaved(peer, `piece ${piece} of ${this.meta.name} failed verification`);
      return this.fillAll();
    }
    for (const other of s.completed(peer, piece)) this.deps.cancel(other, piece);
    this.unstored++;
    this.fill(peer);
    try {
      await this.deps.library.storePiece(this.meta.id, piece, data);
    } catch (e) {
      return this.fail(`could not store ${this.meta.name}: ${(e as Error).message}`);
    } finally {
      this.unstored--;
    }
    if (this.unstored === MAX_UNSTORED - 1) this.fillAll(); // storage caught up: resume requesting
    this.rate.add(data.length, this.deps.now());
    this.deps.stored(piece);
    if (local.have.complete && this.status === 'downloading') {
      this.status = 'complete';
      this.deps.completed();
    }
    this.deps.changed();
  }

  tick(now: number): void {
    if (this.status === 'manifest') {
      if (this.manifestFrom && now > this.manifestFrom.deadline) this.nextManifestPeer(this.manifestFrom.peer);
      else if (!this.manifestFrom) this.requestManifest();
      return;
    }
    for (const { peer, pieces } of this.scheduler?.tick(now) ?? []) for (const piece of pieces) this.deps.cancel(peer, piece);
    this.fillAll();
  }

  /** Stops the download (storage failure or the user's cancel). Stored pieces stay valid. */
  fail(message: string): void {
    if (this.status === 'error') return;
    this.status = 'error';
    this.error = message;
    const s = this.scheduler;
    for (const peer of s?.peerIds() ?? []) for (const piece of s!.outstanding(peer)) this.deps.cancel(peer, piece);
    this.deps.changed();
  }

  private begin(local: LocalFile): void {
    this.local = local;
    this.stats.resumedWith = local.have.count;
    this.scheduler = new PieceScheduler(local.manifest.pieceCount, local.manifest.pieceSize, new Bitfield(local.have.length, local.have.bytes), this.deps.random);
    this.manifestFrom = null;
    this.status = local.have.complete ? 'complete' : 'downloading';
    for (const [peer, bits] of this.early) this.scheduler.addPeer(peer, bits, this.deps.now());
    this.early.clear();
    this.deps.changed();
    if (this.status === 'complete') return this.deps.completed();
    this.fillAll();
  }

  private requestManifest(): void {
    const open = new Set(this.deps.openPeers());
    const partial = [...this.early].filter(([, bits]) => bits.count > 0).map(([p]) => p);
    const candidates = [...new Set([...this.deps.fullHolders(), ...partial])].filter((p) => open.has(p) && !this.manifestTried.has(p));
    const peer = candidates[Math.floor(this.deps.random() * candidates.length)];
    if (peer === undefined) {
      this.manifestFrom = null;
      this.manifestTried.clear(); // everyone failed or left: try them all again on the next tick
      return;
    }
    this.manifestFrom = { peer, deadline: this.deps.now() + MANIFEST_TIMEOUT_MS, parts: [] };
    this.deps.send(peer, { type: 'want-manifest', fileId: this.meta.id });
  }

  private nextManifestPeer(peer: string): void {
    this.manifestTried.add(peer);
    this.requestManifest();
  }

  private badManifest(peer: string, what: string): void {
    this.deps.misbehaved(peer, what);
    this.nextManifestPeer(peer);
  }

  private async finishManifest(peer: string, parts: Uint8Array[]): Promise<void> {
    const verified = await verifyManifest(this.meta.id, this.meta.size, concatBytes(parts), this.deps.sha256);
    if (this.status !== 'manifest' || this.manifestFrom?.peer !== peer) return;
    if (!verified.ok) return this.badManifest(peer, verified.error);
    this.begin(this.deps.library.addDownload(this.meta, verified.value));
    for (const p of this.deps.openPeers()) this.sendInterest(p);
  }

  private fill(peer: string): void {
    const s = this.scheduler;
    const local = this.local;
    if (!s || !local || this.status !== 'downloading' || this.unstored >= MAX_UNSTORED) return;
    for (const piece of s.fill(peer, this.deps.now())) {
      this.deps.expect(peer, piece, pieceLength(local.manifest, piece));
      this.deps.send(peer, { type: 'request', fileId: this.meta.id, piece });
    }
  }

  private fillAll(): void {
    for (const peer of this.scheduler?.peerIds() ?? []) this.fill(peer);
  }
}
