import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { utf8 } from '../../src/core/bytes.ts';
import { parseAnnouncement, signedBytes, verifyAnnouncement } from '../../src/core/gossip/announcement.ts';
import {
  floods, judgeDelivery, makeAudience, MAX_AUDIENCE, mayKnow, parseAudience, recipients, widenWith, widenedBy, widens,
} from '../../src/core/gossip/audience.ts';
import { fakeVerify, idOf, makeFakeKey, meta, signed } from './helpers/gossip-keys.ts';
import { GossipRoom, type GossipNode } from './helpers/gossip-room.ts';
import { peerId } from './helpers/statements.ts';

const [A, B, C, D] = [1, 2, 3, 4].map(peerId) as [string, string, string, string];

describe('audience rules (core/gossip/audience.ts)', () => {
  test('an audience is canonical: sorted, no repeats, the chooser in it, at most 64', () => {
    assert.deepEqual(makeAudience(C, [B, A, B]), { ok: true, value: [A, B, C] });
    assert.equal(makeAudience(A, []).ok, false, 'nobody chosen');
    assert.equal(makeAudience(A, [A]).ok, false, 'only ourselves');
    assert.equal(makeAudience(A, ['not an id']).ok, false);
    const many = Array.from({ length: MAX_AUDIENCE }, (_, i) => peerId(100 + i));
    assert.equal(makeAudience(A, many.slice(0, MAX_AUDIENCE - 1)).ok, true, '63 chosen plus us');
    assert.equal(makeAudience(A, many).ok, false, '64 chosen plus us');
  });

  test('a peer\'s audience must be canonical, or the statement is malformed', () => {
    assert.equal(parseAudience([A, B]).ok, true);
    for (const bad of [[], [B, A], [A, A], [A, 'x'], 'A', null, [A, 5], Array.from({ length: MAX_AUDIENCE + 1 }, (_, i) => peerId(i))]) {
      assert.equal(parseAudience(bad).ok, false, JSON.stringify(bad).slice(0, 40));
    }
  });

  test('who may know: everyone for a room file, only members for a chosen audience', () => {
    assert.equal(mayKnow(undefined, C), true);
    assert.equal(mayKnow([A, B], B), true);
    assert.equal(mayKnow([A, B], C), false);
    assert.equal(floods(undefined), true);
    assert.equal(floods([A, B]), false);
    assert.deepEqual(recipients([A, B, D], A, [A, B, C]), [B], 'linked members only, never ourselves or outsiders');
  });

  test('a delivery is for us only when we and the sender are both in the audience', () => {
    assert.equal(judgeDelivery([A, B], B, A), 'for-us');
    assert.equal(judgeDelivery([A, B], C, A), 'not-for-us');
    assert.equal(judgeDelivery([A, B], B, C), 'sender-outside');
  });

  test('widening: a superset or the whole room, from someone already in it; never narrower', () => {
    assert.equal(widens([A, B], [A, B, D]), true);
    assert.equal(widens([A, B], undefined), true);
    assert.equal(widens([A, B, D], [A, B]), false);
    assert.equal(widens(undefined, [A, B]), false, 'a room file cannot be narrowed');
    assert.deepEqual(widenedBy([A, B], A, [A, B, D]), [A, B, D]);
    assert.equal(widenedBy([A, B], A, undefined), undefined, 'to the whole room');
    assert.equal(widenedBy([A, B], C, undefined), null, 'an outsider cannot widen it');
    assert.equal(widenedBy([A, B, D], A, [A, B]), null, 'narrower: nothing changes');
    assert.equal(widenedBy([A, B], A, [A, B]), null, 'the same set: nothing changes');
    assert.equal(widenedBy(undefined, A, [A, B]), null, 'a room file stays a room file');
    assert.deepEqual(widenWith([B, A].sort(), [D, A]), { ok: true, value: [A, B, D] });
    assert.deepEqual(widenWith(undefined, [D]), { ok: true, value: undefined });
    const many = Array.from({ length: MAX_AUDIENCE }, (_, i) => peerId(100 + i));
    assert.equal(widenWith([A], many).ok, false, 'bounded');
  });
});

describe('announcements with an audience', () => {
  const alice = makeFakeKey(1);
  const bob = makeFakeKey(2);
  const audience = [alice.id, bob.id].sort();

  test('the audience is signed: changing it breaks the signature', async () => {
    const a = await signed(alice, meta(1, { audience }), 10);
    assert.equal((await verifyAnnouncement(a, fakeVerify, idOf)).ok, true);
    const widened = { ...a, file: { ...a.file, audience: [...audience, makeFakeKey(3).id].sort() } };
    assert.equal((await verifyAnnouncement(widened, fakeVerify, idOf)).ok, false, 'someone else added');
    const { audience: _dropped, ...publicFile } = a.file;
    assert.equal((await verifyAnnouncement({ ...a, file: publicFile }, fakeVerify, idOf)).ok, false, 'audience removed');
  });

  test('a file without an audience signs exactly the bytes it did before audiences existed', () => {
    const fields = { origin: A, key: 'k', seq: 1, kind: 'add' as const, file: meta(1) };
    assert.equal(new TextDecoder().decode(signedBytes(fields)), JSON.stringify(['meshdrop/v1/announce', 1, A, 'k', 1, 'add', meta(1).id, 'file 1.bin', 1001, 'application/octet-stream']));
    // The audience layout has a length of its own: no path, draft or was can pass for it.
    const withAudience = JSON.parse(new TextDecoder().decode(signedBytes({ ...fields, file: meta(1, { audience: [A, B] }) })));
    assert.equal(withAudience.length, 14);
    assert.deepEqual(withAudience.slice(10), [null, null, null, [A, B]]);
  });

  test('parse: the origin must be in its own audience', async () => {
    const ok = await signed(alice, meta(1, { audience }), 10);
    assert.equal(parseAnnouncement(JSON.parse(JSON.stringify(ok))).ok, true);
    const without = await signed(alice, meta(1, { audience: [bob.id, makeFakeKey(3).id].sort() }), 10);
    assert.equal(parseAnnouncement(JSON.parse(JSON.stringify(without))).ok, false);
    assert.ok(utf8(JSON.stringify(ok)).length < 1000);
  });
});

describe('RoomGossip with audiences (three peers, in-memory links)', () => {
  const setup = () => {
    const room = new GossipRoom();
    const [alice, bob, carol] = [1, 2, 3].map((n) => room.add(makeFakeKey(n))) as [GossipNode, GossipNode, GossipNode];
    return { room, alice, bob, carol };
  };
  const audienceOf = (...nodes: GossipNode[]) => nodes.map((n) => n.id).sort();
  const knows = (n: GossipNode, id: string) => n.gossip.catalogue.announcements().some((a) => a.file.id === id);
  const framesTo = (n: GossipNode, to: GossipNode) => n.sent.filter((s) => s.to === to.id);

  test('a statement with an audience reaches its members only, never the flood, and is not forwarded', async () => {
    const { room, alice, bob, carol } = setup();
    room.fullMesh([alice, bob, carol]);
    await alice.gossip.announce('add', meta(7, { audience: audienceOf(alice, bob) }));
    await room.run();
    assert.ok(knows(bob, meta(7).id), 'Bob hears of it');
    assert.ok(!knows(carol, meta(7).id), 'Carol does not');
    assert.deepEqual(framesTo(alice, carol), [], 'not one frame to Carol');
    assert.deepEqual(framesTo(alice, bob).map((s) => s.type), ['audience']);
    assert.deepEqual(bob.sent, [], 'Bob forwards nothing');
    alice.gossip.heartbeat();
    await room.run();
    assert.deepEqual(framesTo(alice, carol), [], 'no IHAVE lists it');
    alice.gossip.syncTo(carol.id);
    alice.gossip.syncAudienceTo(carol.id);
    await room.run();
    assert.ok(!knows(carol, meta(7).id), 'nor any catalogue sync to Carol');
  });

  test('a member linked later gets it when its link is proven; a reload of the origin changes nothing', async () => {
    const { room, alice, bob, carol } = setup();
    room.link(alice, carol);
    await alice.gossip.announce('add', meta(7, { audience: audienceOf(alice, bob) }));
    await room.run();
    assert.ok(!knows(bob, meta(7).id));
    room.link(alice, bob); // Bob joins after
    alice.gossip.syncTo(bob.id);
    await room.run();
    assert.ok(!knows(bob, meta(7).id), 'not in the catalogue sent before the link is proven');
    alice.gossip.syncAudienceTo(bob.id);
    await room.run();
    assert.ok(knows(bob, meta(7).id), 'sent once proven');
    assert.ok(!knows(carol, meta(7).id));
  });

  test('Bob passes Alice\'s statement on to Dave (in the audience), never to Carol', async () => {
    const { room, alice, bob, carol } = setup();
    const dave = room.add(makeFakeKey(4));
    room.link(alice, bob);
    room.link(bob, carol);
    room.link(bob, dave);
    await alice.gossip.announce('add', meta(7, { audience: audienceOf(alice, bob, dave) }));
    await room.run();
    bob.gossip.syncAudienceTo(dave.id);
    bob.gossip.syncAudienceTo(carol.id);
    await room.run();
    assert.ok(knows(dave, meta(7).id));
    assert.ok(!knows(carol, meta(7).id));
  });

  test('misrouted statements are dropped and counted, not banned: by gossip, by IWANT, to an outsider, from an outsider', async () => {
    const { room, alice, bob, carol } = setup();
    room.fullMesh([alice, bob, carol]);
    const a = await signed(alice.key, meta(7, { audience: audienceOf(alice, bob) }), 1_700_000_000_000);
    room.inject(alice.id, carol, 'gossip', a);
    room.inject(alice.id, carol, 'catalogue', [a]);
    room.inject(alice.id, carol, 'audience', [a]); // Carol is not in it
    room.inject(carol.id, bob, 'audience', [a]); // Carol is not in it either: she should not have it
    await room.run();
    assert.ok(!knows(carol, meta(7).id));
    assert.ok(!knows(bob, meta(7).id));
    assert.equal(carol.gossip.stats().misrouted, 3);
    assert.equal(bob.gossip.stats().misrouted, 1);
    assert.deepEqual(room.allBans(), []);
    // Carol guesses the statement id and asks for it: Alice never serves it that way.
    await alice.gossip.announce('add', meta(8, { audience: audienceOf(alice, bob) }));
    await room.run();
    const held = alice.gossip.catalogue.latest(alice.id, meta(8).id)!;
    room.inject(carol.id, alice, 'iwant', [`${alice.id}:${meta(8).id}:${held.seq}`]);
    await room.run();
    assert.ok(!knows(carol, meta(8).id));
  });

  test('widening to the room floods a newer statement without an audience', async () => {
    const { room, alice, bob, carol } = setup();
    room.fullMesh([alice, bob, carol]);
    const file = meta(7, { audience: audienceOf(alice, bob) });
    await alice.gossip.announce('add', file);
    await room.run();
    const { audience: _gone, ...wider } = file;
    await alice.gossip.announce('add', wider);
    await room.run();
    assert.equal(carol.gossip.catalogue.metaFrom(alice.id, file.id)?.audience, undefined);
    assert.equal(bob.gossip.catalogue.metaFrom(alice.id, file.id)?.audience, undefined, 'Bob holds the newer statement');
  });

  test('a search never answers with it (the asker is unknown), and an asker drops such an answer if one comes', async () => {
    const { room, alice, bob, carol } = setup();
    room.answerable = (_node, a) => floods(a.file.audience); // the engine's rule (app/engine.ts)
    room.link(alice, carol);
    room.present.add(makeFakeKey(99).id); // someone Carol has no link to: her search goes out as a query
    await alice.gossip.announce('add', meta(7, { name: 'secret beach.jpg', audience: audienceOf(alice, bob) }));
    await alice.gossip.announce('add', meta(8, { name: 'public beach.jpg' }));
    await room.run();
    assert.equal(carol.queries.search('beach'), true);
    await room.run();
    assert.deepEqual(carol.gossip.catalogue.entries().map((e) => e.meta.name), ['public beach.jpg']);
    assert.ok(!alice.sent.some((s) => s.to === carol.id && JSON.stringify(s.json).includes(meta(7).id)), 'never sent to Carol');
    // A peer that answers with it anyway: the asker drops it, counted, and bans nobody.
    const id = (carol.sent.find((s) => s.type === 'query')!.json as { id: string }).id;
    const leaked = { ...(await signed(alice.key, meta(7, { audience: audienceOf(alice, bob) }), 1_800_000_000_000)), hops: 0 };
    room.inject(alice.id, carol, 'query-hit', { id, hits: [leaked] });
    await room.run();
    assert.ok(!knows(carol, meta(7).id));
    assert.equal(carol.gossip.stats().misrouted, 1);
    assert.deepEqual(room.allBans(), []);
  });
});
