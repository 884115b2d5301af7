import { MAX_PIECES } from '../manifest/manifest.ts';

/**
 * The one record of which pieces each linked peer holds, for every file,
 * whether or not we are downloading it. It is fed by what peers say about
 * themselves (BITFIELD, HAVE) and by what they prove (a REJECT says "I lack
 * it"), and kept for as long as the link lives. Whole-file holders are read
 * from the catalogue (their own signed announcements), never copied. Every
 * running and future download reads it; nothing else keeps a copy. Pure: no
 * clock, no I/O.
 *
 * Bits are kept as the peer sent them (up to MAX_PIECES) until we know the
 * file's verified piece count; readers pass that count in.
 */
export const MAX_FILES_PER_PEER = 4_096;

interface Holding {
  /** Pieces the peer told us it has (BITFIELD, HAVE); null until it says (most holders only announce). */
  bits: Uint8Array | null;
  /** Pieces it refused to send although it claimed them: no longer counted. */
  lacks: Set<number>;
}

export interface PieceView {
  holds(peer: string, piece: number): boolean;
  /**
   * How many linked peers hold each piece (rarity for rarest-first), counted
   * now. The same array while nothing changed, a new one once something did
   * (never changed in place): the scheduler keeps its picking order while the
   * array is the same.
   */
  counts(): Uint16Array;
  /** Peers that may hold something of the file. */
  peers(): string[];
}

export interface AvailabilitySources {
  /** Peers whose own signed announcement says they share the whole file (the catalogue). */
  announcers(fileId: string): ReadonlySet<string>;
  /** Whether we have an open link to the peer: only linked peers can send us pieces. */
  linked(peer: string): boolean;
}

export class Availability {
  private byPeer = new Map<string, Map<string, Holding>>();
  /** Bumped on every change: views recount rarity only when something changed. */
  private version = 0;
  /** Bits we could not keep because a peer named too many files: dropped and counted. */
  dropped = 0;

  constructor(private readonly sources: AvailabilitySources, private readonly maxFilesPerPeer = MAX_FILES_PER_PEER) {}

  /** The peer's BITFIELD for a file replaces what it said before. */
  setBitfield(peer: string, fileId: string, bits: Uint8Array): void {
    this.version++;
    const h = this.holding(peer, fileId);
    if (!h) return;
    h.bits = new Uint8Array(MAX_PIECES / 8);
    h.bits.set(bits.subarray(0, h.bits.length));
    h.lacks.clear();
  }

  setHave(peer: string, fileId: string, piece: number): void {
    this.version++;
    if (piece < 0 || piece >= MAX_PIECES) return;
    const h = this.holding(peer, fileId);
    if (!h) return;
    h.bits ??= new Uint8Array(MAX_PIECES / 8);
    h.bits[piece >> 3]! |= 0x80 >> (piece & 7);
    h.lacks.delete(piece);
  }

  /** The peer refused a piece it claimed: it lacks it after all. */
  setLacks(peer: string, fileId: string, piece: number): void {
    if (piece < 0 || piece >= MAX_PIECES) return;
    this.version++;
    const h = this.holding(peer, fileId);
    if (!h) return;
    h.lacks.add(piece);
    if (h.bits) h.bits[piece >> 3]! &= ~(0x80 >> (piece & 7));
  }

  /** The link ended: everything it told us goes with it. */
  removePeer(peer: string): void {
    this.version++;
    this.byPeer.delete(peer);
  }

  /** Something the record reads from elsewhere changed (the catalogue's holders, which links are open). */
  invalidate(): void {
    this.version++;
  }

  holds(peer: string, fileId: string, piece: number): boolean {
    if (piece < 0 || piece >= MAX_PIECES || !this.sources.linked(peer)) return false;
    return this.holdsLinked(peer, fileId, piece, this.sources.announcers(fileId));
  }

  /** Pieces of the first `pieceCount` the peer holds. */
  countHeld(peer: string, fileId: string, pieceCount: number): number {
    let n = 0;
    for (let i = 0; i < pieceCount; i++) if (this.holds(peer, fileId, i)) n++;
    return n;
  }

  /** The peer's raw bits for a file as recorded (what the record keeps, for inspection and tests). */
  bitsOf(peer: string, fileId: string): Uint8Array | undefined {
    return this.byPeer.get(peer)?.get(fileId)?.bits ?? undefined;
  }

  /** Linked peers that announced the file or told us they hold some of it. */
  peersWith(fileId: string): string[] {
    const out = new Set<string>();
    for (const peer of this.sources.announcers(fileId)) if (this.sources.linked(peer)) out.add(peer);
    for (const [peer, files] of this.byPeer) {
      if (files.get(fileId)?.bits?.some((b) => b !== 0) && this.sources.linked(peer)) out.add(peer);
    }
    return [...out];
  }

  /** A live view of one file, for its piece scheduler. */
  view(fileId: string, pieceCount: number): PieceView {
    let cached: Uint16Array | null = null;
    let cachedAt = -1;
    return {
      holds: (peer, piece) => piece < pieceCount && this.holds(peer, fileId, piece),
      counts: () => {
        if (cached && cachedAt === this.version) return cached;
        const announcers = this.sources.announcers(fileId);
        const counts = new Uint16Array(pieceCount);
        for (const peer of this.peersWith(fileId)) {
          for (let i = 0; i < pieceCount; i++) if (this.holdsLinked(peer, fileId, i, announcers)) counts[i]!++;
        }
        cachedAt = this.version;
        return (cached = counts);
      },
      peers: () => this.peersWith(fileId),
    };
  }

  private holdsLinked(peer: string, fileId: string, piece: number, announcers: ReadonlySet<string>): boolean {
    const h = this.byPeer.get(peer)?.get(fileId);
    if (h?.lacks.has(piece)) return false;
    return announcers.has(peer) || (h?.bits != null && (h.bits[piece >> 3]! & (0x80 >> (piece & 7))) !== 0);
  }

  private holding(peer: string, fileId: string): Holding | undefined {
    let files = this.byPeer.get(peer);
    if (!files) this.byPeer.set(peer, (files = new Map()));
    let h = files.get(fileId);
    if (h) return h;
    if (files.size >= this.maxFilesPerPeer) {
      this.dropped++;
      return undefined;
    }
    h = { bits: null, lacks: new Set() };
    files.set(fileId, h);
    return h;
  }
}

