import { bytesEqual, concatBytes, fromHex, toHex, utf8 } from '../bytes.ts';
import type { Sha256 } from '../hash.ts';
import { err, ok, type Result } from '../result.ts';

/**
 * Files are content-addressed (Freenet, BitTorrent v1): a file is split into
 * fixed-size pieces, each piece is hashed with SHA-256, and the file id is the
 * SHA-256 of the file's size and the concatenated piece hashes. Anyone holding
 * the id can verify a manifest (size and hashes) fetched from an untrusted
 * peer, and then every piece against it. The size is inside the id so that
 * nobody has to trust an announced size: a liar's size cannot make an honest
 * holder's last piece look bad.
 */

export const HASH_BYTES = 32;
export const MIN_PIECE_SIZE = 256 * 1024;
export const MAX_PIECE_SIZE = 4 * 1024 * 1024;
export const MAX_PIECES = 4096;
/** 4,096 pieces of 4 MiB: the largest file a manifest can describe. */
export const MAX_FILE_SIZE = MAX_PIECES * MAX_PIECE_SIZE;

/** What a room learns about a shared file from its announcement. */
export interface FileMeta {
  /** Hex SHA-256 of the concatenated piece hashes. */
  id: string;
  name: string;
  size: number;
  mime: string;
  /**
   * The folder it was shared in ("photos/2024"), canonical as
   * core/folder-path.ts defines; absent for a file shared on its own. Not part
   * of the id: the same bytes in two folders are one file.
   */
  path?: string;
  /**
   * Present while the file is a draft (manifest/draft.ts): the nonce that
   * binds its draft id to its origin. A draft is served by its origin only,
   * piece by piece against hashes the origin signs, until its content id is known.
   */
  draft?: string;
  /**
   * Present when its sharer chose who may know of it (core/gossip/audience.ts):
   * the sorted peer ids of those people, the one who says so among them.
   * Absent: the whole room. Signed with the rest of the statement.
   */
  audience?: string[];
}

/** The verified list of piece hashes for one file. */
export interface Manifest {
  id: string;
  size: number;
  pieceSize: number;
  pieceCount: number;
  /** pieceCount * 32 bytes, piece i's hash at i * 32. */
  hashes: Uint8Array;
}

/** 256 KiB, doubled until the file fits in 4,096 pieces (at most 4 MiB). */
export function pieceSizeFor(size: number): number {
  let pieceSize = MIN_PIECE_SIZE;
  while (Math.ceil(size / pieceSize) > MAX_PIECES && pieceSize < MAX_PIECE_SIZE) pieceSize *= 2;
  return pieceSize;
}

export const pieceCountFor = (size: number, pieceSize = pieceSizeFor(size)): number => Math.ceil(size / pieceSize);

export function checkFileSize(size: number): Result<number> {
  if (!Number.isSafeInteger(size) || size < 0) return err('bad-size', `file size ${size} is not a whole number of bytes`);
  if (size > MAX_FILE_SIZE) return err('too-large', `files over ${MAX_FILE_SIZE / 2 ** 30} GiB cannot be shared`);
  return ok(size);
}

/** Byte range [start, end) of piece `index`. */
export function pieceRange(m: Pick<Manifest, 'size' | 'pieceSize'>, index: number): { start: number; end: number } {
  const start = index * m.pieceSize;
  return { start, end: Math.min(start + m.pieceSize, m.size) };
}

export const pieceLength = (m: Pick<Manifest, 'size' | 'pieceSize'>, index: number): number => {
  const r = pieceRange(m, index);
  return r.end - r.start;
};

export const pieceHash = (m: Manifest, index: number): Uint8Array =>
  m.hashes.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES);

const ID_CONTEXT = 'meshdrop/v2/file\n';

export async function fileIdFromHashes(size: number, hashes: Uint8Array, sha256: Sha256): Promise<string> {
  return toHex(await sha256(concatBytes([utf8(`${ID_CONTEXT}${size}\n`), hashes])));
}

/** Builds a manifest from a file's piece hashes, in order (the sharer's side). */
export async function buildManifest(size: number, pieceHashes: readonly Uint8Array[], sha256: Sha256): Promise<Result<Manifest>> {
  const sized = checkFileSize(size);
  if (!sized.ok) return sized;
  const pieceSize = pieceSizeFor(size);
  const pieceCount = pieceCountFor(size, pieceSize);
  if (pieceHashes.length !== pieceCount) return err('bad-manifest', `expected ${pieceCount} piece hashes, got ${pieceHashes.length}`);
  const hashes = concatBytes(pieceHashes);
  return ok({ id: await fileIdFromHashes(size, hashes, sha256), size, pieceSize, pieceCount, hashes });
}

/**
 * Checks a manifest (size and hashes) received from a peer against the file id
 * we asked for. Both are inside the id, so a manifest that verifies is the
 * sharer's, whatever anyone announced.
 */
export async function verifyManifest(id: string, size: number, hashes: Uint8Array, sha256: Sha256): Promise<Result<Manifest>> {
  const sized = checkFileSize(size);
  if (!sized.ok) return sized;
  if (fromHex(id)?.length !== HASH_BYTES) return err('bad-manifest', 'file id is not a SHA-256');
  const pieceSize = pieceSizeFor(size);
  const pieceCount = pieceCountFor(size, pieceSize);
  if (hashes.length !== pieceCount * HASH_BYTES) {
    return err('bad-manifest', `manifest has ${hashes.length / HASH_BYTES} hashes, the file needs ${pieceCount}`);
  }
  if ((await fileIdFromHashes(size, hashes, sha256)) !== id) return err('bad-manifest', 'manifest does not match the file id');
  return ok({ id, size, pieceSize, pieceCount, hashes });
}

/** Verifies one piece's bytes: right length, right hash. */
export async function verifyPiece(m: Manifest, index: number, data: Uint8Array, sha256: Sha256): Promise<boolean> {
  if (index < 0 || index >= m.pieceCount || data.length !== pieceLength(m, index)) return false;
  return bytesEqual(await sha256(data), pieceHash(m, index));
}
