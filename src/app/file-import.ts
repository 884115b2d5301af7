import { pieceRange } from '../core/manifest/manifest.ts';
import type { LocalFile } from './library.ts';

/**
 * Storing a person's file into a file we already hold in part (the same
 * bytes shared as a draft while they were being downloaded): the pieces it
 * lacks, read a piece at a time, never whole.
 */

/** Pieces read ahead while storing: enough to keep storage busy, little memory. */
export const IMPORT_WINDOW = 8;

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
