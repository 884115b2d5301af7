import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_HOPS, type Announcement } from '../../src/core/gossip/announcement.ts';
import { GossipRules, ORIGIN_BURST, SeenCache, type Situation } from '../../src/core/gossip/rules.ts';
import { mulberry32 } from './helpers/random.ts';
import { peerId, statement } from './helpers/statements.ts';

const SELF = peerId(0);
const A = peerId(1);
const B = peerId(2);
const C = peerId(3);
const ORIGIN = peerId(9);

const situation = (neighbours: string[], members: string[], now = 0, held?: Announcement): Situation =>
  ({ neighbours, members: new Set([...members, ...neighbours]), now, held });

/** Screen then admit, as RoomGossip does around the signature check. */
function judge(rules: GossipRules, a: Announcement, from: string, s: Situation, live = true) {
  const screened = rules.screen(a, s);
  return screened.ok ? rules.admit(a, from, live, s) : { action: 'drop' as const, reason: screened.reason };
}

describe('GossipRules: who may say what', () => {
  test('a statement older than its origin\'s current session (a reload, by presence) is stale', () => {
    const rules = new GossipRules({ self: SELF });
    const s = { ...situation([A], [ORIGIN]), since: 100 };
    assert.deepEqual(judge(rules, statement(ORIGIN, 1, 99), A, s), { action: 'drop', reason: 'stale' });
    assert.equal(judge(rules, statement(ORIGIN, 1, 100), A, s).action, 'accept');
  });

  test('forwards once to neighbours but the sender and the origin, with one hop less, when some member is out of reach', () => {
    const rules = new GossipRules({ self: SELF });
    const m = statement(ORIGIN, 1, 5, 'add', {}, 4);
    const v = judge(rules, m, A, situation([A, B, C, ORIGIN], [peerId(7)]));
    assert.deepEqual(v, { action: 'accept', forwardTo: [B, C], message: { ...m, hops: 3 } });
    assert.equal(m.hops, 4, 'the received message is not mutated');
    assert.deepEqual(judge(rules, m, B, situation([A, B, C], [peerId(7)], 1)), { action: 'drop', reason: 'duplicate' });
  });

  test('in a full mesh nothing is forwarded: the origin, which reached everyone, sends with one hop', () => {
    const origin = new GossipRules({ self: ORIGIN });
    assert.equal(origin.originHops([A, B, C], new Set([A, B, C, ORIGIN])), 1);
    assert.equal(origin.originHops([A, B], new Set([A, B, C])), MAX_HOPS, 'C is not linked to the origin');
    const rules = new GossipRules({ self: SELF });
    const v = judge(rules, statement(ORIGIN, 1, 5, 'add', {}, 1), ORIGIN, situation([A, B, C, ORIGIN], [SELF, A, B, C, ORIGIN]));
    assert.deepEqual(v.action === 'accept' && v.forwardTo, []);
    assert.equal(rules.counters.forwarded, 0);
  });

  test('a forwarder linked to everyone still forwards: the origin may lack a link it has', () => {
    const rules = new GossipRules({ self: SELF });
    const v = judge(rules, statement(ORIGIN, 1, 5), ORIGIN, situation([A, ORIGIN], [SELF, A, ORIGIN]));
    assert.deepEqual(v.action === 'accept' && v.forwardTo, [A]);
  });

  test('a sync (not live) is applied but never forwarded', () => {
    const rules = new GossipRules({ self: SELF });
    const v = judge(rules, statement(ORIGIN, 1, 5), A, situation([A, B], [peerId(7), ORIGIN]), false);
    assert.deepEqual(v.action === 'accept' && v.forwardTo, []);
  });

  test('delivers but does not forward once hops run out', () => {
    const rules = new GossipRules({ self: SELF });
    const s = situation([A, B], [peerId(7), ORIGIN]);
    const last = judge(rules, statement(ORIGIN, 1, 5, 'add', {}, 1), A, s);
    assert.deepEqual(last.action === 'accept' && [last.forwardTo, last.message.hops], [[], 0]);
    const spent = judge(rules, statement(ORIGIN, 2, 5, 'add', {}, 0), A, s);
    assert.deepEqual(spent.action === 'accept' && [spent.forwardTo, spent.message.hops], [[], 0]);
  });

  test('duplicates, stale statements, echoes and non-members are dropped and counted', () => {
    const rules = new GossipRules({ self: SELF });
    const held = statement(ORIGIN, 1, 10);
    assert.deepEqual(judge(rules, statement(ORIGIN, 1, 10), A, situation([A], [ORIGIN], 0, held)), { action: 'drop', reason: 'duplicate' });
    assert.deepEqual(judge(rules, statement(ORIGIN, 1, 9), A, situation([A], [ORIGIN], 0, held)), { action: 'drop', reason: 'stale' });
    assert.equal(judge(rules, statement(ORIGIN, 1, 11), A, situation([A], [ORIGIN], 0, held)).action, 'accept');
    assert.deepEqual(judge(rules, statement(SELF, 1, 10), A, situation([A], [])), { action: 'drop', reason: 'own' });
    assert.deepEqual(judge(rules, statement(peerId(66), 1, 10), A, situation([A], [ORIGIN])), { action: 'drop', reason: 'not-a-member' });
    assert.deepEqual(
      { ...rules.counters },
      { ...rules.counters, accepted: 1, duplicate: 1, stale: 1, own: 1, 'not-a-member': 1, 'over-budget': 0 },
    );
  });

  test('our own announcement goes to every neighbour and its echo is dropped', () => {
    const rules = new GossipRules({ self: A });
    const m = statement(A, 1, 5);
    assert.deepEqual(rules.originate(m, [B, C], 0), [B, C]);
    assert.deepEqual(judge(rules, { ...m, hops: 2 }, C, situation([B, C], [])), { action: 'drop', reason: 'own' });
  });
});

describe('GossipRules: budgets are per origin, never per link', () => {
  test('a 700-file folder passes in one go', () => {
    assert.ok(ORIGIN_BURST >= 1_000);
    const rules = new GossipRules({ self: SELF });
    for (let f = 0; f < 700; f++) assert.equal(judge(rules, statement(ORIGIN, f, 1), ORIGIN, situation([ORIGIN], [])).action, 'accept');
  });

  test('over the burst is dropped and counted, then the steady rate refills it', () => {
    const rules = new GossipRules({ self: SELF, burst: 10, perSecond: 2 });
    const s = (now: number) => situation([A, ORIGIN], [], now);
    for (let f = 0; f < 10; f++) assert.equal(judge(rules, statement(ORIGIN, f, 1), A, s(0)).action, 'accept');
    for (let f = 10; f < 15; f++) assert.deepEqual(judge(rules, statement(ORIGIN, f, 1), A, s(0)), { action: 'drop', reason: 'over-budget' });
    assert.equal(rules.counters['over-budget'], 5);
    assert.equal(judge(rules, statement(ORIGIN, 10, 1), A, s(499)).action, 'drop', 'not yet one token');
    assert.equal(judge(rules, statement(ORIGIN, 10, 1), A, s(500)).action, 'accept', 'a dropped statement is not remembered as seen');
  });

  test('the forwarding link is not charged: other origins and the forwarder itself keep their budgets', () => {
    const rules = new GossipRules({ self: SELF, burst: 10, perSecond: 0 });
    const s = situation([A], [B, C]);
    for (const origin of [B, C, A]) {
      for (let f = 0; f < 10; f++) assert.equal(judge(rules, statement(origin, f, 1), A, s).action, 'accept', `${origin} file ${f}`);
    }
    assert.equal(judge(rules, statement(B, 99, 1), A, s).action, 'drop', 'B spent its own budget');
    rules.forget(B);
    assert.equal(judge(rules, statement(B, 99, 1), A, s).action, 'accept', 'gone and back: a fresh budget');
  });
});

describe('SeenCache', () => {
  test('forgets a key once its TTL has passed', () => {
    const seen = new SeenCache(1000, 100);
    seen.remember('k', 10_000);
    assert.equal(seen.has('k', 10_999), true);
    assert.equal(seen.has('k', 11_000), false, 'expired at exactly now + ttl');
  });

  test('remembers at most max keys, forgetting the oldest first', () => {
    const seen = new SeenCache(60_000, 3);
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) seen.remember(k, i);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => seen.has(k, 10)), [false, true, true, true]);
    assert.equal(seen.size, 3);
  });
});

describe('flooding simulation', () => {
  /** A random connected graph: a random tree, plus random extra edges up to `edges`. */
  function randomGraph(nodes: number, edges: number, random: () => number): Set<number>[] {
    const adj = Array.from({ length: nodes }, () => new Set<number>());
    const link = (a: number, b: number) => (adj[a]!.add(b), adj[b]!.add(a));
    for (let i = 1; i < nodes; i++) link(i, Math.floor(random() * i));
    let count = nodes - 1;
    while (count < edges) {
      const a = Math.floor(random() * nodes);
      const b = Math.floor(random() * nodes);
      if (a === b || adj[a]!.has(b)) continue;
      link(a, b);
      count++;
    }
    return adj;
  }

  /** Floods one announcement from `origin`; every link has the same latency, so messages are handled in FIFO order. */
  function flood(adj: Set<number>[], origin: number): { deliveries: number[]; transmissions: number } {
    const members = new Set(adj.map((_, i) => peerId(i)));
    const rules = adj.map((_, i) => new GossipRules({ self: peerId(i) }));
    const neighbours = adj.map((s) => [...s].map(peerId));
    const index = new Map(adj.map((_, i) => [peerId(i), i]));
    const deliveries = adj.map(() => 0);
    const hops = rules[origin]!.originHops(neighbours[origin]!, members);
    const message = statement(peerId(origin), 1, 1, 'add', {}, hops);
    const queue = rules[origin]!.originate(message, neighbours[origin]!, 0).map((to) => ({ to: index.get(to)!, from: origin, message }));
    let transmissions = queue.length;
    for (let at = 0; at < queue.length; at++) {
      const { to, from, message: m } = queue[at]!;
      const v = judge(rules[to]!, m, peerId(from), { neighbours: neighbours[to]!, members, now: at, held: undefined });
      if (v.action !== 'accept') continue;
      deliveries[to]!++;
      for (const next of v.forwardTo) queue.push({ to: index.get(next)!, from: to, message: v.message });
      transmissions += v.forwardTo.length;
    }
    return { deliveries, transmissions };
  }

  test('30 nodes of degree ~3: every node gets the announcement exactly once, cheaply', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const adj = randomGraph(30, 45, mulberry32(seed));
      const { deliveries, transmissions } = flood(adj, seed % 30);
      assert.deepEqual(deliveries, adj.map((_, i) => (i === seed % 30 ? 0 : 1)), `seed ${seed}: deliveries per node`);
      assert.ok(transmissions < 90 && transmissions >= 29, `seed ${seed}: ${transmissions} transmissions`);
    }
  });

  test('on a line the announcement dies out after MAX_HOPS hops', () => {
    const NODES = MAX_HOPS + 4;
    const adj = Array.from({ length: NODES }, (_, i) => new Set([i - 1, i + 1].filter((n) => n >= 0 && n < NODES)));
    const { deliveries, transmissions } = flood(adj, 0);
    assert.deepEqual(deliveries, adj.map((_, i) => (i >= 1 && i <= MAX_HOPS ? 1 : 0)));
    assert.equal(transmissions, MAX_HOPS);
  });

  test('in a full mesh the origin\'s own sends are the only transmissions', () => {
    const adj = Array.from({ length: 6 }, (_, i) => new Set([0, 1, 2, 3, 4, 5].filter((n) => n !== i)));
    const { deliveries, transmissions } = flood(adj, 2);
    assert.deepEqual(deliveries, [1, 1, 0, 1, 1, 1]);
    assert.equal(transmissions, 5);
  });
});
