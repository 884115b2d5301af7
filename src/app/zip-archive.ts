import { makeZip, predictLength } from 'client-zip';
import { safeFileName } from '../core/filename.ts';
import type { FileMeta } from '../core/manifest/manifest.ts';
import { err, ok, type Result } from '../core/result.ts';
import type { Library } from './library.ts';

/**
 * "Download all" as one zip, streamed: client-zip writes each entry (stored,
 * not compressed: photos and videos do not shrink, and storing keeps the
 * length predictable) as its pieces are read from the library one at a time,
 * so neither the archive nor a whole file is ever held in memory. client-zip
 * switches to Zip64 records by itself for entries or archives past 4 GiB, and
 * predictLength gives the exact archive size for Content-Length.
 */

export interface ZipSource {
  /** The file's meta (its folder path and name make the entry's path). */
  meta(fileId: string): FileMeta | undefined;
  pieceCount(fileId: string): number;
  /** A verified stored piece, or undefined when storage cannot give it back. */
  readPiece(fileId: string, index: number): Promise<Uint8Array | undefined>;
  isComplete(fileId: string): boolean;
}

/** This room's files in the library: pieces re-verified as they are read (Library.readPiece). */
export const librarySource = (library: Library): ZipSource => ({
  meta: (id) => library.inRoom(id)?.meta,
  pieceCount: (id) => library.inRoom(id)?.manifest.pieceCount ?? 0,
  readPiece: (id, i) => library.readPiece(id, i),
  isComplete: (id) => library.inRoom(id)?.have.complete ?? false,
});

export interface ZipEntry {
  fileId: string;
  /** Safe relative path inside the archive ("photos/2024/a.jpg"). */
  name: string;
  size: number;
}

/**
 * The name of a file inside a zip: each part made a safe file name (no ':',
 * no device names, no leading dots), so no unzip tool can write outside the
 * folder it extracts into, whatever a peer announced.
 */
export function zipEntryPath(meta: Pick<FileMeta, 'name' | 'path'>): string {
  const folders = meta.path ? meta.path.split('/').map(safeFileName) : [];
  return [...folders, safeFileName(meta.name)].join('/');
}

/** Entries for these files, in order; a path taken twice (different files, same name) gets " (2)". */
export function planZip(metas: readonly FileMeta[]): ZipEntry[] {
  const taken = new Set<string>();
  return metas.map((meta) => {
    const wanted = zipEntryPath(meta);
    let name = wanted;
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = withSuffix(wanted, n);
    taken.add(name.toLowerCase());
    return { fileId: meta.id, name, size: meta.size };
  });
}

function withSuffix(path: string, n: number): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  const cut = dot > slash + 1 ? dot : path.length;
  return `${path.slice(0, cut)} (${n})${path.slice(cut)}`;
}

/** The exact byte length of the archive zipStream makes for these entries (Zip64 included). */
export function zipLength(entries: readonly ZipEntry[], lastModified: Date): bigint {
  return predictLength(entries.map((e) => ({ name: e.name, size: e.size, lastModified })));
}

/** One file's bytes, piece by piece; a piece storage cannot give back fails the archive, never truncates it. */
async function* piecesOf(source: ZipSource, entry: ZipEntry): AsyncGenerator<Uint8Array> {
  const count = source.pieceCount(entry.fileId);
  for (let i = 0; i < count; i++) {
    const piece = await source.readPiece(entry.fileId, i);
    if (!piece) throw new Error(`piece ${i + 1} of ${entry.name} could not be read back from storage`);
    yield piece;
  }
}

/**
 * The archive as a stream. Files are opened lazily, one at a time, as the
 * consumer pulls: a slow disk or a cancelled save stops the reading too.
 */
export function zipStream(source: ZipSource, entries: readonly ZipEntry[], lastModified: Date): ReadableStream<Uint8Array> {
  return makeZip(
    entries.map((e) => ({ name: e.name, size: e.size, lastModified, input: piecesOf(source, e) })),
    { buffersAreUTF8: true },
  );
}

export interface ZipArchive {
  name: string;
  length: bigint;
  stream: ReadableStream<Uint8Array>;
}

/** The archive of these files, all of which must be complete here. */
export function zipArchive(
  source: ZipSource,
  fileIds: readonly string[],
  opts: { name: string; now: Date },
): Result<ZipArchive> {
  const metas: FileMeta[] = [];
  for (const id of fileIds) {
    const meta = source.meta(id);
    if (!meta || !source.isComplete(id)) return err('incomplete', `${meta?.name ?? 'a file'} is not downloaded yet`);
    metas.push(meta);
  }
  if (metas.length === 0) return err('empty', 'there is nothing to put in the zip');
  const entries = planZip(metas);
  const name = `${safeFileName(opts.name).replace(/\.zip$/i, '')}.zip`;
  return ok({ name, length: zipLength(entries, opts.now), stream: zipStream(source, entries, opts.now) });
}
