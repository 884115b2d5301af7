import { err, ok, type Result } from '../result.ts';
import { DATA_CHUNK } from './frames.ts';

/**
 * Collects the DATA frames of requested pieces from one peer (torrent-piece's
 * reserve/set/flush idea). Only pieces we asked for are accepted: unsolicited,
 * misaligned or overflowing chunks are errors the caller acts on. A chunk that
 * arrives twice (a cancelled request's frames still in flight when the piece
 * was asked for again) is the same bytes at the same place: it is ignored, and
 * the piece hash judges the result either way.
 */
export type AssemblyError = 'ERR_UNSOLICITED' | 'ERR_CHUNK';

interface Pending {
  buf: Uint8Array;
  chunks: Set<number>;
  received: number;
}

/**
 * Piece buffers handed back once their piece is stored (recycle), shared by every
 * peer's assembler: a download otherwise allocated a fresh 256 KiB buffer per piece
 * and left it to the garbage collector. Reusing them lowered the downloading page's
 * heap peak from 45 to 35 MiB (BENCHMARKS.md, "serve"). At most MAX_SPARE are kept.
 */
const spare: Uint8Array[] = [];
export const MAX_SPARE = 8;

function take(length: number): Uint8Array {
  const i = spare.findIndex((b) => b.length === length);
  return i < 0 ? new Uint8Array(length) : spare.splice(i, 1)[0]!;
}

export class PieceAssembler {
  private pending = new Map<string, Pending>();
  /** Buffers this assembler gave out whole and has not had back: only these may be recycled, once. */
  private lent = new WeakSet<Uint8Array>();

  expect(fileId: string, piece: number, length: number): void {
    const k = key(fileId, piece);
    const before = this.pending.get(k);
    if (before) giveBack(before.buf);
    this.pending.set(k, { buf: take(length), chunks: new Set(), received: 0 });
  }

  /**
   * The caller is done with a piece add() returned: nothing reads or keeps it any more
   * (it is verified and stored, or dropped). Its buffer is reused for a later piece.
   */
  recycle(buf: Uint8Array): void {
    if (!this.lent.has(buf)) return;
    this.lent.delete(buf);
    giveBack(buf);
  }

  isExpected(fileId: string, piece: number): boolean {
    return this.pending.has(key(fileId, piece));
  }

  /** Adds a chunk; returns the whole piece once its last byte arrives, else null. */
  add(fileId: string, piece: number, offset: number, bytes: Uint8Array): Result<Uint8Array | null, AssemblyError> {
    const k = key(fileId, piece);
    const p = this.pending.get(k);
    if (!p) return err('ERR_UNSOLICITED', `data for piece ${piece} that was not requested`);
    const chunk = offset / DATA_CHUNK;
    const expectedLength = Math.min(DATA_CHUNK, p.buf.length - offset);
    if (!Number.isInteger(chunk) || offset >= p.buf.length || bytes.length !== expectedLength) {
      return err('ERR_CHUNK', `bad chunk at offset ${offset} of piece ${piece}`);
    }
    if (p.chunks.has(chunk)) return ok(null);
    p.buf.set(bytes, offset);
    p.chunks.add(chunk);
    p.received += bytes.length;
    if (p.received < p.buf.length) return ok(null);
    this.pending.delete(k);
    this.lent.add(p.buf);
    return ok(p.buf);
  }

  cancel(fileId: string, piece: number): void {
    const k = key(fileId, piece);
    const p = this.pending.get(k);
    if (!p) return;
    this.pending.delete(k);
    giveBack(p.buf); // never left this assembler
  }

  get size(): number {
    return this.pending.size;
  }
}

const key = (fileId: string, piece: number) => `${fileId}:${piece}`;

function giveBack(buf: Uint8Array): void {
  if (spare.length < MAX_SPARE && !spare.includes(buf)) spare.push(buf);
}
