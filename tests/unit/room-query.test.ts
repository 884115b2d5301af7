import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_HITS_PER_ANSWER, MAX_HITS_PER_QUERY, MAX_QUERY_HOPS, QUERY_HOPS, QUERY_SEEN_TTL_MS, QueryRouter, ownMatches, parseQueryHit, parseRoomQuery, type RoomQuery } from '../../src/core/gossip/query.ts';
import type { Announcement } from '../../src/core/gossip/announcement.ts';
import { makeFakeKey, meta, signed } from './helpers/gossip-keys.ts';
import { GossipRoom, type GossipNode } from './helpers/gossip-room.ts';
import { mulberry32 } from './helpers/random.ts';

const ID = 'Q'.repeat(16);
const query = (over: Partial<RoomQuery> = {}): RoomQuery => ({ id: ID, text: 'beach', hops: QUERY_HOPS, ...over });
const HOLDER = makeFakeKey(900);
const hit = async (n: number) => ({ ...(await signed(HOLDER, meta(n, { name: `beach ${n}.jpg` }), 1_000 + n)), hops: 0 });

describe('QueryRouter: hop limit, duplicates, budget', () => {
  test('a query is forwarded with one hop less to every neighbour but its sender, and not at all on its last hop', () => {
    const r = new QueryRouter();
    const v = r.receive('A', query({ hops: 2 }), ['A', 'B', 'C'], 0);
    assert.deepEqual(v, { action: 'take', forwardTo: ['B', 'C'], forward: query({ hops: 1 }) });
    const last = r.receive('A', query({ id: 'R'.repeat(16), hops: 1 }), ['A', 'B', 'C'], 0);
    assert.deepEqual(last, { action: 'take', forwardTo: [], forward: query({ id: 'R'.repeat(16), hops: 0 }) });
  });

  test('a second copy of a query, by any link, is dropped and counted, until the seen cache forgets it', () => {
    const r = new QueryRouter();
    assert.equal(r.receive('A', query(), ['A', 'B'], 0).action, 'take');
    assert.deepEqual(r.receive('B', query(), ['A', 'B'], 1_000), { action: 'drop', reason: 'duplicate' });
    assert.deepEqual(r.receive('A', query(), ['A', 'B'], 2_000), { action: 'drop', reason: 'duplicate' });
    assert.equal(r.counters.duplicate, 2);
    assert.equal(r.receive('B', query(), ['A', 'B'], QUERY_SEEN_TTL_MS + 1).action, 'take');
  });

  test('our own query coming back to us is a duplicate, not a new one', () => {
    const r = new QueryRouter();
    const { query: ours, sendTo } = r.ask(ID, 'beach', ['A', 'B'], 0);
    assert.deepEqual(sendTo, ['A', 'B']);
    assert.equal(ours.hops, QUERY_HOPS);
    assert.deepEqual(r.receive('B', { ...ours, hops: 1 }, ['A', 'B'], 10), { action: 'drop', reason: 'duplicate' });
  });

  test('over a link\'s budget is dropped and counted; other links are not charged; the budget refills', () => {
    const r = new QueryRouter({ burst: 3, perSecond: 1 });
    const ids = Array.from({ length: 5 }, (_, i) => `${i}`.padStart(16, 'q'));
    const verdicts = ids.map((id) => r.receive('A', query({ id }), ['A', 'B'], 0).action);
    assert.deepEqual(verdicts, ['take', 'take', 'take', 'drop', 'drop']);
    assert.equal(r.counters['over-budget'], 2);
    assert.equal(r.receive('B', query({ id: 'b'.repeat(16) }), ['A', 'B'], 0).action, 'take');
    // A dropped query is not remembered as seen: a copy by another link is still taken.
    assert.equal(r.receive('B', query({ id: ids[3] }), ['A', 'B'], 0).action, 'take');
    assert.equal(r.receive('A', query({ id: 'c'.repeat(16) }), ['A', 'B'], 1_000).action, 'take');
  });

  test('the seen cache is bounded: the oldest ids go first', () => {
    const r = new QueryRouter({ maxSeen: 3 });
    for (const id of ['a', 'b', 'c', 'd']) r.receive('A', query({ id: id.repeat(16) }), ['A'], 0);
    assert.equal(r.receive('B', query({ id: 'a'.repeat(16) }), ['B'], 0).action, 'take', 'a was forgotten');
    assert.equal(r.receive('B', query({ id: 'd'.repeat(16) }), ['B'], 0).action, 'drop');
  });
});

describe('QueryRouter: answers go back along the path, bounded', () => {
  test('hits go to the link the query came from; ours are ours; unknown or reflected ones are dropped', async () => {
    const r = new QueryRouter();
    r.receive('A', query(), ['A', 'B'], 0);
    const h = { id: ID, hits: [await hit(1)] };
    assert.deepEqual(r.hits('B', h, 5), { action: 'forward', to: 'A', hits: h.hits });
    assert.deepEqual(r.hits('A', h, 5), { action: 'drop', reason: 'unknown-query' }, 'not back to where the query came from');
    assert.deepEqual(r.hits('B', { ...h, id: 'Z'.repeat(16) }, 5), { action: 'drop', reason: 'unknown-query' });
    assert.deepEqual(r.hits('B', h, QUERY_SEEN_TTL_MS + 1), { action: 'drop', reason: 'unknown-query' }, 'the route expired');
    r.ask('M'.repeat(16), 'beach', ['A'], 0);
    assert.equal(r.hits('A', { ...h, id: 'M'.repeat(16) }, 5).action, 'mine');
  });

  test('a forwarder passes back at most MAX_HITS_PER_QUERY hits per query, the rest dropped and counted', async () => {
    const r = new QueryRouter();
    r.receive('A', query(), ['A', 'B'], 0);
    const hits = await Promise.all(Array.from({ length: MAX_HITS_PER_ANSWER }, (_, i) => hit(i)));
    let passed = 0;
    for (let i = 0; i < 5; i++) {
      const v = r.hits('B', { id: ID, hits }, 1);
      if (v.action === 'forward') passed += v.hits.length;
    }
    assert.equal(passed, MAX_HITS_PER_QUERY);
    assert.equal(r.counters['over-hits'], 5 * MAX_HITS_PER_ANSWER - MAX_HITS_PER_QUERY);
  });
});

describe('query frames: bad input is an error value, never a throw', () => {
  test('limits', async () => {
    assert.ok(parseRoomQuery(query()).ok);
    assert.ok(parseRoomQuery(query({ hops: MAX_QUERY_HOPS })).ok);
    for (const bad of [
      null, [], 'beach', query({ hops: 0 }), query({ hops: MAX_QUERY_HOPS + 1 }), query({ hops: 1.5 }), query({ id: 'short' }),
      query({ text: ' b ' }), query({ text: 'x'.repeat(257) }), query({ text: 'é'.repeat(129) }), { ...query(), text: 7 },
    ]) {
      const r = parseRoomQuery(bad);
      assert.ok(!r.ok && r.code === 'ERR_BAD_QUERY', JSON.stringify(bad).slice(0, 60));
    }
    const good = await hit(1);
    assert.ok(parseQueryHit({ id: ID, hits: [good] }).ok);
    for (const bad of [
      { id: ID, hits: [] }, { id: ID, hits: [{ ...good, sig: 'x' }] }, { id: ID, hits: [{ ...good, kind: 'remove' }] },
      { id: ID, hits: Array.from({ length: MAX_HITS_PER_ANSWER + 1 }, () => good) }, { id: 'x', hits: [good] }, { hits: [good] }, 'x', null,
    ]) assert.ok(!parseQueryHit(bad).ok);
  });

  test('random mutations of valid bodies never throw', async () => {
    const rnd = mulberry32(12);
    const good = await hit(1);
    const seeds: unknown[] = [query(), { id: ID, hits: [good] }];
    const junk = [null, -1, 1e300, '', 'x'.repeat(300), [], {}, true];
    for (let i = 0; i < 2_000; i++) {
      const body = structuredClone(seeds[i % 2]) as Record<string, unknown>;
      const keys = Object.keys(body);
      body[keys[Math.floor(rnd() * keys.length)]!] = junk[Math.floor(rnd() * junk.length)];
      assert.doesNotThrow(() => parseRoomQuery(body));
      assert.doesNotThrow(() => parseQueryHit(body));
    }
  });
});

describe('ownMatches: what a peer answers with', () => {
  test('only its own files held now, matching the text (its name counts), and answerable', async () => {
    const me = makeFakeKey(1);
    const other = makeFakeKey(2);
    const statements: Announcement[] = [
      await signed(me, meta(1, { name: 'beach.jpg' }), 10),
      await signed(me, meta(2, { name: 'beach.mp4', mime: 'video/mp4' }), 11),
      await signed(me, meta(3, { name: 'beach old.jpg' }), 12, 'remove'),
      await signed(other, meta(4, { name: 'beach too.jpg' }), 13),
      await signed(me, meta(5, { name: 'secret beach.jpg' }), 14),
    ];
    const mayGo = (a: Announcement) => !a.file.name.startsWith('secret');
    const names = (text: string) => ownMatches(statements, me.id, 'Alice', text, mayGo).map((a) => a.file.name);
    assert.deepEqual(names('beach'), ['beach.jpg', 'beach.mp4']);
    assert.deepEqual(names('beach type:video'), ['beach.mp4']);
    assert.deepEqual(names('alice beach'), ['beach.jpg', 'beach.mp4']);
    assert.deepEqual(names('bob'), []);
    assert.ok(ownMatches(statements, me.id, 'Alice', 'beach', mayGo).every((a) => a.hops === 0));
  });
});

/** Nodes in a bounded room (every node present, few links); each statement said before any link, so nobody else holds it. */
function room(count: number): { room: GossipRoom; nodes: GossipNode[] } {
  const r = new GossipRoom();
  return { room: r, nodes: Array.from({ length: count }, (_, i) => r.add(makeFakeKey(i + 1))) };
}
const names = (n: GossipNode) => n.gossip.catalogue.entries().map((e) => e.meta.name).sort();
const queriesSent = (n: GossipNode) => n.sent.filter((s) => s.type === 'query').length;

describe('a search through a bounded room (RoomQueries and RoomGossip over in-memory links)', () => {
  test('reaches a holder two hops away; its answer comes back along the path and merges; a second copy is dropped', async () => {
    // A diamond then a tail: A - B, A - C, B - D, C - D, D - E. D hears the query by B and by C.
    const { room: r, nodes } = room(5);
    const [a, b, c, d, e] = nodes as [GossipNode, GossipNode, GossipNode, GossipNode, GossipNode];
    await e.gossip.announce('add', meta(1, { name: 'beach.jpg' }));
    await e.gossip.announce('add', meta(2, { name: 'mountain.jpg' }));
    await c.gossip.announce('add', meta(3, { name: 'beach towel.pdf' }));
    for (const [x, y] of [[a, b], [a, c], [b, d], [c, d], [d, e]] as const) r.link(x, y);
    assert.deepEqual(names(a), []);

    assert.equal(a.queries.search('beach'), true);
    await r.run();
    assert.deepEqual(names(a), ['beach towel.pdf', 'beach.jpg'], 'both holders answered, and only what matched');
    assert.equal(d.queries.stats().duplicate, 1, 'D took the query once, by B or C, and dropped the other copy');
    assert.equal(e.queries.stats().taken, 1);
    assert.equal(queriesSent(e), 0, 'E got it on its last hop (3): not forwarded');
    assert.equal(a.queries.stats()['hits-received'], 2);
    assert.deepEqual(r.allBans(), []);
    // The merged entry is E's signed statement: E is a holder, as if its announcement had reached A.
    assert.deepEqual(a.gossip.catalogue.holders(meta(1).id), [e.id]);
  });

  test('the hop limit: a holder four hops away is not asked', async () => {
    const { room: r, nodes } = room(5);
    await nodes[4]!.gossip.announce('add', meta(1, { name: 'beach.jpg' }));
    for (let i = 0; i < 4; i++) r.link(nodes[i]!, nodes[i + 1]!); // a line: A - B - C - D - E
    nodes[0]!.queries.search('beach');
    await r.run();
    assert.equal(nodes[3]!.queries.stats().taken, 1, 'D, three hops away, took it');
    assert.equal(queriesSent(nodes[3]!), 0, 'and did not pass it on');
    assert.equal(nodes[4]!.queries.stats().taken, 0);
    assert.deepEqual(names(nodes[0]!), []);
  });

  test('files not answerable to the whole room are never answered', async () => {
    const { room: r, nodes } = room(3);
    const [a, b, c] = nodes as [GossipNode, GossipNode, GossipNode];
    await c.gossip.announce('add', meta(1, { name: 'beach.jpg' }));
    await c.gossip.announce('add', meta(2, { name: 'beach private.jpg' }));
    r.answerable = (_node, s) => !s.file.name.includes('private');
    r.link(a, b);
    r.link(b, c);
    a.queries.search('beach');
    await r.run();
    assert.deepEqual(names(a), ['beach.jpg']);
  });

  test('no query where every member is a neighbour, nor for a short or repeated search', async () => {
    const { room: r, nodes } = room(3);
    r.fullMesh(nodes);
    assert.equal(nodes[0]!.queries.search('beach'), false, 'a full mesh: the catalogue has it all');
    r.present.add(makeFakeKey(99).id); // someone present we have no link to: bounded
    assert.equal(nodes[0]!.queries.search('b'), false);
    assert.equal(nodes[0]!.queries.search('beach'), true);
    assert.equal(nodes[0]!.queries.search(' beach '), false, 'the same search again');
    r.clock += 31_000;
    assert.equal(nodes[0]!.queries.search('beach'), true, 'again after a while');
  });

  test('a forged answer is dropped, not held against the honest peer that passed it back; a malformed frame is proof', async () => {
    const { room: r, nodes } = room(3);
    const [a, b, c] = nodes as [GossipNode, GossipNode, GossipNode];
    r.link(a, b);
    r.link(b, c);
    a.queries.search('beach');
    await r.run();
    const id = (a.sent.find((s) => s.type === 'query')!.json as RoomQuery).id;
    const forged = { ...(await signed(c.key, meta(7, { name: 'beach.jpg' }), 5)), hops: 0, sig: (await signed(b.key, meta(7), 5)).sig };
    r.inject(c.id, b, 'query-hit', { id, hits: [forged] });
    await r.run();
    assert.deepEqual(names(a), []);
    assert.equal(a.gossip.stats()['bad-signature'], 1);
    assert.deepEqual(r.allBans(), []);
    r.inject(c.id, b, 'query-hit', { id, hits: [{ nonsense: true }] });
    await r.run();
    assert.deepEqual(r.allBans().map((x) => x.split(':')[0]), [`${b.id} banned ${c.id}`]);
  });
});
