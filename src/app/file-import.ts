import type { Sha256 } from '../core/hash.ts';
import { pieceCountFor, pieceRange, pieceSizeFor } from '../core/manifest/manifest.ts';
import type { LocalFile } from './library.ts';

/**
 * Sharing a person's file takes two passes: its piece hashes first (the file
 * id is known only once every piece is hashed), then its pieces into storage
 * under that id. Both read the file a piece at a time, never whole.
 */

/** Pieces read ahead while storing: enough to keep storage busy, little memory. */
const IMPORT_WINDOW = 8;

export async function hashPieces(file: Blob, sha256: Sha256, onProgress: (bytes: number) => void): Promise<Uint8Array[]> {
  const m = { size: file.size, pieceSize: pieceSizeFor(file.size) };
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < pieceCountFor(file.size, m.pieceSize); i++) {
    const { start, end } = pieceRange(m, i);
    hashes.push(await sha256(new Uint8Array(await file.slice(start, end).arrayBuffer())));
    onProgress(end);
  }
  return hashes;
}

/** Stores the pieces the file lacks (a partial download of the same bytes keeps what it has). */
export async function storeAll(
  local: LocalFile,
  file: Blob,
  storePiece: (index: number, data: Uint8Array) => Promise<boolean>,
  onProgress: (bytes: number) => void,
): Promise<void> {
  const pending = new Set<Promise<void>>();
  for (let i = 0; i < local.manifest.pieceCount; i++) {
    if (local.have.get(i)) continue;
    const { start, end } = pieceRange(local.manifest, i);
    const data = new Uint8Array(await file.slice(start, end).arrayBuffer());
    const p: Promise<void> = storePiece(i, data).then(() => {
      pending.delete(p);
      onProgress(end);
    });
    pending.add(p);
    if (pending.size >= IMPORT_WINDOW) await Promise.race(pending);
  }
  await Promise.all(pending);
}
