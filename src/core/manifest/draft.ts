import { Bitfield } from '../bitfield.ts';
import { bytesEqual, concatBytes, fromHex, toHex, utf8 } from '../bytes.ts';
import type { Sha256 } from '../hash.ts';
import { err, ok, type Result } from '../result.ts';
import { HASH_BYTES, pieceCountFor, pieceHash, pieceSizeFor, type Manifest } from './manifest.ts';

/**
 * Drafts: a file shared before it is hashed. Its content id (manifest.ts) is
 * known only once every piece is hashed, so until then it goes by a draft id
 * D, and its piece hashes travel as ranges the origin signs as it hashes them.
 *
 * D is bound to its origin: D = SHA-256(context, origin id, nonce), and the
 * announcement carries the nonce. Anyone can check the binding, so nobody but
 * the origin can speak about (or serve) its draft, whatever order statements
 * arrive in; with random ids alone, a copier announcing D first would win
 * with some peers.
 *
 * Pure: hashing and signature checks are passed in.
 */

export const DRAFT_ID_CONTEXT = 'meshdrop/v1/draft\n';
export const DRAFT_HASHES_CONTEXT = 'meshdrop/v1/draft-hashes\n';
/** 16 random bytes, as lowercase hex: unguessable, so two drafts never share an id. */
export const DRAFT_NONCE_RE = /^[0-9a-f]{32}$/;
/** Hashes in one signed range: one wire frame's worth (frames.ts caps it the same). */
export const MAX_RANGE_HASHES = 1024;

export async function draftIdFor(origin: string, nonce: string, sha256: Sha256): Promise<string> {
  return toHex(await sha256(utf8(`${DRAFT_ID_CONTEXT}${origin}\n${nonce}`)));
}

/** A fresh nonce from `randomBytes` (16 bytes). */
export const newDraftNonce = (randomBytes: (n: number) => Uint8Array): string => toHex(randomBytes(16));

/** Whether `piece count` pieces starting at `first` lie inside a file of `size` bytes (and fit one range). */
export function checkRange(size: number, first: number, count: number): Result<true> {
  if (!Number.isSafeInteger(first) || first < 0) return err('bad-range', `range starts at ${first}`);
  if (count < 1 || count > MAX_RANGE_HASHES) return err('bad-range', `range of ${count} hashes`);
  const pieces = pieceCountFor(size);
  if (first + count > pieces) return err('bad-range', `range ${first}+${count} runs past the file's ${pieces} pieces`);
  return ok(true);
}

/** The bytes the origin signs for one range: context, draft id, size, first piece, hashes. */
export function rangeSignedBytes(draftId: string, size: number, first: number, hashes: Uint8Array): Uint8Array {
  const id = fromHex(draftId);
  if (id?.length !== HASH_BYTES) throw new Error(`not a draft id: ${draftId.slice(0, 80)}`);
  const header = new Uint8Array(12);
  const view = new DataView(header.buffer);
  view.setUint32(0, Math.floor(size / 2 ** 32));
  view.setUint32(4, size % 2 ** 32);
  view.setUint32(8, first);
  return concatBytes([utf8(DRAFT_HASHES_CONTEXT), id, header, hashes]);
}

export interface SignedRange {
  first: number;
  hashes: Uint8Array;
  sig: Uint8Array;
}

export type Verify = (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array) => Promise<boolean>;

/**
 * A draft's piece hashes as far as its origin has signed them: what a
 * downloader verifies pieces against until the file's content id is known.
 * Ranges are checked with the origin's key; a range that contradicts one
 * signed before is equivocation, and as much proof as a bad signature.
 */
export class DraftHashes {
  readonly known: Bitfield;
  /** The manifest pieces are verified against; unknown hashes are zero, and never asked for. */
  readonly manifest: Manifest;

  constructor(readonly draftId: string, readonly size: number, private readonly originKey: Uint8Array) {
    const pieceSize = pieceSizeFor(size);
    const pieceCount = pieceCountFor(size, pieceSize);
    this.known = new Bitfield(pieceCount);
    this.manifest = { id: draftId, size, pieceSize, pieceCount, hashes: new Uint8Array(pieceCount * HASH_BYTES) };
  }

  /** Takes one range: 'bad-range' (malformed), 'bad-signature', 'equivocation' (proof), 'verify-failed' (ours), or ok. */
  async add(range: SignedRange, verify: Verify): Promise<Result<number>> {
    const count = range.hashes.length / HASH_BYTES;
    if (!Number.isInteger(count)) return err('bad-range', 'range hashes are not whole SHA-256s');
    const fits = checkRange(this.size, range.first, count);
    if (!fits.ok) return fits;
    let good: boolean;
    try {
      good = await verify(this.originKey, rangeSignedBytes(this.draftId, this.size, range.first, range.hashes), range.sig);
    } catch (e) {
      return err('verify-failed', `could not check a range signature: ${(e as Error).message}`);
    }
    if (!good) return err('bad-signature', `bad signature on hashes ${range.first}+${count}`);
    for (let i = 0; i < count; i++) {
      const piece = range.first + i;
      const hash = range.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
      if (this.known.get(piece) && !bytesEqual(pieceHash(this.manifest, piece), hash)) {
        return err('equivocation', `the origin signed two hashes for piece ${piece}`);
      }
    }
    this.manifest.hashes.set(range.hashes, range.first * HASH_BYTES);
    for (let i = 0; i < count; i++) this.known.set(range.first + i);
    return ok(count);
  }
}
