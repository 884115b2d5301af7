import assert from 'node:assert/strict';
import { Library, type LibraryEvents, type LocalFile } from '../../../src/app/library.ts';
import { sha256 } from '../../../src/core/hash.ts';
import { buildManifest, pieceRange, pieceSizeFor, type FileMeta, type Manifest } from '../../../src/core/manifest/manifest.ts';
import { createMemoryStore, type MemoryStore } from '../../../src/storage/memory-store.ts';
import type { Store } from '../../../src/storage/store.ts';

/** A file's bytes, manifest and meta, built the way a sharer builds them. Deterministic bytes (seeded). */
export interface TestFile {
  bytes: Uint8Array<ArrayBuffer>;
  manifest: Manifest;
  meta: FileMeta;
  piece(i: number): Uint8Array;
}

export async function makeTestFile(pieces: number, seed = 1, name = 'f.bin'): Promise<TestFile> {
  const size = (pieces - 1) * pieceSizeFor(0) + 1000;
  const bytes = new Uint8Array(size);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  const m = { size, pieceSize: pieceSizeFor(size) };
  const piece = (i: number) => bytes.subarray(pieceRange(m, i).start, pieceRange(m, i).end);
  const hashes = await Promise.all([...Array(pieces)].map((_, i) => sha256(piece(i))));
  const built = await buildManifest(size, hashes, sha256);
  assert.ok(built.ok);
  return { bytes, manifest: built.value, meta: { id: built.value.id, name, size, mime: 'application/octet-stream' }, piece };
}

/** What the library reported, for the test to check. */
export interface Reported {
  lost: { index: number; why: string }[];
  readFailed: { index: number; why: string }[];
  persistFailed: Error[];
}

export function newLibrary(
  store: Store, room = 'room-A', clock = () => 0, openElsewhere?: LibraryEvents['openElsewhere'],
): { library: Library; reported: Reported } {
  const reported: Reported = { lost: [], readFailed: [], persistFailed: [] };
  const events: LibraryEvents = {
    pieceLost: (_f: LocalFile, index, why) => reported.lost.push({ index, why }),
    readFailed: (_f: LocalFile, index, why) => reported.readFailed.push({ index, why }),
    persistFailed: (e) => reported.persistFailed.push(e),
    openElsewhere,
  };
  return { library: new Library(store, sha256, clock, room, events), reported };
}

/** Lets every pending promise chain run (storage here is in memory: it answers within microtasks). */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A memory store whose piece and record writes take some microtask turns
 * (IndexedDB is slower than Maps): it widens the windows a misordered write
 * would slip through. The turns come from functions so a test can vary them.
 */
export function slowStore(turns: { pieces?: () => number; records?: () => number }): MemoryStore {
  const base = createMemoryStore();
  const wait = async (n: number) => {
    for (let i = n; i > 0; i--) await Promise.resolve();
  };
  return {
    ...base,
    async putPieces(fileId, entries) {
      await wait(turns.pieces?.() ?? 0);
      return base.putPieces(fileId, entries);
    },
    async putFile(record) {
      await wait(turns.records?.() ?? 0);
      return base.putFile(record);
    },
  };
}

/** Holds `f` whole in `library`, as a share of the same bytes leaves it: every piece stored, named (and placed) as given. */
export async function holdWhole(library: Library, f: TestFile, name = f.meta.name, path?: string): Promise<LocalFile> {
  const local = await library.addDownload(f.meta, f.manifest);
  for (let i = 0; i < f.manifest.pieceCount; i++) assert.equal(await library.storePiece(local, i, f.piece(i)), true);
  library.rename(local, name, path);
  await library.flush();
  return local;
}

/** The content id of `bytes`, as a sharer computes it once every piece is hashed. */
export async function contentIdOf(bytes: Uint8Array): Promise<string> {
  const m = { size: bytes.length, pieceSize: pieceSizeFor(bytes.length) };
  const count = Math.ceil(bytes.length / m.pieceSize);
  const hashes = await Promise.all([...Array(count)].map((_, i) => sha256(bytes.subarray(pieceRange(m, i).start, pieceRange(m, i).end))));
  const built = await buildManifest(bytes.length, hashes, sha256);
  assert.ok(built.ok);
  return built.value.id;
}
