import assert from 'node:assert/strict';
import { test } from 'node:test';
import { droppedFiles } from '../../src/ui/dropped-files.ts';

/**
 * Walking a dropped folder, over fakes of the FileSystemEntry API with its
 * quirks: readEntries answers in batches until an empty one, and fullPath
 * starts with '/'. What comes out is what intents.share takes.
 */
type Tree = { [name: string]: Tree | string };

function entryOf(name: string, node: Tree | string, parent: string): FileSystemEntry {
  const fullPath = `${parent}/${name}`;
  if (typeof node === 'string') {
    return { isFile: true, isDirectory: false, name, fullPath, file: (ok: (f: File) => void) => ok(new File([node], name)) } as unknown as FileSystemEntry;
  }
  const children = Object.entries(node).map(([n, c]) => entryOf(n, c, fullPath));
  const createReader = () => {
    let at = 0;
    // Two entries per batch, like Chromium's 100 but small enough to need several calls.
    return { readEntries: (ok: (e: FileSystemEntry[]) => void) => ok(children.slice(at, (at += 2))) };
  };
  return { isFile: false, isDirectory: true, name, fullPath, createReader } as unknown as FileSystemEntry;
}

function dataTransfer(top: Tree): DataTransfer {
  const entries = Object.entries(top).map(([n, c]) => entryOf(n, c, ''));
  const items = entries.map((e) => ({ kind: 'file', webkitGetAsEntry: () => e }));
  const files = entries.filter((e) => e.isFile).map((e) => new File([], e.name));
  return { items, files } as unknown as DataTransfer;
}

test('a dropped folder is walked whole, batches and subfolders, each file with its relative path', async () => {
  const got = await droppedFiles(dataTransfer({
    trip: { 'a.txt': 'A', 'b.txt': 'B', 'c.txt': 'C', photos: { 'p.jpg': 'P', raw: { 'r.dng': 'R' } }, empty: {} },
    'loose.txt': 'L',
  }));
  const paths = got.map((x) => (x instanceof File ? `file:${x.name}` : x.relativePath));
  assert.deepEqual(paths.sort(), ['loose.txt', 'trip/a.txt', 'trip/b.txt', 'trip/c.txt', 'trip/photos/p.jpg', 'trip/photos/raw/r.dng']);
  const r = got.find((x) => !(x instanceof File) && x.relativePath.endsWith('r.dng'));
  assert.equal(await (r as { file: File }).file.text(), 'R');
});

test('dropped files without folders are shared as dropped', async () => {
  const got = await droppedFiles(dataTransfer({ 'a.txt': 'A', 'b.txt': 'B' }));
  assert.deepEqual(got.map((f) => (f as File).name), ['a.txt', 'b.txt']);
});

test('a file that cannot be read fails the drop with its error', async () => {
  const broken = { isFile: true, isDirectory: false, name: 'x', fullPath: '/d/x', file: (_: unknown, fail: (e: Error) => void) => fail(new Error('NotReadableError')) };
  const dir = { isFile: false, isDirectory: true, name: 'd', fullPath: '/d', createReader: () => {
    let done = false;
    return { readEntries: (ok: (e: unknown[]) => void) => ok(done ? [] : ((done = true), [broken])) };
  } };
  const dt = { items: [{ kind: 'file', webkitGetAsEntry: () => dir }], files: [] } as unknown as DataTransfer;
  await assert.rejects(droppedFiles(dt), /NotReadableError/);
});
