import type { ShareInput } from '../app/intents.ts';

/**
 * What was dropped on the page, folders walked: each file with its path
 * relative to the dropped folder's parent ("photos/2024/a.jpg"), so a dropped
 * folder is shared like one picked with the folder picker. Uses the
 * FileSystemEntry API (webkitGetAsEntry), which every current browser has;
 * the entries must be taken during the drop event itself, before any await.
 */

/** A dropped tree larger than this is refused rather than read for minutes. */
export const MAX_DROPPED_FILES = 10_000;

export async function droppedFiles(dt: DataTransfer): Promise<ShareInput[]> {
  const entries = [...dt.items].filter((i) => i.kind === 'file').map((i) => i.webkitGetAsEntry());
  const plain = [...dt.files];
  if (entries.every((e) => e === null || e.isFile)) return plain; // no folders: the files as dropped
  const out: ShareInput[] = [];
  for (const entry of entries) if (entry) await walk(entry, out);
  return out;
}

async function walk(entry: FileSystemEntry, out: ShareInput[]): Promise<void> {
  if (out.length >= MAX_DROPPED_FILES) throw new Error(`the folder has more than ${MAX_DROPPED_FILES} files`);
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    // fullPath is "/photos/2024/a.jpg" for a file in a dropped folder, "/a.jpg" for a file dropped on its own.
    out.push({ file, relativePath: entry.fullPath.replace(/^\/+/, '') });
    return;
  }
  for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, out);
}

/** readEntries answers in batches (100 at a time in Chromium) until an empty one. */
async function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}
