import { HASH_BYTES, pieceCountFor } from '../core/manifest/manifest.ts';
import { PieceAssembler } from '../core/wire/assembler.ts';
import {
  HASHES_PER_PART, MANIFEST_PIECE, RejectReason, WIRE_VERSION, decodeFrame, encodeFrame, type WireMessage,
} from '../core/wire/frames.ts';
import type { DataLink } from '../net/link.ts';
import type { Download } from './download.ts';
import type { Library } from './library.ts';
import type { Uploader } from './uploader.ts';

/**
 * One open link to a peer and the handling of every frame it sends. Anything
 * malformed or out of bounds ends the link through `destroy(code)`: the app
 * never trusts, throws on, or waits for a misbehaving peer.
 */
export interface SessionContext {
  library: Library;
  uploader: Uploader;
  download(fileId: string): Download | undefined;
  /** Size of a file we know of (held, downloading or announced), to bound its piece numbers. */
  knownSize(fileId: string): number | undefined;
  onHello(session: Session): void;
  /** Any frame from the peer: it is alive (stall detection). */
  heard(peer: string): void;
  /** A GOSSIP frame's JSON: the gossip layer parses, verifies and judges it, and owns its limits. */
  onGossip(session: Session, json: unknown, live: boolean): void;
  /** A CATALOGUE frame's JSON, for the gossip layer. */
  onCatalogue(session: Session, json: unknown): void;
  /** End the link and refuse the peer for this session. */
  ban(peer: string, code: string, detail: string): void;
}

/** Data frames for pieces we no longer expect may still be on the way; remember that many. */
const MAX_RETIRED = 4_096;

export class Session {
  name: string | null = null;
  readonly assembler = new PieceAssembler();
  /** Files this peer has told us its bitfield for: it wants our HAVEs for them. */
  readonly swarm = new Set<string>();
  /** Files we have sent our bitfield for. */
  readonly sentBitfield = new Set<string>();
  strikes = 0;
  lastReceived = 0;
  /** Last piece data from this peer: whether it uploads to us (fairness). */
  lastData = 0;
  /** Short code from both DTLS fingerprints, for people who compare it out of band. */
  verificationCode: string | null = null;
  /** Pieces we asked this peer for and no longer expect (done, cancelled, refused): late data is harmless. */
  private retired = new Set<string>();

  constructor(readonly id: string, readonly link: DataLink, private readonly ctx: SessionContext) {}

  send(m: WireMessage): void {
    if (m.type === 'bitfield') this.sentBitfield.add(m.fileId);
    this.link.send(encodeFrame(m));
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
    if (this.name === null && m.type !== 'hello') return this.ctx.ban(this.id, 'ERR_PROTOCOL', `${m.type} before hello`);
    this.lastReceived = now;
    this.ctx.heard(this.id);
    this.handle(m);
  }

  private handle(m: WireMessage): void {
    switch (m.type) {
      case 'hello':
        if (m.version !== WIRE_VERSION) return this.ctx.ban(this.id, 'ERR_VERSION', `peer speaks wire version ${m.version}, we speak ${WIRE_VERSION}`);
        this.name = m.name;
        return this.ctx.onHello(this);
      // Gossip budgets are per origin, not per link (a forwarder is not the author): RoomGossip judges.
      case 'gossip':
        return this.ctx.onGossip(this, m.json, true);
      case 'catalogue':
        return this.ctx.onCatalogue(this, m.json);
      case 'want-manifest':
        return this.sendManifest(m.fileId);
      case 'manifest-part':
        return this.ctx.download(m.fileId)?.onManifestPart(this.id, m.part, m.parts, m.hashes);
      case 'request':
        if (this.pieceBeyondEnd(m.fileId, m.piece)) return this.ctx.ban(this.id, 'ERR_FRAME_FIELD', `request for piece ${m.piece}, past the end of the file`);
        if (!this.ctx.library.get(m.fileId)?.have.get(m.piece)) {
          return this.send({ type: 'reject', fileId: m.fileId, piece: m.piece, reason: RejectReason.notFound });
        }
        if (!this.ctx.uploader.request(this.id, m.fileId, m.piece)) this.ctx.ban(this.id, 'ERR_FLOOD', 'too many requests queued');
        return;
      case 'cancel':
        return this.ctx.uploader.cancel(this.id, m.fileId, m.piece);
      case 'keepalive':
        return;
      case 'reject':
        this.retire(m.fileId, m.piece);
        return this.ctx.download(m.fileId)?.onReject(this.id, m.piece);
      case 'data':
        return this.onData(m.fileId, m.piece, m.offset, m.bytes);
      case 'have':
        if (this.pieceBeyondEnd(m.fileId, m.piece)) return this.ctx.ban(this.id, 'ERR_FRAME_FIELD', `have for piece ${m.piece}, past the end of the file`);
        return this.ctx.download(m.fileId)?.onHave(this.id, m.piece);
      case 'bitfield':
        return this.onBitfield(m.fileId, m.bits);
    }
  }

  private sendManifest(fileId: string): void {
    const local = this.ctx.library.get(fileId);
    if (!local) return this.send({ type: 'reject', fileId, piece: MANIFEST_PIECE, reason: RejectReason.notFound });
    const { hashes, pieceCount } = local.manifest;
    const parts = Math.max(1, Math.ceil(pieceCount / HASHES_PER_PART));
    for (let part = 0; part < parts; part++) {
      const slice = hashes.subarray(part * HASHES_PER_PART * HASH_BYTES, (part + 1) * HASHES_PER_PART * HASH_BYTES);
      this.send({ type: 'manifest-part', fileId, part, parts, hashes: slice });
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
    if (download) void download.onPiece(this.id, piece, added.value);
  }

  private onBitfield(fileId: string, bits: Uint8Array): void {
    const size = this.ctx.knownSize(fileId);
    if (size === undefined) return; // a file we have not heard of: nothing to do with it
    if (bits.length !== Math.ceil(pieceCountFor(size) / 8)) return this.ctx.ban(this.id, 'ERR_FRAME_FIELD', 'bitfield of the wrong length');
    this.swarm.add(fileId);
    this.ctx.download(fileId)?.onBitfield(this.id, bits);
    const local = this.ctx.library.get(fileId);
    if (local && local.have.count > 0 && !this.sentBitfield.has(fileId)) {
      this.send({ type: 'bitfield', fileId, bits: local.have.bytes });
    }
  }

  /** A piece number past the end of a file we know: malformed. (Unknown files are simply not ours to judge.) */
  private pieceBeyondEnd(fileId: string, piece: number): boolean {
    const size = this.ctx.knownSize(fileId);
    return size !== undefined && piece >= pieceCountFor(size);
  }
}
