import assert from 'node:assert/strict';
import { test } from 'node:test';
import { librarySource, planZip, zipArchive, zipEntryPath, zipLength, type ZipSource } from '../../src/app/zip-archive.ts';
import { createMemoryStore } from '../../src/storage/memory-store.ts';
import { holdWhole, makeTestFile, newLibrary } from './helpers/library-fixture.ts';
import { readZip } from './helpers/zip-reader.ts';

/**
 * Download all's zip, assembled from the library over the memory store and
 * read back by an independent reader (helpers/zip-reader.ts): every entry's
 * path and bytes, the predicted length, and the lazy reading of pieces.
 */
const NOW = new Date(Date.UTC(2026, 0, 2, 3, 4, 6));

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
  return new Uint8Array(Buffer.concat(chunks));
}

async function sharedFolder() {
  const store = createMemoryStore();
  const { library, reported } = newLibrary(store);
  const files = [
    { f: await makeTestFile(3, 1), name: 'big.bin', path: 'album/raw' },
    { f: await makeTestFile(1, 2), name: 'cover.jpg', path: 'album' },
    { f: await makeTestFile(2, 3), name: 'notes é.txt', path: undefined },
  ];
  for (const { f, name, path } of files) {
    await holdWhole(library, f, name, path);
  }
  return { store, library, reported, files };
}

test('the zip holds every file at its folder path, byte for byte, and is exactly the predicted length', async () => {
  const { library, files } = await sharedFolder();
  const archive = zipArchive(librarySource(library), files.map((x) => x.f.meta.id), { name: 'album', now: NOW });
  assert.ok(archive.ok);
  assert.equal(archive.value.name, 'album.zip');
  const zip = await readAll(archive.value.stream);
  assert.equal(BigInt(zip.length), archive.value.length);
  const entries = readZip(zip);
  assert.deepEqual(entries.map((e) => e.name), ['album/raw/big.bin', 'album/cover.jpg', 'notes é.txt']);
  entries.forEach((e, i) => assert.deepEqual(e.data, files[i]!.f.bytes, e.name));
});

test('pieces are read as the zip streams, not ahead of it', async () => {
  const { library, files } = await sharedFolder();
  let reads = 0;
  const inner = librarySource(library);
  const counting: ZipSource = { ...inner, readPiece: (id, i) => (reads++, inner.readPiece(id, i)) };
  const archive = zipArchive(counting, files.map((x) => x.f.meta.id), { name: 'album', now: NOW });
  assert.ok(archive.ok);
  const reader = archive.value.stream.getReader();
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(reads <= 1, `${reads} pieces read before the consumer asks (the stream's buffer holds one chunk)`);
  await reader.read();
  await reader.read();
  assert.ok(reads < 6, `${reads} of 6 pieces read after two chunks`);
  await reader.cancel();
});

test('a piece storage lost fails the zip with a clear error instead of a short archive', async () => {
  const { store, library, reported, files } = await sharedFolder();
  store.dropPiece(files[0]!.f.meta.id, 1);
  const archive = zipArchive(librarySource(library), [files[0]!.f.meta.id], { name: 'x', now: NOW });
  assert.ok(archive.ok);
  await assert.rejects(readAll(archive.value.stream), /piece 2 of album\/raw\/big.bin could not be read back/);
  assert.equal(reported.lost.length, 1, 'the library stops claiming the piece');
});

test('only complete files of this room can be zipped; the error says which', async () => {
  const { library, files } = await sharedFolder();
  const f = await makeTestFile(2, 9, 'partial.bin');
  await library.addDownload(f.meta, f.manifest);
  const partial = zipArchive(librarySource(library), [files[1]!.f.meta.id, f.meta.id], { name: 'x', now: NOW });
  assert.deepEqual(partial.ok ? null : [partial.code, partial.error], ['incomplete', 'partial.bin is not downloaded yet']);
  const unknown = zipArchive(librarySource(library), ['0'.repeat(64)], { name: 'x', now: NOW });
  assert.equal(unknown.ok ? null : unknown.code, 'incomplete');
  assert.equal(zipArchive(librarySource(library), [], { name: 'x', now: NOW }).ok, false);
});

test('entry paths are safe whatever a peer announced, and never collide', () => {
  assert.equal(zipEntryPath({ name: '../../.bashrc', path: 'a' }), 'a/bashrc');
  assert.equal(zipEntryPath({ name: 'con.txt', path: 'x:y/aux' }), 'x_y/_aux/_con.txt');
  const meta = (id: string, name: string, path?: string) => ({ id, name, size: 1, mime: '', ...(path ? { path } : {}) });
  const plan = planZip([meta('1', 'a.txt', 'd'), meta('2', 'A.txt', 'd'), meta('3', 'a.txt', 'd'), meta('4', 'noext')]);
  assert.deepEqual(plan.map((e) => e.name), ['d/a.txt', 'd/A (2).txt', 'd/a (3).txt', 'noext']);
});

test('Zip64: the predicted length grows by Zip64 records only for archives past 4 GiB', () => {
  // Without Zip64, a stored entry costs a 30-byte local header, a 16-byte data descriptor and a
  // 46-byte central record (name twice), and the archive a 22-byte end record.
  const plain = (entries: { name: string; size: number }[]) =>
    entries.reduce((n, e) => n + e.size + 92 + 2 * Buffer.byteLength(e.name), 22);
  const small = [{ fileId: 'a', name: 'a/b.bin', size: 1000 }, { fileId: 'b', name: 'c.bin', size: 0 }];
  assert.equal(zipLength(small, NOW), BigInt(plain(small)));
  const big = [{ fileId: 'a', name: 'video.mkv', size: 5 * 2 ** 30 }];
  const many = [{ fileId: 'a', name: 'one', size: 3 * 2 ** 30 }, { fileId: 'b', name: 'two', size: 3 * 2 ** 30 }];
  assert.ok(zipLength(big, NOW) > BigInt(plain(big)), 'a 5 GiB entry has Zip64 sizes');
  assert.ok(zipLength(many, NOW) > BigInt(plain(many)), 'an entry starting past 4 GiB has a Zip64 offset');
});

test('two zips of the same files at once are both whole', async () => {
  const { library, files } = await sharedFolder();
  const ids = files.map((x) => x.f.meta.id);
  const [one, two] = [0, 1].map(() => zipArchive(librarySource(library), ids, { name: 'a', now: NOW }));
  assert.ok(one?.ok && two?.ok);
  const [zipOne, zipTwo] = await Promise.all([readAll(one.value.stream), readAll(two.value.stream)]);
  assert.deepEqual(zipOne, zipTwo);
  assert.deepEqual(readZip(zipOne).map((e) => e.data.length), files.map((x) => x.f.bytes.length));
});

test('a file removed while its zip streams fails the zip, never a short archive', async () => {
  const { library, files } = await sharedFolder();
  const archive = zipArchive(librarySource(library), [files[0]!.f.meta.id, files[1]!.f.meta.id], { name: 'a', now: NOW });
  assert.ok(archive.ok);
  const reader = archive.value.stream.getReader();
  await reader.read(); // the first piece is on its way
  await library.remove(files[0]!.f.meta.id);
  const rest = (async () => {
    for (;;) if ((await reader.read()).done) return;
  })();
  await assert.rejects(rest, /could not be read back from storage/);
});
