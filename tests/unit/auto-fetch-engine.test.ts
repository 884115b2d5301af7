import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { BrowserStorage } from '../../src/app/storage-budget.ts';
import { createMemoryStore, type MemoryStore } from '../../src/storage/memory-store.ts';
import { createMemoryNetwork, type MemoryNetwork } from './helpers/memory-net.ts';
import { contentIdOf } from './helpers/library-fixture.ts';
import type { Identity } from '../../src/core/crypto/identity.ts';
import { blobSha256, fileOf, newTestIdentity, testRelay, throttle, until, type NodePeer } from './helpers/node-peer.ts';

/**
 * Rules that fetch for the person, through real engines over a real relay
 * and in-memory links: a matching file arrives with no click and the rest
 * stays, a reload neither loses the rule nor fetches again, Undo deletes and
 * is remembered, the sharer leaving mid-way, a rule removed mid-download,
 * the storage budget, and a draft fetched while its sharer still hashes it.
 */
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const relay = testRelay();
const MiB = 1024 * 1024;

const peer = (net: MemoryNetwork, name: string, room: string, opts: { store?: MemoryStore; upload?: number; storage?: BrowserStorage; identity?: Identity } = {}): Promise<NodePeer> =>
  relay.start(net, {
    name, room, store: opts.store, identity: opts.identity,
    deps: { ...(opts.upload ? { throttle: throttle(opts.upload) } : {}), ...(opts.storage ? { storage: opts.storage } : {}) },
  });

const view = (p: NodePeer, id: string) => p.engine.getState().files.find((f) => f.meta.id === id);
const rules = (p: NodePeer) => p.engine.getState().rules.list;
const held = (p: NodePeer, id: string) => p.engine.internals.library.get(id);
const bytes = (n: number) => new Uint8Array(randomBytes(n));
/** Until the rules' decision passes (started as the catalogue changed) are done: then nothing started means nothing will. */
const settle = (p: NodePeer) => p.engine.internals.rules.settled();

describe('rules that fetch for you, through the engine', () => {
  test('a new matching file comes with no click; others and older ones stay; a reload keeps the rule and fetches nothing again; Undo deletes, and stays undone', { timeout: 40_000 }, async () => {
    const net = createMemoryNetwork();
    const room = 'rules-a';
    const alice = await peer(net, 'Alice', room);
    const oldPhoto = bytes(200_000);
    await alice.engine.share([fileOf(oldPhoto, 'old.png', 'image/png')]);
    const oldId = await contentIdOf(oldPhoto);
    const store = createMemoryStore();
    const first = await peer(net, 'Bob', room, { store });
    await until(first.engine, () => view(first, oldId) !== undefined, 'the catalogue');
    await first.engine.ready;
    assert.equal(first.engine.addRule({ from: alice.id, fromName: 'Alice', category: 'image' }), true);
    assert.deepEqual(rules(first).map((r) => r.text), ['Every new image from Alice']);

    const photo = bytes(700_000);
    const notes = bytes(50_000);
    await alice.engine.share([fileOf(photo, 'new.png', 'image/png'), fileOf(notes, 'notes.txt', 'text/plain')]);
    const [photoId, notesId] = [await contentIdOf(photo), await contentIdOf(notes)];
    await until(first.engine, () => view(first, photoId)?.status === 'complete', 'the matching file to arrive by itself');
    assert.equal(view(first, photoId)!.fetchedBy, 'Every new image from Alice');
    assert.equal(view(first, photoId)!.saveReady, false, 'nobody asked for a save dialog');
    assert.equal(await blobSha256((await first.engine.save(photoId))!.blob), sha(photo));
    assert.equal(view(first, notesId)?.status, 'available', 'not an image: left alone');
    assert.equal(view(first, oldId)?.status, 'available', 'there before the rule: left alone');
    assert.deepEqual(rules(first)[0]!.entries.map((e) => [e.name, e.outcome, e.state]), [['new.png', 'fetched', 'here']]);
    await first.engine.internals.library.flush();
    first.engine.close();

    const bob = await peer(net, 'Bob again', room, { store });
    await bob.engine.ready;
    assert.deepEqual(rules(bob).map((r) => [r.text, r.fetched]), [['Every new image from Alice', 1]], 'the rule and what it did, restored');
    await until(bob.engine, () => view(bob, oldId) !== undefined && view(bob, notesId) !== undefined && view(bob, photoId) !== undefined, 'the catalogue again');
    await settle(bob);
    assert.equal(bob.engine.internals.downloads.size, 0, 'nothing fetched again');

    await bob.engine.undoRule(rules(bob)[0]!.id);
    assert.equal(held(bob, photoId), undefined, 'Undo deleted what the rule fetched');
    assert.equal(view(bob, photoId)?.status, 'available');
    assert.equal(view(bob, photoId)?.fetchedBy, null);
    assert.deepEqual(rules(bob)[0]!.entries.map((e) => e.outcome), ['undone']);
    bob.engine.close();

    const third = await peer(net, 'Bob once more', room, { store });
    await until(third.engine, () => view(third, photoId) !== undefined, 'the catalogue');
    await third.engine.ready;
    await settle(third);
    assert.equal(third.engine.internals.downloads.size, 0, 'an undone file is not fetched again');
    assert.equal(rules(third).length, 1, 'Undo keeps the rule');
  });

  test('the sharer leaving mid-way: the download waits and ends once; a rule removed mid-download stops it and fetches nothing more', { timeout: 60_000 }, async () => {
    const net = createMemoryNetwork();
    const room = 'rules-b';
    const aliceStore = createMemoryStore();
    const identity = newTestIdentity(); // the same person after her reload
    const alice = await peer(net, 'Alice', room, { store: aliceStore, upload: 1 * MiB, identity });
    const bob = await peer(net, 'Bob', room);
    await until(bob.engine, () => bob.engine.getState().peers.some((p) => p.id === alice.id && p.link === 'open'), 'the link');
    await bob.engine.ready;
    assert.ok(bob.engine.addRule({ from: alice.id, fromName: 'Alice' }));
    const big = bytes(3 * MiB + 17);
    await alice.engine.share([fileOf(big, 'big.bin')]);
    const bigId = await contentIdOf(big);
    await until(bob.engine, () => (held(bob, bigId)?.have.count ?? 0) >= 2, 'a few pieces');
    alice.engine.close();
    await until(bob.engine, () => !view(bob, bigId)!.holders.some((h) => h.id === alice.id), 'Alice to be gone');
    assert.equal(view(bob, bigId)!.status, 'downloading', 'waiting for a holder');
    const back = await peer(net, 'Alice back', room, { store: aliceStore, upload: 1 * MiB, identity });
    await until(bob.engine, () => view(bob, bigId)?.status === 'complete', 'the download to finish', 20_000);
    assert.equal(await blobSha256((await bob.engine.save(bigId))!.blob), sha(big));
    assert.equal(rules(bob)[0]!.entries.length, 1, 'one file, one entry');

    const second = bytes(3 * MiB + 5);
    await back.engine.share([fileOf(second, 'second.bin')]);
    const secondId = await contentIdOf(second);
    await until(bob.engine, () => (held(bob, secondId)?.have.count ?? 0) >= 1, 'the second download to start');
    bob.engine.removeRule(rules(bob)[0]!.id);
    assert.equal(bob.engine.internals.downloads.get(secondId), undefined, 'its download stopped');
    await until(bob.engine, () => held(bob, secondId) === undefined, 'its partial data to go');
    assert.equal(view(bob, bigId)?.status, 'complete', 'what it finished stays');
    assert.equal(view(bob, bigId)?.fetchedBy, null);
    const third = bytes(100_000);
    await back.engine.share([fileOf(third, 'third.bin')]);
    const thirdId = await contentIdOf(third);
    await until(bob.engine, () => view(bob, thirdId) !== undefined, 'the third file listed');
    await settle(bob);
    assert.equal(view(bob, thirdId)?.status, 'available', 'no rule, no fetch');
  });

  test('within the storage budget: a file that would not fit is skipped with the reason; a draft is fetched while being hashed', { timeout: 40_000 }, async () => {
    const net = createMemoryNetwork();
    const room = 'rules-c';
    const alice = await peer(net, 'Alice', room, { upload: 2 * MiB });
    const store = createMemoryStore();
    // The browser's estimate: 9 MiB for this site, used as the store fills.
    const storage: BrowserStorage = { estimate: async () => ({ quota: 9 * MiB, usage: store.pieceBytes() }), persist: async () => true };
    const bob = await peer(net, 'Bob', room, { store, storage });
    await until(bob.engine, () => bob.engine.getState().peers.some((p) => p.id === alice.id && p.link === 'open'), 'the link');
    await bob.engine.ready;
    assert.ok(bob.engine.addRule({}));
    const draft = bytes(6 * MiB + 3); // over 4 MiB: announced as a draft at once, fetched from Alice as she hashes it
    const tooBig = bytes(4 * MiB);
    await alice.engine.share([fileOf(draft, 'draft.bin')]);
    const draftFinal = await contentIdOf(draft);
    await until(bob.engine, () => view(bob, draftFinal)?.status === 'complete', 'the draft, final and complete', 30_000);
    assert.equal(await blobSha256((await bob.engine.save(draftFinal))!.blob), sha(draft));
    assert.deepEqual(rules(bob)[0]!.entries.map((e) => [e.fileId, e.outcome]), [[draftFinal, 'fetched']], 'the draft and its final file: one entry');
    assert.equal(view(bob, draftFinal)!.fetchedBy, 'Everything new');

    await alice.engine.share([fileOf(tooBig, 'too-big.bin')]);
    const tooBigId = await contentIdOf(tooBig);
    await until(bob.engine, () => rules(bob)[0]!.entries.length === 2, 'the second decision');
    const skipped = rules(bob)[0]!.entries[0]!;
    assert.equal(skipped.fileId, tooBigId);
    assert.equal(skipped.outcome, 'skipped');
    assert.match(skipped.reason!, /^not enough storage: it needs 4 MiB, about 3 MiB is free$/);
    assert.equal(view(bob, tooBigId)?.status, 'available');
  });
});
