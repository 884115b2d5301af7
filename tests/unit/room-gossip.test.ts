import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toBase64Url, utf8 } from '../../src/core/bytes.ts';
import { MAX_FILE_NAME, type Announcement } from '../../src/core/gossip/announcement.ts';
import { MAX_JSON_BYTES } from '../../src/core/wire/frames.ts';
import { fileId, makeFakeKey, makeKey, meta, signed, verify } from './helpers/gossip-keys.ts';
import { GossipRoom, type GossipNode } from './helpers/gossip-room.ts';

const fakeNodes = (room: GossipRoom, count: number, from = 1): GossipNode[] =>
  Array.from({ length: count }, (_, i) => room.add(makeFakeKey(from + i)));

describe('RoomGossip: load is never punished', () => {
  test('700 announcements from one origin in a 5-peer full mesh: all accepted, none forwarded, nobody banned', async () => {
    const room = new GossipRoom();
    const nodes = fakeNodes(room, 5);
    room.fullMesh(nodes);
    const [origin, ...others] = nodes;
    for (let f = 0; f < 700; f++) await origin!.gossip.announce('add', meta(f));
    await room.run();
    assert.deepEqual(room.allBans(), []);
    for (const n of others) {
      assert.equal(n.gossip.catalogue.entries().length, 700, `${n.id} catalogue`);
      assert.equal(n.sent.length, 0, `${n.id} forwarded nothing`);
      assert.equal(n.gossip.stats().forwarded, 0);
      assert.equal(n.gossip.stats()['over-budget'], 0);
    }
  });

  test('an honest forwarder is never banned nor charged for others\' announcements', async () => {
    const room = new GossipRoom({ limits: { burst: 50, perSecond: 0 } });
    // A line: X - F - Y, so F forwards everything X says to Y.
    const [x, f, y] = fakeNodes(room, 3);
    room.link(x!, f!);
    room.link(f!, y!);
    for (let i = 0; i < 50; i++) await x!.gossip.announce('add', meta(i));
    await room.run();
    assert.equal(f!.sent.filter((s) => s.to === y!.id).length, 50, 'F forwarded all of X\'s');
    for (let i = 100; i < 150; i++) await f!.gossip.announce('add', meta(i));
    await room.run();
    assert.deepEqual(room.allBans(), []);
    assert.equal(y!.gossip.catalogue.entries().length, 100, 'X\'s 50 and F\'s own 50');
    assert.equal(y!.gossip.stats()['over-budget'], 0);
  });

  test('over an origin\'s budget is dropped and counted, not banned', async () => {
    const room = new GossipRoom({ limits: { burst: 20, perSecond: 1 } });
    const [origin, peer] = fakeNodes(room, 2);
    room.link(origin!, peer!);
    for (let f = 0; f < 25; f++) await origin!.gossip.announce('add', meta(f));
    await room.run();
    assert.deepEqual(room.allBans(), []);
    assert.equal(peer!.gossip.catalogue.entries().length, 20);
    assert.equal(peer!.gossip.stats()['over-budget'], 5);
    assert.equal(peer!.verifications, 20, 'an empty budget is known before spending a signature check');
    room.clock += 60_000; // the budget refills; a resync brings the rest
    origin!.gossip.syncTo(peer!.id);
    await room.run();
    assert.equal(peer!.gossip.catalogue.entries().length, 25);
  });

  test('a copy of a statement already held is not verified again', async () => {
    const room = new GossipRoom();
    // A diamond: O - A, O - B, A - C, B - C, and D beyond C so nobody sees a full mesh.
    const [o, a, b, c, d] = fakeNodes(room, 5);
    for (const [p, q] of [[o, a], [o, b], [a, c], [b, c], [c, d]] as const) room.link(p!, q!);
    await o!.gossip.announce('add', meta(1));
    await room.run();
    assert.equal(c!.verifications, 1, 'C got two copies, checked one');
    assert.equal(c!.gossip.stats().duplicate, 1);
    assert.deepEqual(d!.gossip.catalogue.holders(fileId(1)), [o!.id]);
  });
});

describe('RoomGossip: only proof gets a link banned', () => {
  async function realRoom() {
    const room = new GossipRoom({ verify });
    const [alice, bob, mallory] = await Promise.all([makeKey(), makeKey(), makeKey()]);
    const nodes = { alice: room.add(alice), bob: room.add(bob), mallory: room.add(mallory) };
    room.fullMesh(Object.values(nodes));
    return { room, ...nodes };
  }

  test('a forged origin is refused and bans the sending link; a faithfully forwarded copy does not', async () => {
    const { room, alice, bob, mallory } = await realRoom();
    const genuine = await signed(bob.key, meta(1), 10);
    room.inject(mallory.id, alice, 'gossip', { ...genuine, hops: 1 }); // forwarded, hops changed: fine
    await room.run();
    assert.equal(alice.bans.length, 0);
    assert.deepEqual(alice.gossip.catalogue.holders(fileId(1)), [bob.id]);

    const inBobsName = await signed(mallory.key, meta(2), 10);
    room.inject(mallory.id, alice, 'gossip', { ...inBobsName, origin: bob.id });
    await room.run();
    assert.deepEqual(alice.bans.map((b) => [b.peer, b.code]), [[mallory.id, 'ERR_BAD_ORIGIN']]);
    assert.deepEqual(alice.gossip.catalogue.holders(fileId(2)), []);
  });

  test('a tampered statement (bigger size, Bob\'s key) bans the sender only', async () => {
    const { room, alice, bob, mallory } = await realRoom();
    const genuine = await signed(bob.key, meta(1), 10);
    room.inject(mallory.id, alice, 'catalogue', [{ ...genuine, file: { ...genuine.file, size: 2 ** 33 } }]);
    await room.run();
    assert.deepEqual(alice.bans.map((b) => [b.peer, b.code]), [[mallory.id, 'ERR_BAD_SIGNATURE']]);
    assert.deepEqual(alice.gossip.catalogue.entries(), []);
    const key = toBase64Url(bob.key.publicKey);
    assert.equal(genuine.key, key);
  });

  test('malformed JSON is proof: unsigned announcements, a catalogue that is not a list', async () => {
    const { room, alice, mallory, bob } = await realRoom();
    room.inject(mallory.id, alice, 'gossip', { id: '0'.repeat(32), origin: mallory.id, hops: 3, kind: 'add', file: meta(1) });
    room.inject(bob.id, alice, 'catalogue', { not: 'a list' });
    await room.run();
    assert.deepEqual(alice.bans.map((b) => [b.peer, b.code]), [[mallory.id, 'ERR_BAD_GOSSIP'], [bob.id, 'ERR_BAD_GOSSIP']]);
  });

  test('our own announcements echoed back are ignored', async () => {
    const { room, alice, bob } = await realRoom();
    await alice.gossip.announce('add', meta(1));
    await room.run();
    const own = alice.gossip.catalogue.latest(alice.id, fileId(1))!;
    room.inject(bob.id, alice, 'gossip', { ...own, hops: 2 });
    await room.run();
    assert.equal(alice.gossip.stats().own, 1);
    assert.deepEqual(alice.bans, []);
  });
});

describe('RoomGossip: seq decides', () => {
  test('a newer seq replaces an older one, in whatever order they arrive', async () => {
    const room = new GossipRoom();
    const [origin, peer] = fakeNodes(room, 2);
    room.link(origin!, peer!);
    const older = await signed(origin!.key, meta(1, { name: 'draft.txt' }), 10);
    const newer = await signed(origin!.key, meta(1, { name: 'final.txt' }), 11);
    room.inject(origin!.id, peer!, 'gossip', newer);
    room.inject(origin!.id, peer!, 'gossip', older);
    await room.run();
    assert.equal(peer!.gossip.catalogue.meta(fileId(1))?.name, 'final.txt');
    await origin!.gossip.announce('add', meta(1, { name: 'renamed.txt' }));
    await room.run();
    assert.equal(peer!.gossip.catalogue.meta(fileId(1))?.name, 'renamed.txt', 'our own seq is ahead of the wall clock');
  });

  test('a remove tombstone beats an older add re-synced by a lagging neighbour', async () => {
    const room = new GossipRoom();
    const [origin, lagging, newcomer] = fakeNodes(room, 3);
    room.link(origin!, newcomer!);
    const add = await signed(origin!.key, meta(1), 10);
    lagging!.gossip.catalogue.apply(add); // it never heard the remove
    await origin!.gossip.announce('remove', meta(1));
    await room.run();
    room.link(lagging!, newcomer!);
    lagging!.gossip.syncTo(newcomer!.id);
    await room.run();
    assert.deepEqual(newcomer!.gossip.catalogue.holders(fileId(1)), []);
    assert.equal(newcomer!.gossip.stats().stale, 1);
    assert.deepEqual(room.allBans(), []);
  });

  test('someone who left cannot be brought back by a lagging sync', async () => {
    const room = new GossipRoom();
    const [gone, holder, peer] = fakeNodes(room, 3);
    room.link(holder!, peer!);
    holder!.gossip.catalogue.apply(await signed(gone!.key, meta(1), 10));
    peer!.gossip.catalogue.apply(await signed(gone!.key, meta(1), 10));
    room.present.delete(gone!.id);
    peer!.gossip.peerGone(gone!.id);
    holder!.gossip.syncTo(peer!.id);
    await room.run();
    assert.deepEqual(peer!.gossip.catalogue.entries(), []);
    assert.equal(peer!.gossip.stats()['not-a-member'], 1);
    assert.equal(holder!.gossip.keepOnly(room.present), true, 'after a relay welcome without it');
    assert.deepEqual(holder!.gossip.catalogue.entries(), []);
  });
});

describe('RoomGossip: catalogue sync', () => {
  test('40 announcements with 255-character CJK names pack into frames of at most 32 KiB, and all arrive', async () => {
    const room = new GossipRoom();
    const [origin, holder, newcomer] = fakeNodes(room, 3);
    room.link(origin!, holder!);
    const name = (f: number) => `${f}`.padEnd(MAX_FILE_NAME, '漢');
    for (let f = 0; f < 40; f++) await origin!.gossip.announce('add', meta(f, { name: name(f) }));
    await room.run();
    room.link(holder!, newcomer!);
    holder!.gossip.syncTo(newcomer!.id);
    await room.run();
    const frames = holder!.sent.filter((s) => s.type === 'catalogue');
    assert.ok(frames.length >= 2, `40 * ~900 bytes need several frames, got ${frames.length}`);
    for (const f of frames) assert.ok(f.bytes <= 1 + MAX_JSON_BYTES, `${f.bytes} bytes`);
    assert.equal(newcomer!.gossip.catalogue.entries().length, 40);
    assert.equal(newcomer!.gossip.catalogue.meta(fileId(7))?.name, name(7));
    assert.ok(utf8(name(7)).length > 700);
  });

  test('6,000 (file, holder) pairs from many origins sync without banning anyone', async () => {
    const room = new GossipRoom();
    const origins = fakeNodes(room, 8, 100);
    const [holder, newcomer] = fakeNodes(room, 2);
    room.link(holder!, newcomer!);
    let pairs = 0;
    for (const [i, o] of origins.entries()) {
      for (let f = 0; f < 750; f++, pairs++) holder!.gossip.catalogue.apply(await signed(o.key, meta(f + (i % 2) * 375), 5));
    }
    assert.equal(pairs, 6_000);
    holder!.gossip.syncTo(newcomer!.id);
    await room.run();
    assert.deepEqual(room.allBans(), []);
    const held = newcomer!.gossip.catalogue.entries().reduce((n, e) => n + e.holders.length, 0);
    assert.equal(held, 6_000);
  });

  test('the same file under two names from two origins shows both; a liar\'s size sits beside the honest one', async () => {
    const room = new GossipRoom();
    const [alice, bob, liar, carol] = fakeNodes(room, 4);
    room.fullMesh([alice!, bob!, liar!, carol!]);
    await alice!.gossip.announce('add', meta(1, { name: 'holiday.jpg' }));
    await bob!.gossip.announce('add', meta(1, { name: 'IMG_0042.jpg' }));
    await liar!.gossip.announce('add', meta(1, { name: 'holiday.jpg', size: 15 * 2 ** 30 }));
    await room.run();
    const cat = carol!.gossip.catalogue;
    assert.deepEqual(cat.metas(fileId(1)).map((m) => [m.name, m.size]), [
      ['holiday.jpg', meta(1).size], ['IMG_0042.jpg', meta(1).size], ['holiday.jpg', 15 * 2 ** 30],
    ]);
    assert.equal(cat.metaFrom(alice!.id, fileId(1))?.size, meta(1).size);
    assert.equal(cat.metaFrom(liar!.id, fileId(1))?.size, 15 * 2 ** 30);
    assert.deepEqual(cat.holders(fileId(1)), [alice!.id, bob!.id, liar!.id]);
  });
});

export type { Announcement };
