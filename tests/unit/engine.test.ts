import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { createMemoryStore, type MemoryStore } from '../../src/storage/memory-store.ts';
import { createMemoryNetwork, type MemoryConn, type MemoryNetwork } from './helpers/memory-net.ts';
import { blobSha256, fileOf, testRelay, throttle, until, type NodePeer } from './helpers/node-peer.ts';

/**
 * The whole app minus WebRTC and IndexedDB: real engines, a real relay on
 * port 0, in-memory links and stores. Asserts what a person would see: the
 * bytes they save hash to the bytes that were shared.
 */
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const relay = testRelay();

async function peer(net: MemoryNetwork, name: string, room: string, uploadBytesPerSecond?: number, store?: MemoryStore): Promise<NodePeer> {
  return relay.start(net, { name, room, store, deps: uploadBytesPerSecond ? { throttle: throttle(uploadBytesPerSecond) } : {} });
}

/** Alice and Bob in a room of their own; Alice's uploads capped when asked. */
async function pair(topic: string, aliceUploadBytesPerSecond?: number): Promise<{ alice: NodePeer; bob: NodePeer }> {
  const net = createMemoryNetwork();
  return { alice: await peer(net, 'Alice', topic, aliceUploadBytesPerSecond), bob: await peer(net, 'Bob', topic) };
}

const fileView = (p: NodePeer, name: string) => p.engine.getState().files.find((f) => f.meta.name === name);
const openPeers = (p: NodePeer) => p.engine.getState().peers.filter((x) => x.link === 'open' && x.name !== null);
/** The in-memory link `from` uses to talk to `to`. */
const linkBetween = (from: NodePeer, to: NodePeer) => from.engine.internals.sessions.get(to.id)!.link as unknown as MemoryConn;

describe('engine over a real relay and in-memory links', () => {
  test('share, see it listed, download, verify; a late joiner fetches from both holders', { timeout: 30_000 }, async () => {
    const net = createMemoryNetwork();
    const topic = 'room-b';
    const alice = await peer(net, 'Alice', topic);
    const bob = await peer(net, 'Bob', topic);
    await until(alice.engine, () => openPeers(alice).some((p) => p.name === 'Bob'), 'Alice to see Bob');
    await until(bob.engine, () => openPeers(bob).some((p) => p.name === 'Alice'), 'Bob to see Alice');
    // Both ends show the same safety number (from both identity keys), not yet marked verified.
    const view = (p: NodePeer, other: NodePeer) => p.engine.getState().peers.find((x) => x.id === other.id);
    await until(alice.engine, () => !!view(alice, bob)?.safetyNumber, 'Alice\'s safety number');
    await until(bob.engine, () => !!view(bob, alice)?.safetyNumber, 'Bob\'s safety number');
    assert.match(view(alice, bob)!.safetyNumber!, /^\d{5} \d{5} \d{5} \d{5}$/);
    assert.equal(view(alice, bob)!.safetyNumber, view(bob, alice)!.safetyNumber);
    assert.equal(view(alice, bob)!.verified, false);

    const original = new Uint8Array(randomBytes(3 * 1024 * 1024 + 12345));
    await alice.engine.share([fileOf(original, 'data.bin')]);
    await until(bob.engine, () => fileView(bob, 'data.bin')?.holders.some((h) => h.name === 'Alice') ?? false, 'the announcement');
    const listed = fileView(bob, 'data.bin')!;
    assert.equal(listed.meta.size, original.length);
    assert.equal(listed.status, 'available');

    assert.equal(await bob.engine.download(listed.meta.id), true);
    const saved = await bob.engine.save(listed.meta.id);
    assert.ok(saved);
    assert.equal(saved.name, 'data.bin');
    assert.equal(await blobSha256(saved.blob), sha(original));
    await until(alice.engine, () => fileView(alice, 'data.bin')!.holders.length === 2, 'Bob to be listed as a holder');

    const carol = await peer(net, 'Carol', topic);
    await until(carol.engine, () => (fileView(carol, 'data.bin')?.holders.length ?? 0) === 2, 'Carol to learn the catalogue');
    await until(carol.engine, () => openPeers(carol).length === 2, 'Carol to connect to both');
    assert.equal(await carol.engine.download(listed.meta.id), true);
    const carolSaved = await carol.engine.save(listed.meta.id);
    assert.equal(await blobSha256(carolSaved!.blob), sha(original));
    // Carol's pieces came from both holders, and nothing much was sent twice.
    const fromAlice = linkBetween(alice, carol).dataBytesSent;
    const fromBob = linkBetween(bob, carol).dataBytesSent;
    assert.ok(fromAlice > 0 && fromBob > 0, `both holders served Carol (Alice ${fromAlice}, Bob ${fromBob})`);
    assert.ok(fromAlice + fromBob < original.length * 1.2, `little was fetched twice (${fromAlice + fromBob} bytes)`);

    // Alice leaves: she disappears from presence and from the holders of her files.
    alice.engine.close();
    await until(carol.engine, () => !carol.engine.getState().peers.some((p) => p.id === alice.id), 'Alice to leave Carol\'s list');
    await until(carol.engine, () => !fileView(carol, 'data.bin')!.holders.some((h) => h.id === alice.id), 'Alice to stop holding');
  });

  test('a peer that corrupts pieces is banned after 3 bad pieces; the download completes intact from others', { timeout: 30_000 }, async () => {
    const net = createMemoryNetwork();
    const topic = 'room-c';
    // The honest peer is slow, so the liar is asked for many pieces before the file is done.
    const honest = await peer(net, 'Honest', topic, 2 * 1024 * 1024);
    const liar = await peer(net, 'Liar', topic);
    const original = new Uint8Array(randomBytes(4 * 1024 * 1024));
    await honest.engine.share([fileOf(original, 'big.bin')]);
    await liar.engine.share([fileOf(original, 'big.bin')]);
    const victim = await peer(net, 'Victim', topic);
    await until(victim.engine, () => (fileView(victim, 'big.bin')?.holders.length ?? 0) === 2, 'both holders listed');
    await until(victim.engine, () => openPeers(victim).length === 2, 'links to both holders');
    // Every DATA frame the liar sends the victim has a flipped byte.
    linkBetween(liar, victim).mangle = (frame) => {
      if (frame[0] === 0x08) frame[frame.length - 1]! ^= 0xff;
      return frame;
    };
    const id = fileView(victim, 'big.bin')!.meta.id;
    assert.equal(await victim.engine.download(id), true);
    const saved = await victim.engine.save(id);
    assert.equal(await blobSha256(saved!.blob), sha(original));
    const manager = victim.engine.internals.peers()!;
    assert.ok(manager.isBanned(liar.id), 'the liar is banned');
    assert.ok(!manager.isBanned(honest.id), 'the honest peer is not');
    assert.ok(victim.engine.stats().downloads[id]!.badPieces >= 3, 'it took three bad pieces');
    assert.ok(victim.engine.internals.downloads.size === 0);
    assert.ok(victim.engine.getState().notices.some((n) => n.text.includes('3 pieces failed verification')));
  });

  test('garbage frames from a peer end that link without harming the app', { timeout: 20_000 }, async () => {
    const net = createMemoryNetwork();
    const topic = 'room-d';
    const a = await peer(net, 'A', topic);
    const b = await peer(net, 'B', topic);
    await until(a.engine, () => openPeers(a).length === 1, 'A and B to connect');
    const link = b.engine.internals.sessions.get(a.id)!.link;
    link.send(new Uint8Array([0x42, 1, 2, 3])); // unknown frame type
    await until(a.engine, () => a.engine.internals.peers()!.isBanned(b.id), 'B to be banned');
    assert.ok(a.engine.getState().notices.some((n) => n.text.includes('unknown frame type')));
    // A keeps working: it can still share.
    await a.engine.share([fileOf(new Uint8Array(randomBytes(1000)), 'ok.txt', 'text/plain')]);
    assert.equal(fileView(a, 'ok.txt')?.status, 'complete');
  });

  test('the same bytes under two names show both names; re-sharing one\'s own file under a new name renames it', { timeout: 20_000 }, async () => {
    const net = createMemoryNetwork();
    const topic = 'room-names';
    const alice = await peer(net, 'Alice', topic);
    const bob = await peer(net, 'Bob', topic);
    const carol = await peer(net, 'Carol', topic);
    await until(carol.engine, () => openPeers(carol).length === 2, 'Carol to meet both');
    const bytes = new Uint8Array(randomBytes(300_000));
    await alice.engine.share([fileOf(bytes, 'holiday.jpg')]);
    await bob.engine.share([fileOf(bytes, 'IMG_0042.jpg')]);
    const only = () => carol.engine.getState().files;
    await until(carol.engine, () => only().length === 1 && only()[0]!.holders.length === 2, 'one file, two holders');
    const names = () => new Set([only()[0]!.meta.name, ...only()[0]!.otherNames]);
    assert.deepEqual(names(), new Set(['holiday.jpg', 'IMG_0042.jpg']), 'each name its holders gave it');

    await alice.engine.share([fileOf(bytes, 'beach.jpg')]);
    await until(carol.engine, () => names().has('beach.jpg') && !names().has('holiday.jpg'), 'Alice\'s new name to replace her old one');
    assert.equal(alice.engine.getState().files.find((f) => f.meta.id === only()[0]!.meta.id)?.meta.name, 'beach.jpg');
  });

  test('Download clicked again while its Cancel is still deleting the partial data: a new download that completes intact', { timeout: 30_000 }, async () => {
    const { alice, bob } = await pair('room-cancel-race', 2 * 1024 * 1024);
    const original = new Uint8Array(randomBytes(2 * 1024 * 1024 + 7));
    await alice.engine.share([fileOf(original, 'race.bin')]);
    await until(bob.engine, () => fileView(bob, 'race.bin')?.status === 'available', 'the announcement');
    const id = fileView(bob, 'race.bin')!.meta.id;
    const first = bob.engine.download(id);
    await until(bob.engine, () => (fileView(bob, 'race.bin')?.bytesDone ?? 0) > 0, 'some pieces stored');
    const cancelled = bob.engine.cancel(id); // not awaited: the person taps Download again at once
    const again = bob.engine.download(id);
    assert.equal(await first, false, 'the cancelled download reports it stopped');
    await cancelled;
    assert.equal(await again, true, 'the new download completes');
    const saved = await bob.engine.save(id);
    assert.ok(saved);
    assert.equal(await blobSha256(saved.blob), sha(original));
    for (const p of [alice, bob]) p.engine.close();
  });

  test('sharing more files than one person may offer in a room: the person is told, and the room still sees the first 1,000', { timeout: 60_000 }, async () => {
    const { alice, bob } = await pair('room-many-files');
    const files = Array.from({ length: 1001 }, (_, i) => fileOf(new Uint8Array([i & 0xff, i >> 8, 7]), `f${i}.bin`));
    await alice.engine.share(files);
    const told = () => alice.engine.getState().notices.some((n) => n.kind === 'error' && n.text.includes('the most one person can'));
    await until(alice.engine, told, 'Alice to be told');
    await until(bob.engine, () => bob.engine.getState().files.length === 1000, 'Bob to list the first 1,000');
    for (const p of [alice, bob]) p.engine.close();
  });

  test('a display name change reaches the other peers', { timeout: 20_000 }, async () => {
    const net = createMemoryNetwork();
    const topic = 'room-e';
    const a = await peer(net, 'Before', topic);
    const b = await peer(net, 'B', topic);
    await until(b.engine, () => openPeers(b).some((p) => p.name === 'Before'), 'the first name');
    a.engine.setName('  After\u202e ');
    await until(b.engine, () => openPeers(b).some((p) => p.name === 'After'), 'the new, cleaned name');
    assert.equal(await a.store.getPref('name'), 'After');
  });

  test('a restarted downloader resumes from storage without fetching any verified piece again', { timeout: 30_000 }, async () => {
    const net = createMemoryNetwork();
    const topic = 'room-f';
    const sharer = await peer(net, 'Sharer', topic, 4 * 1024 * 1024);
    const original = new Uint8Array(randomBytes(6 * 1024 * 1024));
    await sharer.engine.share([fileOf(original, 'resume.bin')]);
    const store = createMemoryStore();
    const first = await peer(net, 'Downloader', topic, undefined, store);
    await until(first.engine, () => fileView(first, 'resume.bin') !== undefined, 'the catalogue');
    const id = fileView(first, 'resume.bin')!.meta.id;
    void first.engine.download(id);
    await until(first.engine, () => (first.engine.stats().downloads[id]?.have ?? 0) >= 8, 'a third of the pieces', 15_000);
    first.engine.close(); // the page goes away mid-transfer
    const heldBefore = (await store.getFile(id))!.have;

    const second = await peer(net, 'Downloader again', topic, undefined, store);
    await second.engine.ready;
    assert.equal(await second.engine.download(id), true);
    const stats = second.engine.stats().downloads[id]!;
    assert.ok(stats.resumedWith >= 8, `resumed with ${stats.resumedWith} pieces`);
    assert.equal(stats.duplicatePieces, 0);
    assert.equal(stats.piecesReceived, stats.pieceCount - stats.resumedWith, 'only the missing pieces were fetched');
    assert.ok(heldBefore.some((b) => b !== 0));
    const saved = await second.engine.save(id);
    assert.equal(await blobSha256(saved!.blob), sha(original));
  });

  test('pieces missing from storage at startup are fetched again; a damaged piece is never served', { timeout: 30_000 }, async () => {
    const net = createMemoryNetwork();
    const topic = 'room-1';
    const original = new Uint8Array(randomBytes(2 * 1024 * 1024));
    const aliceStore = createMemoryStore();
    const alice = await peer(net, 'Alice', topic, undefined, aliceStore);
    const bob = await peer(net, 'Bob', topic);
    await alice.engine.share([fileOf(original, 'repair.bin')]);
    await bob.engine.share([fileOf(original, 'repair.bin')]);
    const id = fileView(alice, 'repair.bin')!.meta.id;
    // Pieces are stored under the key the import began with (the draft id it had; see LocalFile.storeKey).
    const keyOf = (p: NodePeer) => p.engine.internals.library.get(id)!.storeKey;
    const bobKey = keyOf(bob);

    // Alice's browser loses two pieces while she is away.
    const aliceKey = keyOf(alice);
    alice.engine.close();
    aliceStore.dropPiece(aliceKey, 1);
    aliceStore.dropPiece(aliceKey, 5);
    const back = await peer(net, 'Alice', topic, undefined, aliceStore);
    await back.engine.ready;
    assert.ok(back.engine.getState().notices.some((n) => n.text.includes('2 pieces of repair.bin went missing')));
    await until(back.engine, () => fileView(back, 'repair.bin')?.status === 'complete', 'the repair from Bob');
    assert.equal(back.engine.stats().downloads[id]!.piecesReceived, 2);
    assert.equal(await blobSha256((await back.engine.save(id))!.blob), sha(original));

    // Alice leaves, and Bob's copy of piece 0 rots on disk. He must not serve it: Carol gets
    // everything else from him and waits for piece 0 until Alice is back; Bob repairs from her too.
    back.engine.close();
    (bob.store as MemoryStore).corruptPiece(bobKey, 0);
    const carol = await peer(net, 'Carol', topic);
    await until(carol.engine, () => openPeers(carol).length === 1 && fileView(carol, 'repair.bin') !== undefined, 'Carol to meet Bob');
    const done = carol.engine.download(id);
    await until(carol.engine, () => (carol.engine.stats().downloads[id]?.have ?? 0) === 7, 'all but the rotten piece');
    await until(bob.engine, () => bob.engine.getState().notices.some((n) => n.text.includes('no longer matches its hash')), 'Bob to notice');
    assert.equal(fileView(carol, 'repair.bin')!.status, 'downloading', 'Carol waits for a good copy');
    const again = await peer(net, 'Alice', topic, undefined, aliceStore);
    assert.equal(await done, true);
    assert.equal(carol.engine.stats().downloads[id]!.badPieces, 0, 'nothing bad was ever sent');
    assert.equal(await blobSha256((await carol.engine.save(id))!.blob), sha(original));
    await until(bob.engine, () => fileView(bob, 'repair.bin')?.status === 'complete', 'Bob to repair piece 0');
    again.engine.close();
  });
});

describe('renames are budgeted, never lost', () => {
  test('a burst of renames shows the last one; the ones in between are dropped and counted, nobody is banned', { timeout: 20_000 }, async () => {
    const net = createMemoryNetwork();
    const topic = 'room-renames';
    const alice = await peer(net, 'Alice', topic);
    const bob = await peer(net, 'Bob', topic);
    await until(bob.engine, () => openPeers(bob).some((p) => p.name === 'Alice'), 'Bob to see Alice');
    for (let i = 1; i <= 20; i++) alice.engine.setName(`Alice ${i}`);
    await until(bob.engine, () => openPeers(bob).some((p) => p.name === 'Alice 20'), 'the last name to show', 15_000);
    const session = bob.engine.internals.sessions.get(alice.id)!;
    assert.ok(session.droppedRenames > 0, 'the renames in between were dropped and counted');
    assert.equal(bob.engine.internals.peers()?.isBanned(alice.id), false);
  });
});
