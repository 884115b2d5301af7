import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { createMemoryStore, type MemoryStore } from '../../src/storage/memory-store.ts';
import { createMemoryNetwork, type MemoryNetwork } from './helpers/memory-net.ts';
import { blobSha256, fileOf, testRelay, throttle, until, type NodePeer } from './helpers/node-peer.ts';

/**
 * Pieces stored a run per record (src/storage/runs.ts), through real engines
 * over in-memory links, with the memory store keeping the browser's layout:
 * a lost record takes its whole run and the run is fetched again; a damaged
 * piece repaired inside a run leaves no piece in two records and the file
 * whole; a download restarted mid-run resumes; two downloads at once each
 * store their own runs.
 */
const PIECE = 256 * 1024;
/** Pieces of the files here: enough for runs of 4 (the scheduler's runPieces). */
const N = 128;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const relay = testRelay();

const peer = (net: MemoryNetwork, name: string, room: string, store?: MemoryStore, upload?: number): Promise<NodePeer> =>
  relay.start(net, { name, room, store, deps: upload ? { throttle: throttle(upload) } : {} });
const fileView = (p: NodePeer, name: string) => p.engine.getState().files.find((f) => f.meta.name === name);
const storeKeyOf = (p: NodePeer, id: string) => p.engine.internals.library.get(id)!.storeKey;

/** Every piece of the file is in exactly one record, and records are runs (fewer than pieces). */
function assertRuns(store: MemoryStore, key: string, pieceCount: number): void {
  const pieces = store.pieceKeys().filter((k) => k.startsWith(`${key}:`));
  assert.equal(pieces.length, pieceCount, 'every piece stored');
  assert.equal(new Set(pieces).size, pieceCount, 'no piece twice');
  const records = store.recordCount(key);
  assert.ok(records < pieceCount, `${records} records for ${pieceCount} pieces`);
}

describe('pieces in runs, through the engine', () => {
  test('a lost record takes its run; the run is fetched again and the file saves whole', { timeout: 30_000 }, async () => {
    const net = createMemoryNetwork();
    const original = new Uint8Array(randomBytes(N * PIECE - 77));
    const aliceStore = createMemoryStore();
    const alice = await peer(net, 'Alice', 'runs-a', aliceStore);
    const bob = await peer(net, 'Bob', 'runs-a');
    await bob.engine.share([fileOf(original, 'runs.bin')]);
    const id = fileView(bob, 'runs.bin')!.meta.id;
    await until(alice.engine, () => fileView(alice, 'runs.bin')?.meta.id === id, 'the catalogue');
    assert.equal(await alice.engine.download(id), true);
    const key = storeKeyOf(alice, id);
    assertRuns(aliceStore, key, N);

    alice.engine.close();
    const before = aliceStore.pieceKeys().length;
    aliceStore.dropRecord(key, 20);
    const lost = before - aliceStore.pieceKeys().length;
    assert.ok(lost > 1, `the record held a run (${lost} pieces)`);
    const back = await peer(net, 'Alice', 'runs-a', aliceStore);
    await back.engine.ready;
    assert.ok(back.engine.getState().notices.some((n) => n.text.includes(`${lost} pieces of runs.bin went missing`)));
    await until(back.engine, () => fileView(back, 'runs.bin')?.status === 'complete', 'the repair from Bob');
    assert.equal(back.engine.stats().downloads[id]!.piecesReceived, lost);
    assertRuns(aliceStore, key, N);
    assert.equal(await blobSha256((await back.engine.save(id))!.blob), sha(original));
    for (const p of [back, bob]) p.engine.close();
  });

  test('a damaged piece inside a run is repaired; the run it was in goes, its pieces come back, nothing is in two records', { timeout: 40_000 }, async () => {
    const net = createMemoryNetwork();
    const original = new Uint8Array(randomBytes(N * PIECE));
    const [aliceStore, bobStore] = [createMemoryStore(), createMemoryStore()];
    const alice = await peer(net, 'Alice', 'runs-b', aliceStore);
    const bob = await peer(net, 'Bob', 'runs-b', bobStore);
    await alice.engine.share([fileOf(original, 'rot.bin')]);
    const id = fileView(alice, 'rot.bin')!.meta.id;
    await until(bob.engine, () => fileView(bob, 'rot.bin')?.meta.id === id, 'the catalogue');
    assert.equal(await bob.engine.download(id), true);
    const key = storeKeyOf(bob, id);
    const records = bobStore.recordCount(key);
    const runOf5 = bobStore.pieceKeys().length;

    // Alice is away and Bob's piece 5 rots: Carol gets the rest from Bob, who finds it bad when serving it.
    alice.engine.close();
    bobStore.corruptPiece(key, 5);
    const carol = await peer(net, 'Carol', 'runs-b');
    await until(carol.engine, () => fileView(carol, 'rot.bin') !== undefined, 'the catalogue');
    const done = carol.engine.download(id);
    await until(bob.engine, () => bob.engine.getState().notices.some((n) => n.text.includes('no longer matches its hash')), 'Bob to notice');
    // Alice is back: Carol finishes, Bob fetches piece 5 again, and its write replaces the run that held it.
    const back = await peer(net, 'Alice', 'runs-b', aliceStore);
    assert.equal(await done, true);
    assert.equal(await blobSha256((await carol.engine.save(id))!.blob), sha(original));
    await until(bob.engine, () => fileView(bob, 'rot.bin')?.status === 'complete', 'Bob to repair piece 5');
    assert.ok(bobStore.pieceKeys().length < runOf5, 'the damaged run went with its rewrite');

    // Bob's next start finds the run's other pieces missing and fetches them back.
    bob.engine.close();
    const bobAgain = await peer(net, 'Bob', 'runs-b', bobStore);
    await bobAgain.engine.ready;
    await until(bobAgain.engine, () => fileView(bobAgain, 'rot.bin')?.status === 'complete', 'Bob to refetch the run');
    assertRuns(bobStore, key, N);
    assert.ok(bobStore.recordCount(key) > records, 'the refetched pieces are records of their own');
    assert.equal(await blobSha256((await bobAgain.engine.save(id))!.blob), sha(original));
    for (const p of [back, bobAgain, carol]) p.engine.close();
  });

  test('a download restarted mid-run resumes; two downloads at once each store their own runs', { timeout: 30_000 }, async () => {
    const net = createMemoryNetwork();
    const one = new Uint8Array(randomBytes((N - 1) * PIECE + 5));
    const two = new Uint8Array(randomBytes(N * PIECE));
    const sharer = await peer(net, 'Sharer', 'runs-c', undefined, 16 * 1024 * 1024);
    await sharer.engine.share([fileOf(one, 'one.bin'), fileOf(two, 'two.bin')]);
    const store = createMemoryStore();
    const first = await peer(net, 'Downloader', 'runs-c', store);
    const [idOne, idTwo] = [fileView(sharer, 'one.bin')!.meta.id, fileView(sharer, 'two.bin')!.meta.id];
    await until(first.engine, () => fileView(first, 'one.bin')?.meta.id === idOne && fileView(first, 'two.bin')?.meta.id === idTwo, 'the catalogue');
    void first.engine.download(idOne);
    void first.engine.download(idTwo);
    await until(first.engine, () => (first.engine.stats().downloads[idOne]?.have ?? 0) >= 10, 'some of one.bin', 15_000);
    first.engine.close(); // the page goes away, most likely in the middle of a run

    const second = await peer(net, 'Downloader again', 'runs-c', store);
    await second.engine.ready;
    const [gotOne, gotTwo] = await Promise.all([second.engine.download(idOne), second.engine.download(idTwo)]);
    assert.deepEqual([gotOne, gotTwo], [true, true]);
    const resumed = second.engine.stats().downloads[idOne]!;
    assert.ok(resumed.resumedWith >= 10, `resumed with ${resumed.resumedWith} pieces`);
    assert.equal(resumed.piecesReceived, N - resumed.resumedWith, 'only the missing pieces were fetched');
    assertRuns(store, idOne, N);
    assertRuns(store, idTwo, N);
    assert.equal(await blobSha256((await second.engine.save(idOne))!.blob), sha(one));
    assert.equal(await blobSha256((await second.engine.save(idTwo))!.blob), sha(two));
    for (const p of [sharer, second]) p.engine.close();
  });
});
