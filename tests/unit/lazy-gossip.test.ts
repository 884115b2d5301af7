import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_HOPS } from '../../src/core/gossip/announcement.ts';
import {
  IHAVE_WINDOW_MS, IWANT_TIMEOUT_MS, LazyWindow, MAX_LAZY_IDS, parseLazyIds, parseStatementId, statementId,
} from '../../src/core/gossip/lazy.ts';
import { decodeFrame, encodeFrame } from '../../src/core/wire/frames.ts';
import { fileId, makeFakeKey, meta } from './helpers/gossip-keys.ts';
import { GossipRoom, type GossipNode } from './helpers/gossip-room.ts';

const ORIGIN = 'AbCdEfGhIjKlMn_-';
const ID = statementId(ORIGIN, fileId(7), 1_700_000_000_123);

describe('statement ids', () => {
  test('round-trip, and anything else is refused', () => {
    assert.deepEqual(parseStatementId(ID), { origin: ORIGIN, fileId: fileId(7), seq: 1_700_000_000_123 });
    for (const bad of ['', `${ORIGIN}:${fileId(7)}`, `${ORIGIN}:${fileId(7)}:-1`, `${ORIGIN}x:${fileId(7)}:1`, `${ORIGIN}:${fileId(0xabc).toUpperCase()}:1`,
      `${ORIGIN}:${fileId(7)}:99999999999999999`]) {
      assert.equal(parseStatementId(bad), null, bad);
    }
  });

  test('a lazy list: at most MAX_LAZY_IDS well-formed ids, or an error', () => {
    assert.deepEqual(parseLazyIds([ID]), { ok: true, value: [parseStatementId(ID)] });
    assert.equal(parseLazyIds({}).ok, false);
    assert.equal(parseLazyIds([ID, 5]).ok, false);
    assert.equal(parseLazyIds(Array(MAX_LAZY_IDS + 1).fill(ID)).ok, false);
    assert.equal(parseLazyIds(Array(MAX_LAZY_IDS).fill(ID)).ok, true);
  });

  test('IHAVE and IWANT frames round-trip through the codec, and a full list fits in one frame', () => {
    for (const type of ['ihave', 'iwant'] as const) {
      const json = Array(MAX_LAZY_IDS).fill(ID);
      assert.deepEqual(decodeFrame(encodeFrame({ type, json })), { ok: true, value: { type, json } });
    }
  });
});

describe('LazyWindow', () => {
  test('advertises ids for IHAVE_WINDOW_MS, never back to the neighbour they came from', () => {
    const w = new LazyWindow();
    w.note('a', 'n1', 0);
    assert.deepEqual(w.ihave('n1', 0), []);
    w.note('b', null, 500);
    assert.deepEqual(w.ihave('n2', 500), ['a', 'b']);
    assert.deepEqual(w.ihave('n1', IHAVE_WINDOW_MS), ['b']);
    assert.deepEqual(w.ihave('n2', IHAVE_WINDOW_MS + 500), []);
    assert.equal(w.size, 0, 'expired ids are dropped');
  });

  test('an id noted again is recent again (this is what keeps a pull spreading)', () => {
    const w = new LazyWindow();
    w.note('a', null, 0);
    w.note('b', null, 1);
    w.note('a', null, IHAVE_WINDOW_MS - 1);
    assert.deepEqual(w.ihave('n', IHAVE_WINDOW_MS + 1), ['a']);
  });

  test('caps an IHAVE at MAX_LAZY_IDS, newest kept', () => {
    const w = new LazyWindow();
    for (let i = 0; i < MAX_LAZY_IDS + 10; i++) w.note(`id${i}`, null, 0);
    const ids = w.ihave('n', 0);
    assert.equal(ids.length, MAX_LAZY_IDS);
    assert.equal(ids.at(-1), `id${MAX_LAZY_IDS + 9}`);
  });

  test('an id asked for is not asked again (of anyone) before IWANT_TIMEOUT_MS', () => {
    const w = new LazyWindow();
    assert.deepEqual(w.toAsk(['a', 'b'], 0), ['a', 'b']);
    assert.deepEqual(w.toAsk(['a', 'c'], IWANT_TIMEOUT_MS - 1), ['c']);
    assert.deepEqual(w.toAsk(['a'], IWANT_TIMEOUT_MS), ['a']);
  });
});

/** A line of n nodes: 0 - 1 - 2 - ... - n-1. */
function line(room: GossipRoom, n: number): GossipNode[] {
  const nodes = Array.from({ length: n }, (_, i) => room.add(makeFakeKey(i + 1)));
  for (let i = 1; i < n; i++) room.link(nodes[i - 1]!, nodes[i]!);
  return nodes;
}

async function heartbeat(room: GossipRoom, ms = 1000): Promise<void> {
  room.clock += ms;
  for (const n of room.nodes.values()) n.gossip.heartbeat();
  await room.run();
}

describe('RoomGossip: eager push, then lazy pull past the hop limit', () => {
  test(`a line longer than MAX_HOPS: eager push stops at hop ${MAX_HOPS}; heartbeats carry it to the end, one hop each`, async () => {
    const room = new GossipRoom();
    const nodes = line(room, MAX_HOPS + 4);
    await nodes[0]!.gossip.announce('add', meta(1));
    await room.run();
    const holds = () => nodes.map((n) => n.gossip.catalogue.holders(fileId(1)).length > 0);
    assert.deepEqual(holds(), nodes.map((_, i) => i <= MAX_HOPS));
    for (let beat = 1; beat <= 3; beat++) {
      await heartbeat(room);
      assert.deepEqual(holds(), nodes.map((_, i) => i <= MAX_HOPS + beat), `after heartbeat ${beat}`);
    }
    assert.deepEqual(room.allBans(), []);
  });

  test('a peer that already holds the statement does not ask for it; an old one is not advertised after the window', async () => {
    const room = new GossipRoom();
    const [a, b] = line(room, 2);
    await a!.gossip.announce('add', meta(1));
    await room.run();
    await heartbeat(room); // A's IHAVE names it; B holds it: no IWANT
    assert.equal(b!.sent.filter((s) => s.type === 'iwant').length, 0);
    assert.equal(a!.sent.filter((s) => s.type === 'ihave').length, 1);
    assert.equal(b!.sent.filter((s) => s.type === 'ihave').length, 0, 'B does not advertise it back to A, whence it came');
    await heartbeat(room, IHAVE_WINDOW_MS);
    assert.equal(a!.sent.filter((s) => s.type === 'ihave').length, 1, 'nothing recent: no IHAVE at all');
  });

  test('a newer statement missed by eager push is pulled over the older one held, verified and applied', async () => {
    const room = new GossipRoom();
    const [a, b, c] = line(room, 3);
    await a!.gossip.announce('add', meta(1));
    await room.run();
    b!.links.delete(c!.id), c!.links.delete(b!.id); // C is cut off while A takes the file back...
    await a!.gossip.announce('remove', meta(1));
    await room.run();
    room.link(b!, c!); // ...and back (no catalogue sync here: only the heartbeat can tell it)
    assert.equal(c!.gossip.catalogue.latest(a!.id, fileId(1))?.kind, 'add');
    const verified = c!.verifications;
    await heartbeat(room);
    assert.equal(c!.gossip.catalogue.latest(a!.id, fileId(1))?.kind, 'remove');
    assert.equal(c!.verifications, verified + 1);
    assert.equal(c!.sent.filter((x) => x.type === 'iwant').length, 1);
  });

  test('statements whose origin is not a member are not asked for', async () => {
    const room = new GossipRoom();
    const [a, b] = line(room, 2);
    await a!.gossip.announce('add', meta(1));
    room.present.delete(a!.id);
    a!.links.delete(b!.id), b!.links.delete(a!.id);
    room.inject(a!.id, b!, 'ihave', [statementId(a!.id, fileId(1), a!.gossip.catalogue.latest(a!.id, fileId(1))!.seq)]);
    await room.run();
    assert.equal(b!.sent.length, 0);
  });

  test('a malformed IHAVE or IWANT is proof: the sender is banned', async () => {
    const room = new GossipRoom();
    const [a, b] = line(room, 2);
    room.inject(a!.id, b!, 'ihave', ['nope']);
    room.inject(b!.id, a!, 'iwant', 'nope');
    await room.run();
    assert.deepEqual(room.allBans().map((x) => x.split(':')[0]).sort(), [`${a!.id} banned ${b!.id}`, `${b!.id} banned ${a!.id}`].sort());
  });

  test('an IWANT for something not held (or a different seq) sends nothing', async () => {
    const room = new GossipRoom();
    const [a, b] = line(room, 2);
    await a!.gossip.announce('add', meta(1));
    await room.run();
    const seq = a!.gossip.catalogue.latest(a!.id, fileId(1))!.seq;
    const before = a!.sent.length;
    room.inject(b!.id, a!, 'iwant', [statementId(a!.id, fileId(2), seq), statementId(a!.id, fileId(1), seq + 1)]);
    await room.run();
    assert.equal(a!.sent.length, before);
    room.inject(b!.id, a!, 'iwant', [statementId(a!.id, fileId(1), seq)]);
    await room.run();
    assert.equal(a!.sent.length, before + 1);
  });

  test('an IWANT repeated is answered once per IWANT_TIMEOUT_MS (no amplification)', async () => {
    const room = new GossipRoom();
    const [a, b] = line(room, 2);
    await a!.gossip.announce('add', meta(1));
    await room.run();
    const want = [statementId(a!.id, fileId(1), a!.gossip.catalogue.latest(a!.id, fileId(1))!.seq)];
    const answers = () => a!.sent.filter((s) => s.type === 'gossip' && s.to === b!.id).length;
    const before = answers();
    for (let i = 0; i < 5; i++) room.inject(b!.id, a!, 'iwant', want);
    await room.run();
    assert.equal(answers(), before + 1);
    room.clock += IWANT_TIMEOUT_MS;
    room.inject(b!.id, a!, 'iwant', want);
    await room.run();
    assert.equal(answers(), before + 2);
  });
});
