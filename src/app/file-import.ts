import type { Sha256 } from '../core/hash.ts';
import { pieceRange, type Manifest } from '../core/manifest/manifest.ts';
import type { LocalFile } from './library.ts';

/**
 * Storing a person's file into a file we already hold in part (the same
 * bytes shared as a draft while they were being downloaded): the pieces it
 * lacks, read a piece at a time, never whole.
 */

/** Pieces read ahead while storing: enough to keep storage busy, little memory. */
export const IMPORT_WINDOW = 8;

/**
 * Pieces being read and hashed at once. One at a time, each read waited for
 * the hash before it, and the import ran at 0.72-0.76x a plain IndexedDB
 * write of the same bytes (the bench's import phase, 1 GiB); WebCrypto hashes
 * off the main thread, so reading the next pieces meanwhile is free.
 */
export const READ_AHEAD = 4;

export interface HashedPiece {
  data: Uint8Array;
  hash: Uint8Array;
}

/**
 * A file's pieces in order, each with its SHA-256, up to READ_AHEAD of them
 * read and hashed at once. A failed read or hash is thrown when its piece is
 * taken, never before and never lost.
 */
export async function* readHashed(file: Blob, m: Pick<Manifest, 'size' | 'pieceSize' | 'pieceCount'>, sha256: Sha256): AsyncGenerator<HashedPiece> {
  const started: Promise<HashedPiece>[] = [];
  let next = 0;
  const start = () => {
    const { start: from, end } = pieceRange(m, next++);
    const p = file.slice(from, end).arrayBuffer().then(async (buffer) => {
      const data = new Uint8Array(buffer);
      return { data, hash: await sha256(data) };
    });
    // Observed when its piece is taken (the yield below rethrows it); this only keeps a piece failing before its
    // turn, or after the import stopped early, from being reported as an unhandled rejection.
    p.catch(() => undefined);
    started.push(p);
  };
  for (let taken = 0; taken < m.pieceCount; taken++) {
    while (next < m.pieceCount && started.length < READ_AHEAD) start();
    yield await started.shift()!;
  }
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
