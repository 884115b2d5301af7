import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildFolderTree, filesUnder, type TreeFile } from '../../src/core/folder-tree.ts';

/** The room's folder entries are derived from the files' own paths, sizes and progress. */

const file = (name: string, path: string | undefined, size: number, bytesDone = 0): TreeFile => ({
  meta: { id: `${path ?? ''}/${name}`, name, size, ...(path === undefined ? {} : { path }) },
  bytesDone,
  status: bytesDone >= size ? 'complete' : bytesDone > 0 ? 'downloading' : 'available',
});

test('files group under their top folder, nested as their paths say, with totals at every level', () => {
  const tree = buildFolderTree([
    file('b.txt', 'photos', 100, 100),
    file('loose.bin', undefined, 7),
    file('x.jpg', 'photos/2024/summer', 1000, 250),
    file('a.txt', 'photos', 50),
    file('y.jpg', 'photos/2024', 10, 10),
    file('z.md', 'docs', 5, 5),
  ]);
  assert.deepEqual(tree.loose.map((f) => f.meta.name), ['loose.bin']);
  assert.deepEqual(tree.folders.map((f) => f.name), ['docs', 'photos']);
  const photos = tree.folders[1]!;
  assert.deepEqual(
    { size: photos.size, done: photos.bytesDone, files: photos.fileCount, complete: photos.completeCount },
    { size: 1160, done: 360, files: 4, complete: 2 },
  );
  assert.deepEqual(photos.files.map((f) => f.meta.name), ['a.txt', 'b.txt'], 'files sorted by name');
  const y2024 = photos.folders[0]!;
  assert.deepEqual([y2024.name, y2024.path, y2024.size, y2024.bytesDone, y2024.fileCount], ['2024', 'photos/2024', 1010, 260, 2]);
  const summer = y2024.folders[0]!;
  assert.deepEqual([summer.path, summer.files.map((f) => f.meta.name), summer.completeCount], ['photos/2024/summer', ['x.jpg'], 0]);
  assert.deepEqual(filesUnder(photos).map((f) => f.meta.name).sort(), ['a.txt', 'b.txt', 'x.jpg', 'y.jpg']);
  assert.equal(tree.folders[0]!.completeCount, 1);
});

test('no files, only loose files, and progress never counted past a file\'s size', () => {
  assert.deepEqual(buildFolderTree([]), { folders: [], loose: [] });
  assert.deepEqual(buildFolderTree([file('a', undefined, 1)]).folders, []);
  const over = buildFolderTree([{ ...file('a', 'f', 10), bytesDone: 50 }]);
  assert.equal(over.folders[0]!.bytesDone, 10);
});

test('the same tree whatever order the files arrive in', () => {
  const files = [file('1', 'a/b', 1), file('2', 'a', 2), file('3', 'a/c', 3), file('4', 'b', 4), file('5', undefined, 5)];
  const shape = (fs: TreeFile[]) => JSON.stringify(buildFolderTree(fs));
  assert.equal(shape([...files].reverse()), shape(files));
  assert.equal(shape([files[2]!, files[0]!, files[4]!, files[1]!, files[3]!]), shape(files));
});
