import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createMemoryNetwork } from './helpers/memory-net.ts';
import { fileOf, testRelay, until } from './helpers/node-peer.ts';
import { readZip } from './helpers/zip-reader.ts';

/**
 * A folder through the real engines (relay on port 0, in-memory links and
 * stores): the paths travel in the signed announcements, Download all fetches
 * the files without saving each one, and the zip holds them at their paths.
 */
const relay = testRelay();

test('a shared folder reaches another peer with its paths; fetched without saving, zipped whole', { timeout: 30_000 }, async () => {
  const net = createMemoryNetwork();
  const alice = await relay.start(net, { name: 'Alice', room: 'folder-room' });
  const bob = await relay.start(net, { name: 'Bob', room: 'folder-room' });
  const bytes = [new Uint8Array(randomBytes(400_000)), new Uint8Array(randomBytes(1000)), new Uint8Array(randomBytes(2000))];
  await alice.engine.share([
    { file: fileOf(bytes[0]!, 'a.bin'), relativePath: 'trip/photos/a.bin' },
    { file: fileOf(bytes[1]!, 'b.txt'), relativePath: 'trip/b.txt' },
    { file: fileOf(bytes[2]!, '..'), relativePath: '../../evil/..' },
  ]);
  const files = () => bob.engine.getState().files;
  await until(bob.engine, () => files().length === 3, 'Bob to see the three files');
  const paths = Object.fromEntries(files().map((f) => [f.meta.name, f.meta.path]));
  assert.deepEqual(paths, { 'a.bin': 'trip/photos', 'b.txt': 'trip', '..': '_/_/evil' });

  const ids = files().map((f) => f.meta.id);
  assert.deepEqual(await Promise.all(ids.map((id) => bob.engine.download(id, { save: false }))), [true, true, true]);
  assert.ok(files().every((f) => f.status === 'complete' && !f.saveReady), 'complete, and nothing waits to be saved one by one');
  const archive = bob.engine.zip(ids, 'trip');
  assert.ok(archive);
  const chunks: Uint8Array[] = [];
  for await (const c of archive.stream as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
  const entries = readZip(new Uint8Array(Buffer.concat(chunks)));
  const byName = Object.fromEntries(entries.map((e) => [e.name, Buffer.from(e.data).toString('base64')]));
  assert.deepEqual(byName, {
    'trip/photos/a.bin': Buffer.from(bytes[0]!).toString('base64'),
    'trip/b.txt': Buffer.from(bytes[1]!).toString('base64'),
    '_/_/evil/download': Buffer.from(bytes[2]!).toString('base64'),
  });
});

test('identical files in a folder are one file (content-addressed), and the sharer is told', { timeout: 30_000 }, async () => {
  const net = createMemoryNetwork();
  const alice = await relay.start(net, { name: 'Alice', room: 'dup-room' });
  const same = new Uint8Array(randomBytes(5000));
  await alice.engine.share([
    { file: fileOf(same, 'LICENSE'), relativePath: 'repo/LICENSE' },
    { file: fileOf(same, 'LICENSE'), relativePath: 'repo/vendor/LICENSE' },
    { file: fileOf(new Uint8Array(randomBytes(10)), 'x'), relativePath: 'repo/x' },
  ]);
  const state = alice.engine.getState();
  assert.equal(state.files.length, 2);
  assert.ok(state.notices.some((n) => n.text === '1 of the shared files had the same contents as another one and is listed once.'));
});
