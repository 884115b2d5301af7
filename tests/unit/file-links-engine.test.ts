import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { createMemoryStore, type MemoryStore } from '../../src/storage/memory-store.ts';
import { createMemoryNetwork, type MemoryNetwork } from './helpers/memory-net.ts';
import { contentIdOf } from './helpers/library-fixture.ts';
import { blobSha256, fileOf, testRelay, throttle, until, type NodePeer } from './helpers/node-peer.ts';

/**
 * File links and pause/resume through real engines over a real relay and
 * in-memory links: the orders of events a person can cause (link before the
 * holder, reload while waiting, holder gone mid-way and back, pause across a
 * reload), asserted by what they would see and by the bytes they would save.
 */
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const relay = testRelay();
const MiB = 1024 * 1024;

const peer = (net: MemoryNetwork, name: string, room: string, opts: { store?: MemoryStore; upload?: number } = {}): Promise<NodePeer> =>
  relay.start(net, { name, room, store: opts.store, deps: opts.upload ? { throttle: throttle(opts.upload) } : {} });

/** The id a file will have once shared: a link can name it before anyone shares it. */
const fileIdOf = contentIdOf;

const view = (p: NodePeer, id: string) => p.engine.getState().files.find((f) => f.meta.id === id);
const have = (p: NodePeer, id: string) => p.engine.internals.library.get(id)?.have.count ?? 0;

describe('file links through the engine', () => {
  test('opened before the file is shared: waits, survives a reload, starts on the announcement, survives its holder leaving mid-way', { timeout: 40_000 }, async () => {
    const net = createMemoryNetwork();
    const room = 'links-a';
    const original = new Uint8Array(randomBytes(3 * MiB + 777));
    const id = await fileIdOf(original);
    const bobStore = createMemoryStore();

    const firstBob = await peer(net, 'Bob', room, { store: bobStore });
    const firstWait = firstBob.engine.openFileLink(id);
    await until(firstBob.engine, () => firstBob.engine.getState().linkWaits.length === 1, 'the wait to show');
    assert.deepEqual(firstBob.engine.getState().linkWaits, [{ fileId: id, name: null }], 'only the id is known');
    await until(firstBob.engine, () => firstBob.engine.getState().relay === 'online', 'the relay');
    firstBob.engine.close(); // reloaded while waiting: the page opens the same link again

    const bob = await peer(net, 'Bob again', room, { store: bobStore });
    const wait = bob.engine.openFileLink(id);
    const aliceStore = createMemoryStore();
    const alice = await peer(net, 'Alice', room, { store: aliceStore, upload: 1 * MiB });
    await alice.engine.share([fileOf(original, 'linked.bin')]);
    assert.equal(await wait, 'started', 'the download began without anyone pressing Download');
    assert.equal(view(bob, id)?.status, 'downloading');
    await until(bob.engine, () => have(bob, id) >= 2, 'a few pieces');

    alice.engine.close(); // the only holder leaves mid-way
    await until(bob.engine, () => !view(bob, id)!.holders.some((h) => h.name === 'Alice'), 'Alice to be gone');
    assert.equal(view(bob, id)?.status, 'downloading', 'the download waits for a holder, its pieces kept');
    const alice2 = await peer(net, 'Alice back', room, { store: aliceStore });
    await until(bob.engine, () => view(bob, id)?.status === 'complete', 'the download to finish from Alice back', 20_000);
    assert.equal(view(bob, id)!.saveReady, true, 'complete and waiting for its one save');
    assert.equal(await blobSha256((await bob.engine.save(id))!.blob), sha(original));
    assert.deepEqual(bob.engine.getState().linkWaits, []);
    assert.equal(await Promise.race([firstWait, Promise.resolve('pending')]), 'pending', 'a closed engine settles nothing');
    alice2.engine.close();
  });

  test('a link to a file complete here fetches nothing; a link to a file that never appears waits until dismissed', { timeout: 20_000 }, async () => {
    const net = createMemoryNetwork();
    const alice = await peer(net, 'Alice', 'links-b');
    const bytes = new Uint8Array(randomBytes(300_000));
    await alice.engine.share([fileOf(bytes, 'mine.bin')]);
    const id = await fileIdOf(bytes);
    assert.equal(await alice.engine.openFileLink(id), 'complete');
    assert.equal(alice.engine.internals.downloads.size, 0);

    const ghost = 'e'.repeat(64);
    const waiting = alice.engine.openFileLink(ghost);
    await until(alice.engine, () => alice.engine.getState().linkWaits.some((w) => w.fileId === ghost), 'the ghost wait');
    alice.engine.dismissFileLink(ghost);
    assert.equal(await waiting, 'dismissed');
    assert.deepEqual(alice.engine.getState().linkWaits, []);
  });
  test('a link to a file this browser keeps for another room offers it here, complete, without fetching', { timeout: 20_000 }, async () => {
    const net = createMemoryNetwork();
    const store = createMemoryStore();
    const bytes = new Uint8Array(randomBytes(600_000));
    const inA = await peer(net, 'Alice in A', 'links-c1', { store });
    await inA.engine.share([fileOf(bytes, 'kept.bin')]);
    await inA.engine.internals.library.flush();
    inA.engine.close();
    const inB = await peer(net, 'Alice in B', 'links-c2', { store });
    await inB.engine.ready;
    const id = await fileIdOf(bytes);
    assert.equal(view(inB, id), undefined, 'not offered in room B unasked');
    assert.equal(await inB.engine.openFileLink(id), 'complete');
    assert.equal(view(inB, id)?.status, 'complete');
    assert.equal(inB.engine.internals.downloads.size, 0);
  });
});

describe('pause and resume', () => {
  test('a paused download keeps its pieces, stays paused across a reload, and resumes without refetching', { timeout: 40_000 }, async () => {
    const net = createMemoryNetwork();
    const room = 'pause-a';
    const original = new Uint8Array(randomBytes(4 * MiB + 5));
    const alice = await peer(net, 'Alice', room, { upload: 1 * MiB });
    await alice.engine.share([fileOf(original, 'big.bin')]);
    const id = await fileIdOf(original);
    const store = createMemoryStore();
    const first = await peer(net, 'Bob', room, { store });
    await until(first.engine, () => view(first, id) !== undefined, 'the catalogue');
    void first.engine.download(id);
    await until(first.engine, () => have(first, id) >= 3, 'some pieces');

    first.engine.pause(id);
    assert.equal(view(first, id)?.status, 'paused');
    assert.equal(first.engine.internals.downloads.get(id), undefined, 'nothing is fetched while paused');
    await new Promise((r) => setTimeout(r, 600)); // let answers already on the way arrive: they are not requests
    await first.engine.internals.library.flush();
    const kept = have(first, id);
    assert.ok(kept >= 3 && kept < 17, `kept ${kept} pieces`);
    first.engine.close();

    const bob = await peer(net, 'Bob again', room, { store });
    await bob.engine.ready;
    assert.equal(view(bob, id)?.status, 'paused', 'still paused after a reload');
    assert.equal(bob.engine.internals.downloads.size, 0);
    assert.equal(have(bob, id), kept);
    assert.equal(view(bob, id)?.bytesDone, kept * 256 * 1024);

    bob.engine.resume(id);
    assert.equal(view(bob, id)?.status, 'downloading');
    await until(bob.engine, () => view(bob, id)?.status === 'complete', 'the resumed download', 20_000);
    const stats = bob.engine.stats().downloads[id]!;
    assert.equal(stats.resumedWith, kept);
    assert.equal(stats.piecesReceived - stats.duplicatePieces, stats.pieceCount - kept, 'only missing pieces were fetched');
    assert.equal(await blobSha256((await bob.engine.save(id))!.blob), sha(original));
  });

  test('pausing before the manifest, or a complete file, does nothing; Download on a paused file resumes it', { timeout: 30_000 }, async () => {
    const net = createMemoryNetwork();
    const room = 'pause-b';
    const original = new Uint8Array(randomBytes(2 * MiB));
    const alice = await peer(net, 'Alice', room, { upload: 1 * MiB });
    await alice.engine.share([fileOf(original, 'b.bin')]);
    const id = await fileIdOf(original);
    alice.engine.pause(id);
    assert.equal(view(alice, id)?.status, 'complete');
    const bob = await peer(net, 'Bob', room);
    await until(bob.engine, () => view(bob, id) !== undefined, 'the catalogue');
    const done = bob.engine.download(id);
    bob.engine.pause(id); // still asking for the manifest: nothing stored, nothing to pause
    assert.notEqual(view(bob, id)?.status, 'paused');
    await until(bob.engine, () => have(bob, id) >= 1, 'a piece');
    bob.engine.pause(id);
    assert.equal(await done, false, 'the first request ended with the pause');
    assert.equal(view(bob, id)?.status, 'paused');
    assert.equal(await bob.engine.download(id), true, 'Download resumes it');
    assert.equal(bob.engine.internals.library.get(id)?.paused, false);
    assert.equal(await blobSha256((await bob.engine.save(id))!.blob), sha(original));
  });
});
