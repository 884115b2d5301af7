import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { sha256 } from '../../src/core/hash.ts';
import { buildManifest, pieceRange, type Manifest } from '../../src/core/manifest/manifest.ts';
import { createMemoryStore, type MemoryStore } from '../../src/storage/memory-store.ts';
import { createMediaRoute } from '../../src/sw/media-route.ts';
import { mediaUrl, parseFocus, storedMessage } from '../../src/sw/media-protocol.ts';

/**
 * The worker's media route over the real Store interface (the memory store
 * stands in for IndexedDB): what it sends is the stored, verified bytes; a
 * missing piece makes it tell the page where the player reads and wait until
 * the page says it is stored; removal and damage end the body with an error.
 */
const PIECE = 256 * 1024;
const PIECES = 5;

async function setup(stored: number[]) {
  const bytes = new Uint8Array(randomBytes(PIECES * PIECE - 1000));
  const m = { size: bytes.length, pieceSize: PIECE };
  const slices = [...Array(PIECES).keys()].map((i) => bytes.slice(pieceRange(m, i).start, pieceRange(m, i).end));
  const built = await buildManifest(bytes.length, await Promise.all(slices.map((s) => sha256(s))), sha256);
  assert.ok(built.ok);
  const manifest: Manifest = built.value;
  const store: MemoryStore = createMemoryStore();
  await store.putFile({
    meta: { id: manifest.id, name: 'clip.webm', size: bytes.length, mime: '' }, pieceSize: PIECE, pieceCount: PIECES,
    hashes: manifest.hashes, have: new Uint8Array(1), source: 'downloaded', addedAt: 0,
  });
  await store.putPieces(manifest.id, stored.map((index) => ({ index, data: slices[index]! })));
  const focus: number[] = [];
  const page = { postMessage: (m: unknown) => focus.push(parseFocus(m)!.offset) };
  const route = createMediaRoute({ get: async (id) => (id === 'page' ? page : undefined), matchAll: async () => [] }, store, 300);
  const waits: Promise<unknown>[] = [];
  const fetch = (range?: string) => {
    const request = new Request(`https://x${mediaUrl(manifest.id, 'clip.webm')}`, { headers: range ? { Range: range } : {} });
    assert.equal(route.fileIdOf(request), manifest.id);
    return route.respond({ request, clientId: 'page', waitUntil: (p) => waits.push(p) }, manifest.id);
  };
  /** The page stores a piece and tells the worker. */
  const arrive = async (index: number) => {
    await store.putPieces(manifest.id, [{ index, data: slices[index]! }]);
    route.message(storedMessage(manifest.id));
  };
  return { bytes, manifest, store, focus, fetch, arrive, waits, hint: () => route.message(storedMessage(manifest.id)) };
}

const body = async (res: Response) => new Uint8Array(await res.arrayBuffer());

describe('media route', () => {
  test('a complete file: 200 whole, 206 for a range across pieces, 416 past the end', async () => {
    const w = await setup([0, 1, 2, 3, 4]);
    const whole = await w.fetch();
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('Content-Type'), 'video/webm', 'from the name, as the sharer gave no type');
    assert.deepEqual(await body(whole), w.bytes);
    const part = await w.fetch(`bytes=${PIECE - 10}-${2 * PIECE + 9}`);
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('Content-Range'), `bytes ${PIECE - 10}-${2 * PIECE + 9}/${w.bytes.length}`);
    assert.deepEqual(await body(part), w.bytes.subarray(PIECE - 10, 2 * PIECE + 10));
    const past = await w.fetch(`bytes=${w.bytes.length}-`);
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('Content-Range'), `bytes */${w.bytes.length}`);
    assert.equal(w.waits.length, 2, 'the worker is kept alive while each body streams');
    await Promise.all(w.waits);
  });

  test('a missing piece: the page hears where the player reads, and the body goes on once it is stored', async () => {
    const w = await setup([0, 1, 4]);
    const res = await w.fetch(`bytes=${PIECE + 5}-`);
    assert.equal(res.status, 206, 'headers go out at once; only the body waits');
    const reading = body(res);
    // Until the route has told the page twice (not a fixed 20 ms: on a busy machine the read may take longer).
    for (const deadline = Date.now() + 10_000; w.focus.length < 2 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(w.focus, [PIECE + 5, 2 * PIECE], 'piece 1 was read, piece 2 is awaited');
    await w.arrive(3);
    await w.arrive(2);
    assert.deepEqual(await reading, w.bytes.subarray(PIECE + 5));
    assert.deepEqual(w.focus, [PIECE + 5, 2 * PIECE, 3 * PIECE, 4 * PIECE]);
  });

  test('the file removed while the player waits: the body ends with an error, no hang', async () => {
    const w = await setup([0]);
    const reading = body(await w.fetch('bytes=0-'));
    await new Promise((r) => setTimeout(r, 20));
    await w.store.deletePieces(w.manifest.id, PIECES);
    await w.store.deleteRecord(w.manifest.id);
    w.hint(); // the page's next message makes it look again
    await assert.rejects(reading, /removed/);
  });

  test('a stored piece that fails verification is never sent', async () => {
    const w = await setup([0, 1, 2, 3, 4]);
    w.store.corruptPiece(w.manifest.id, 1);
    const res = await w.fetch(`bytes=0-${2 * PIECE}`);
    await assert.rejects(body(res), /failed verification/);
  });

  test('a file this browser does not have: 404', async () => {
    const w = await setup([]);
    await w.store.deletePieces(w.manifest.id, PIECES);
    await w.store.deleteRecord(w.manifest.id);
    const started = Date.now();
    const pending = w.fetch();
    const res = await pending;
    assert.equal(res.status, 404);
    assert.ok(Date.now() - started >= 250, 'it waited for the record a page may be writing');
  });
});
