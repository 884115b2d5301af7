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

export class PieceAssembler {
  private pending = new Map<string, Pending>();

  expect(fileId: string, piece: number, length: number): void {
    this.pending.set(key(fileId, piece), { buf: new Uint8Array(length), chunks: new Set(), received: 0 });
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
    return ok(p.buf);
  }

  cancel(fileId: string, piece: number): void {
    this.pending.delete(key(fileId, piece));
  }

  get size(): number {
    return this.pending.size;
  }
}

const key = (fileId: string, piece: number) => `${fileId}:${piece}`;
