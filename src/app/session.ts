import { HASH_BYTES, type Manifest } from '../core/manifest/manifest.ts';
import { cleanDisplayName } from '../core/names.ts';
import type { Result } from '../core/result.ts';
import type { Availability } from '../core/swarm/availability.ts';
import { PieceAssembler } from '../core/wire/assembler.ts';
import {
  HASHES_PER_PART, MANIFEST_PIECE, RejectReason, decodeFrame, encodeFrame, type WireMessage,
} from '../core/wire/frames.ts';
import type { DataLink } from '../net/link.ts';
import type { Download } from './download.ts';
import type { Fingerprints } from './hello.ts';
import type { LocalFile } from './library.ts';
import type { Uploader } from './uploader.ts';

/**
 * One open link to a peer and the handling of every frame it sends. The first
 * frame must be a HELLO that proves the peer's identity on this link; frames
 * after it wait until that proof is checked. Anything malformed or out of
 * bounds ends the link through `ban(code)`, which needs proof; anything merely
 * too much (renames, unknown files) is dropped and counted.
 */
type Hello = Extract<WireMessage, { type: 'hello' }>;

export interface SessionContext {
  availability: Availability;
  uploader: Uploader;
  download(fileId: string): Download | undefined;
  /**
   * The verified manifest of a file, whatever room it is kept for: bounds the
   * peer's piece numbers. None for a file the peer may not know of (app/audience.ts).
   */
  manifestOf(peer: string, fileId: string): Manifest | undefined;
  /** A file we serve to this peer (of this room, held, and the peer in its audience), or undefined: "not found". */
  servable(peer: string, fileId: string): LocalFile | undefined;
  /** Whether to take the peer's HAVE or BITFIELD for a file: not from outside its audience (app/audience.ts; dropped, counted). */
  takesHave(peer: string, fileId: string): boolean;
  /** Statements about files shared with chosen people, sent to us as one of them (AUDIENCE). */
  onAudience(session: Session, json: unknown): void;
  /** Checks the peer's first HELLO; resolves its identity key, or an error for a ban. */
  checkHello(session: Session, m: Hello): Promise<Result<Uint8Array>>;
  /** The peer asks for the hashes of a draft: true if it is ours (app/draft-share.ts sends them). */
  subscribeDraft(peer: string, fileId: string): boolean;
  /** A signed range of a draft's hashes (app/draft-fetch.ts judges it). */
  onDraftHashes(session: Session, m: Extract<WireMessage, { type: 'draft-hashes' }>): void;
  /** The peer proved who it is: the link is ready. */
  onReady(session: Session): void;
  onRenamed(session: Session): void;
  /** Any frame from the peer: it is alive (stall detection). */
  heard(peer: string): void;
  onGossip(session: Session, json: unknown): void;
  onCatalogue(session: Session, json: unknown): void;
  /** Lazy gossip (core/gossip/lazy.ts): a neighbour's recent ids, or its ask for some of ours. */
  onLazy(session: Session, kind: 'ihave' | 'iwant', json: unknown): void;
  /** A search through the mesh (core/gossip/query.ts): a query to take, or answers to route. */
  onQuery(session: Session, kind: 'query' | 'query-hit', json: unknown): void;
  /** A signal on its way through the mesh (core/mesh/signal-route.ts): for us, or to forward. */
  onMeshSignal(session: Session, json: unknown): void;
  /** A signed presence statement (core/gossip/presence.ts). */
  onPresence(session: Session, json: unknown): void;
  /** What the peer holds of a file changed. */
  peerUpdated(peer: string, fileId: string): void;
  /** The peer prunes our mesh link (net/peer-manager.ts), naming other members to try. */
  onPrune(session: Session, candidates: string[]): void;
  /** The peer runs another version of meshdrop: end the link, refuse nothing. */
  incompatible(peer: string, detail: string): void;
  /** End the link and refuse the peer for this room. Only for proof of misbehaviour. */
  ban(peer: string, code: string, detail: string): void;
}

/** Frames a peer may send before its HELLO is checked (its catalogue and bitfields follow at once). */
export const MAX_FRAMES_BEFORE_READY = 8_192;
/** Renames per link: a few at once, then one a second; more are dropped, not punished. */
export const RENAME_BURST = 5;
export const RENAMES_PER_SECOND = 1;
/** Data frames for pieces we no longer expect may still be on the way; remember that many. */
const MAX_RETIRED = 4_096;

export class Session {
  name: string | null = null;
  /** The peer's identity key, once its HELLO is checked. */
  publicKey: Uint8Array | null = null;
  readonly assembler = new PieceAssembler();
  strikes = 0;
  lastReceived = 0;
  /** Last piece data from this peer: whether it uploads to us (fairness). */
  lastData = 0;
  /** Renames superseded by a newer one before the budget let them show. */
  droppedRenames = 0;
  private pendingName: string | null = null;
  /** Pieces we asked this peer for and no longer expect (done, cancelled, refused): late data is harmless. */
  private retired = new Set<string>();
  private firstHello: Hello | null = null;
  private outbox: WireMessage[] | null = [];
  private waiting: WireMessage[] = [];
  private renameTokens = RENAME_BURST;
  private renameRefilled = 0;

  constructor(
    readonly id: string,
    readonly link: DataLink,
    private readonly ctx: SessionContext,
    /** Both DTLS certificate fingerprints of this link, which HELLO binds to the identities. */
    readonly fingerprints: Fingerprints | null = null,
  ) {}

  get ready(): boolean {
    return this.publicKey !== null;
  }

  /** Our HELLO has gone out: later ones (renames) may follow it. */
  get started(): boolean {
    return this.outbox === null;
  }

  /** Everything we send waits for our own HELLO, which must be the first frame on the link. */
  send(m: WireMessage): void {
    if (this.outbox) this.outbox.push(m);
    else this.link.send(encodeFrame(m));
  }

  /** Sends our HELLO, then whatever was queued before it. */
  start(hello: WireMessage): void {
    const queued = this.outbox ?? [];
    this.outbox = null;
    this.link.send(encodeFrame(hello));
    for (const m of queued) this.link.send(encodeFrame(m));
  }

  /** Withdraw a request we made: tell the peer, and ignore its data still in flight. */
  cancel(fileId: string, piece: number): void {
    this.retire(fileId, piece);
    this.send({ type: 'cancel', fileId, piece });
  }

  expect(fileId: string, piece: number, length: number): void {
    if (this.assembler.isExpected(fileId, piece)) return; // already on its way: keep what has arrived
    this.retired.delete(`${fileId}:${piece}`);
    this.assembler.expect(fileId, piece, length);
  }

  /** No longer expected from this peer; its late frames for the piece are ignored, not punished. */
  private retire(fileId: string, piece: number): void {
    this.assembler.cancel(fileId, piece);
    this.retired.add(`${fileId}:${piece}`);
    if (this.retired.size > MAX_RETIRED) this.retired.delete(this.retired.values().next().value!);
  }

  receive(bytes: Uint8Array, now: number): void {
    const decoded = decodeFrame(bytes);
    if (!decoded.ok) return this.ctx.ban(this.id, decoded.code, decoded.error);
    const m = decoded.value;
    this.lastReceived = now;
    this.ctx.heard(this.id);
    if (this.ready) return this.handle(m);
    if (!this.firstHello) {
      if (m.type !== 'hello') return this.ctx.ban(this.id, 'ERR_PROTOCOL', `${m.type} before hello`);
      this.firstHello = m;
      this.renameRefilled = now;
      void this.checkFirstHello(m);
      return;
    }
    if (this.waiting.length >= MAX_FRAMES_BEFORE_READY) return this.ctx.ban(this.id, 'ERR_PROTOCOL', 'too many frames before its hello was checked');
    this.waiting.push(m);
  }

  private async checkFirstHello(m: Hello): Promise<void> {
    const checked = await this.ctx.checkHello(this, m);
    // Another version of meshdrop is no proof of anything (a phone's cached app, a tab not reloaded): no ban.
    if (!checked.ok && checked.code === 'ERR_VERSION') return this.ctx.incompatible(this.id, checked.error);
    if (!checked.ok) return this.ctx.ban(this.id, checked.code, checked.error);
    this.publicKey = checked.value;
    this.name = cleanDisplayName(m.name) || null;
    this.ctx.onReady(this);
    const waiting = this.waiting;
    this.waiting = [];
    for (const frame of waiting) this.handle(frame);
  }

  private handle(m: WireMessage): void {
    switch (m.type) {
      case 'hello':
        return this.onRename(m);
      case 'gossip':
        return this.ctx.onGossip(this, m.json);
      case 'catalogue':
        return this.ctx.onCatalogue(this, m.json);
      case 'audience':
        return this.ctx.onAudience(this, m.json);
      case 'ihave':
      case 'iwant':
        return this.ctx.onLazy(this, m.type, m.json);
      case 'mesh-signal':
        return this.ctx.onMeshSignal(this, m.json);
      case 'query':
      case 'query-hit':
        return this.ctx.onQuery(this, m.type, m.json);
      case 'presence':
        return this.ctx.onPresence(this, m.json);
      case 'want-manifest':
        return this.sendManifest(m.fileId);
      case 'manifest-part':
        return this.ctx.download(m.fileId)?.onManifestPart(this.id, m.part, m.parts, m.size, m.hashes);
      case 'request':
        return this.onRequest(m.fileId, m.piece);
      case 'cancel':
        return this.ctx.uploader.cancel(this.id, m.fileId, m.piece);
      case 'keepalive':
        return;
      case 'prune':
        return this.ctx.onPrune(this, m.candidates);
      case 'reject':
        this.retire(m.fileId, m.piece);
        return this.ctx.download(m.fileId)?.onReject(this.id, m.piece, m.reason === RejectReason.notFound);
      case 'data':
        return this.onData(m.fileId, m.piece, m.offset, m.bytes);
      case 'have':
        if (!this.ctx.takesHave(this.id, m.fileId)) return;
        if (this.pieceBeyondEnd(m.fileId, m.piece)) return this.ctx.ban(this.id, 'ERR_FRAME_FIELD', `have for piece ${m.piece}, past the end of the file`);
        this.ctx.availability.setHave(this.id, m.fileId, m.piece);
        return this.ctx.peerUpdated(this.id, m.fileId);
      case 'bitfield':
        return this.onBitfield(m.fileId, m.bits);
      case 'draft-hashes':
        return this.ctx.onDraftHashes(this, m);
    }
  }

  /** A rename: the same proof as the first HELLO, and not too often. */
  private onRename(m: Hello): void {
    const first = this.firstHello!;
    if (m.key !== first.key || m.sig !== first.sig) return this.ctx.ban(this.id, 'ERR_PROTOCOL', 'hello with another identity on the same link');
    const clean = cleanDisplayName(m.name);
    if (!clean) return; // nothing visible: keep the name we had
    if (this.pendingName !== null) this.droppedRenames++; // superseded before it was shown
    this.pendingName = clean;
    this.applyRename(this.lastReceived);
  }

  /**
   * Shows the latest rename if the budget allows: renames beyond it wait (the
   * newest replacing older ones, which are dropped and counted) and are shown
   * on a later tick, so the name on screen is never left stale.
   */
  applyRename(now: number): void {
    if (this.pendingName === null) return;
    this.renameTokens = Math.min(RENAME_BURST, this.renameTokens + ((now - this.renameRefilled) / 1000) * RENAMES_PER_SECOND);
    this.renameRefilled = now;
    if (this.renameTokens < 1) return;
    this.renameTokens--;
    this.name = this.pendingName;
    this.pendingName = null;
    this.ctx.onRenamed(this);
  }

  private onRequest(fileId: string, piece: number): void {
    if (this.pieceBeyondEnd(fileId, piece)) return this.ctx.ban(this.id, 'ERR_FRAME_FIELD', `request for piece ${piece}, past the end of the file`);
    // Only files of this room are served here (drafts by their origin only), to their audience, and only pieces we hold.
    if (!this.ctx.servable(this.id, fileId)?.have.get(piece)) {
      return this.send({ type: 'reject', fileId, piece, reason: RejectReason.notFound });
    }
    if (!this.ctx.uploader.request(this.id, fileId, piece)) {
      this.send({ type: 'reject', fileId, piece, reason: RejectReason.busy }); // over our queue: refused, not punished
    }
  }

  private sendManifest(fileId: string): void {
    if (this.ctx.subscribeDraft(this.id, fileId)) return;
    const local = this.ctx.servable(this.id, fileId);
    if (!local) return this.send({ type: 'reject', fileId, piece: MANIFEST_PIECE, reason: RejectReason.notFound });
    const { hashes, pieceCount, size } = local.manifest;
    const parts = Math.max(1, Math.ceil(pieceCount / HASHES_PER_PART));
    for (let part = 0; part < parts; part++) {
      const slice = hashes.subarray(part * HASHES_PER_PART * HASH_BYTES, (part + 1) * HASHES_PER_PART * HASH_BYTES);
      this.send({ type: 'manifest-part', fileId, part, parts, size, hashes: slice });
    }
  }

  private onData(fileId: string, piece: number, offset: number, bytes: Uint8Array): void {
    const added = this.assembler.add(fileId, piece, offset, bytes);
    if (!added.ok) {
      if (added.code === 'ERR_UNSOLICITED' && this.retired.has(`${fileId}:${piece}`)) return; // late, not hostile
      return this.ctx.ban(this.id, added.code, added.error);
    }
    this.lastData = this.lastReceived;
    const download = this.ctx.download(fileId);
    download?.onProgress(this.id, bytes.length);
    if (!added.value) return;
    this.retire(fileId, piece); // frames of a duplicate response may follow
    const data = added.value;
    if (download) void download.onPiece(this.id, piece, data).then(() => this.assembler.recycle(data));
  }

  /** Its pieces of a file. The length is checked only against a manifest we verified: that is proof. */
  private onBitfield(fileId: string, bits: Uint8Array): void {
    if (!this.ctx.takesHave(this.id, fileId)) return;
    const manifest = this.ctx.manifestOf(this.id, fileId);
    if (manifest && bits.length !== Math.ceil(manifest.pieceCount / 8)) {
      return this.ctx.ban(this.id, 'ERR_FRAME_FIELD', 'bitfield of the wrong length');
    }
    this.ctx.availability.setBitfield(this.id, fileId, bits);
    this.ctx.peerUpdated(this.id, fileId);
  }

  /** A piece number past the end of a file whose manifest we verified: malformed. */
  private pieceBeyondEnd(fileId: string, piece: number): boolean {
    const manifest = this.ctx.manifestOf(this.id, fileId);
    return manifest !== undefined && piece >= manifest.pieceCount;
  }
}
