import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_FILE_SIZE } from '../../src/core/manifest/manifest.ts';
import { MAX_FILE_NAME, MAX_HOPS, MAX_MIME, parseAnnouncement, type Announcement } from '../../src/core/gossip/announcement.ts';
import { Catalogue, MAX_FILES_PER_ORIGIN } from '../../src/core/gossip/catalogue.ts';
import { GossipRouter } from '../../src/core/gossip/router.ts';
import { mulberry32 } from './helpers/random.ts';


const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
/** A valid peer id (16 base64url characters) for node `n`. */
const peerId = (n: number): string => `peer${String(n).padStart(12, '0')}`;
const fileId = (n: number): string => hex(n, 64);

let nextMessage = 1;
function announce(origin: string, file: number, kind: 'add' | 'remove' = 'add', hops = MAX_HOPS): Announcement {
  return {
    id: hex(nextMessage++, 32),
    origin,
    hops,
    kind,
    file: { id: fileId(file), name: `file ${file}.bin`, size: 1000 + file, mime: 'application/octet-stream' },
  };
}

describe('parseAnnouncement', () => {
  const valid = {
    id: '0123456789abcdef0123456789abcdef',
    origin: 'AbCdEfGh_-012345',
    hops: 3,
    kind: 'add',
    file: { id: 'f'.repeat(64), name: 'notes.txt', size: 42, mime: 'text/plain' },
  };
  type Fields = Record<string, unknown>;
  const withField = (field: string, value: unknown): Fields => ({ ...valid, [field]: value });
  const withFile = (field: string, value: unknown): Fields => ({ ...valid, file: { ...valid.file, [field]: value } });
  const without = (field: string): Fields => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field));

  function rejects(v: unknown, why: string): void {
    const r = parseAnnouncement(v);
    assert.equal(r.ok, false, `accepted ${why}`);
    if (!r.ok) assert.equal(r.code, 'bad-announcement', why);
  }

  test('accepts a valid announcement and keeps only known fields', () => {
    assert.deepEqual(parseAnnouncement(valid), { ok: true, value: valid });
    const noisy = { ...valid, extra: 'x', file: { ...valid.file, path: '/etc/passwd' } };
    assert.deepEqual(parseAnnouncement(noisy), { ok: true, value: valid });
  });

  test('accepts the edges of every range', () => {
    for (const v of [
      withField('hops', 0), withField('hops', MAX_HOPS), withField('kind', 'remove'),
      withFile('name', 'n'.repeat(MAX_FILE_NAME)), withFile('mime', 'm'.repeat(MAX_MIME)), withFile('mime', ''),
      withFile('size', 0), withFile('size', MAX_FILE_SIZE),
    ]) {
      assert.equal(parseAnnouncement(v).ok, true, JSON.stringify(v).slice(0, 120));
    }
  });

  test('rejects non-objects', () => {
    for (const v of [null, undefined, [], [valid], 'x', 42, true, JSON.stringify(valid)]) rejects(v, `${JSON.stringify(v)}`.slice(0, 60));
  });

  test('rejects a bad message id', () => {
    for (const id of [undefined, 7, '', 'a'.repeat(31), 'a'.repeat(33), 'A'.repeat(32), 'g'.repeat(32), ` ${'a'.repeat(31)}`]) {
      rejects(withField('id', id), `id ${String(id)}`);
    }
    rejects(without('id'), 'missing id');
  });

  test('rejects a bad origin', () => {
    for (const origin of [undefined, null, 1, '', 'a'.repeat(15), 'a'.repeat(17), 'abcdefgh+/012345', 'abcdefgh=1234567', 'abcdefgh 1234567']) {
      rejects(withField('origin', origin), `origin ${String(origin)}`);
    }
  });

  test('rejects hops out of range or not a whole number', () => {
    for (const hops of [-1, MAX_HOPS + 1, 1000, 1.5, NaN, Infinity, '3', null, undefined]) rejects(withField('hops', hops), `hops ${String(hops)}`);
  });

  test('rejects an unknown kind', () => {
    for (const kind of ['added', 'ADD', '', null, 1, undefined]) rejects(withField('kind', kind), `kind ${String(kind)}`);
  });

  test('rejects a missing or non-object file', () => {
    for (const file of [undefined, null, 'x', 42, []]) rejects(withField('file', file), `file ${JSON.stringify(file)}`);
  });

  test('rejects a file id that is not a lowercase hex SHA-256', () => {
    for (const id of [undefined, 1, '', 'f'.repeat(63), 'f'.repeat(65), 'F'.repeat(64), 'x'.repeat(64)]) rejects(withFile('id', id), `file id ${String(id)}`);
  });

  test('rejects an empty, too long or non-string name', () => {
    for (const name of ['', 'n'.repeat(MAX_FILE_NAME + 1), undefined, null, 5, ['a']]) rejects(withFile('name', name), `name ${String(name).slice(0, 20)}`);
  });

  test('rejects a size that is negative, fractional, not a number or too large', () => {
    for (const size of [-1, 1.5, NaN, Infinity, MAX_FILE_SIZE + 1, '42', null, undefined]) rejects(withFile('size', size), `size ${String(size)}`);
  });

  test('rejects a mime type that is too long or not a string', () => {
    for (const mime of ['m'.repeat(MAX_MIME + 1), undefined, null, 0]) rejects(withFile('mime', mime), `mime ${String(mime).slice(0, 20)}`);
  });
});

describe('GossipRouter', () => {
  const A = peerId(1);
  const B = peerId(2);
  const C = peerId(3);
  const ORIGIN = peerId(9);

  test('delivers a message once, forwarding to every neighbour but the sender, with one hop less', () => {
    const router = new GossipRouter();
    const m = announce(ORIGIN, 1, 'add', 4);
    const first = router.receive(m, A, [A, B, C], 0);
    assert.equal(first.fresh, true);
    assert.deepEqual(first.forwardTo, [B, C]);
    assert.deepEqual(first.message, { ...m, hops: 3 });
    assert.equal(m.hops, 4, 'the received message is not mutated');
  });

  test('drops duplicates from any neighbour', () => {
    const router = new GossipRouter();
    const m = announce(ORIGIN, 1);
    router.receive(m, A, [A, B, C], 0);
    for (const from of [A, B, C]) assert.deepEqual(router.receive(m, from, [A, B, C], 1), { fresh: false, forwardTo: [], message: m });
  });

  test('never forwards back to the origin', () => {
    const router = new GossipRouter();
    const routed = router.receive(announce(ORIGIN, 1), A, [A, ORIGIN, B], 0);
    assert.deepEqual(routed.forwardTo, [B]);
  });

  test('delivers but does not forward once hops reach 0', () => {
    const router = new GossipRouter();
    const last = router.receive(announce(ORIGIN, 1, 'add', 1), A, [A, B, C], 0);
    assert.equal(last.fresh, true);
    assert.equal(last.message.hops, 0);
    assert.deepEqual(last.forwardTo, []);
    const spent = router.receive(announce(ORIGIN, 2, 'add', 0), A, [A, B, C], 0);
    assert.equal(spent.fresh, true);
    assert.deepEqual(spent.forwardTo, []);
  });

  test('our own announcement goes to every neighbour and its echo is dropped', () => {
    const router = new GossipRouter();
    const m = announce(A, 1, 'add', MAX_HOPS);
    assert.deepEqual(router.originate(m, [B, C], 0), [B, C]);
    assert.equal(router.receive({ ...m, hops: m.hops - 2 }, C, [B, C], 5).fresh, false);
  });

  test('forgets a message id once its TTL has passed', () => {
    const router = new GossipRouter(1000, 100);
    const m = announce(ORIGIN, 1);
    assert.equal(router.receive(m, A, [A], 10_000).fresh, true);
    assert.equal(router.receive(m, A, [A], 10_999).fresh, false);
    assert.equal(router.receive(m, A, [A], 11_000).fresh, true, 'expired at exactly now + ttl');
    assert.equal(router.receive(m, A, [A], 11_500).fresh, false, 're-remembered with a new TTL');
  });

  test('remembers at most maxSeen ids, forgetting the oldest first', () => {
    const router = new GossipRouter(60_000, 3);
    const [m1, m2, m3, m4] = [1, 2, 3, 4].map((f) => announce(ORIGIN, f));
    for (const [i, m] of [m1!, m2!, m3!, m4!].entries()) assert.equal(router.receive(m, A, [A], i).fresh, true);
    for (const m of [m2!, m3!, m4!]) assert.equal(router.receive(m, A, [A], 10).fresh, false);
    assert.equal(router.receive(m1!, A, [A], 10).fresh, true, 'the oldest id was evicted');
    assert.equal(router.receive(m2!, A, [A], 11).fresh, true, 'and re-seeing it evicted the next oldest');
    assert.equal(router.receive(m4!, A, [A], 12).fresh, false);
  });
});

describe('flooding simulation', () => {
  interface Flood {
    deliveries: number[];
    transmissions: number;
  }

  /** A random connected graph: a random tree, plus random extra edges up to `edges`. */
  function randomGraph(nodes: number, edges: number, random: () => number): Set<number>[] {
    const adj = Array.from({ length: nodes }, () => new Set<number>());
    const link = (a: number, b: number) => {
      adj[a]!.add(b);
      adj[b]!.add(a);
    };
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

  function distancesFrom(adj: Set<number>[], start: number): number[] {
    const dist = adj.map(() => Infinity);
    dist[start] = 0;
    const queue = [start];
    for (let at = 0; at < queue.length; at++) {
      for (const n of adj[queue[at]!]!) {
        if (dist[n] === Infinity) {
          dist[n] = dist[queue[at]!]! + 1;
          queue.push(n);
        }
      }
    }
    return dist;
  }

  /** Floods one announcement from `origin`; every link has the same latency, so messages are handled in FIFO order. */
  function flood(adj: Set<number>[], origin: number): Flood {
    const routers = adj.map(() => new GossipRouter());
    const neighbours = adj.map((s) => [...s].map(peerId));
    const index = new Map(adj.map((_, i) => [peerId(i), i]));
    const deliveries = adj.map(() => 0);
    const message = announce(peerId(origin), 1, 'add', MAX_HOPS);
    const queue: { to: number; from: number; message: Announcement }[] = [];
    for (const to of routers[origin]!.originate(message, neighbours[origin]!, 0)) queue.push({ to: index.get(to)!, from: origin, message });
    let transmissions = queue.length;
    for (let at = 0; at < queue.length; at++) {
      const { to, from, message: m } = queue[at]!;
      const routed = routers[to]!.receive(m, peerId(from), neighbours[to]!, at);
      if (!routed.fresh) continue;
      deliveries[to]!++;
      for (const next of routed.forwardTo) queue.push({ to: index.get(next)!, from: to, message: routed.message });
      transmissions += routed.forwardTo.length;
    }
    return { deliveries, transmissions };
  }

  test('30 nodes of degree ~3: every node gets the announcement exactly once, cheaply', () => {
    const NODES = 30;
    const DEGREE = 3;
    for (let seed = 1; seed <= 20; seed++) {
      const adj = randomGraph(NODES, (NODES * DEGREE) / 2, mulberry32(seed));
      const origin = seed % NODES;
      const dist = distancesFrom(adj, origin);
      assert.ok(Math.max(...dist) <= MAX_HOPS, `seed ${seed}: graph too deep for this test (${Math.max(...dist)} hops)`);
      const { deliveries, transmissions } = flood(adj, origin);
      const expected = adj.map((_, i) => (i === origin ? 0 : 1));
      assert.deepEqual(deliveries, expected, `seed ${seed}: deliveries per node`);
      assert.ok(transmissions < NODES * DEGREE, `seed ${seed}: ${transmissions} transmissions`);
      assert.ok(transmissions >= NODES - 1, `seed ${seed}: at least one transmission per receiver`);
    }
  });

  test('on a line the announcement dies out after MAX_HOPS hops', () => {
    const NODES = MAX_HOPS + 4;
    const adj = Array.from({ length: NODES }, (_, i) => new Set([i - 1, i + 1].filter((n) => n >= 0 && n < NODES)));
    const { deliveries, transmissions } = flood(adj, 0);
    assert.deepEqual(deliveries, adj.map((_, i) => (i >= 1 && i <= MAX_HOPS ? 1 : 0)));
    assert.equal(transmissions, MAX_HOPS);
  });

  test('on a ring each node delivers once and the waves stop where they meet', () => {
    const NODES = 10;
    const adj = Array.from({ length: NODES }, (_, i) => new Set([(i + 1) % NODES, (i + NODES - 1) % NODES]));
    const { deliveries, transmissions } = flood(adj, 0);
    assert.deepEqual(deliveries, adj.map((_, i) => (i === 0 ? 0 : 1)));
    // The two waves meet at node 5: it forwards the copy from 4 to 6, which already has it.
    // Every link carries the message once, except 5-6 which carries it both ways.
    assert.equal(transmissions, NODES + 1);
  });
});

describe('Catalogue', () => {
  const ALICE = peerId(1);
  const BOB = peerId(2);

  test('add makes the origin a holder; re-adding changes nothing', () => {
    const cat = new Catalogue();
    const a = announce(ALICE, 1);
    assert.equal(cat.apply(a), 'changed');
    assert.equal(cat.apply(announce(ALICE, 1)), 'unchanged');
    assert.deepEqual(cat.holders(fileId(1)), [ALICE]);
    assert.deepEqual(cat.meta(fileId(1)), a.file);
    assert.deepEqual(cat.entries(), [{ meta: a.file, holders: [ALICE] }]);
  });

  test('several origins hold one file', () => {
    const cat = new Catalogue();
    cat.apply(announce(ALICE, 1));
    assert.equal(cat.apply(announce(BOB, 1)), 'changed');
    assert.deepEqual(cat.holders(fileId(1)).sort(), [ALICE, BOB].sort());
    assert.equal(cat.entries().length, 1);
  });

  test('remove drops a holder and the file with its last holder', () => {
    const cat = new Catalogue();
    cat.apply(announce(ALICE, 1));
    cat.apply(announce(BOB, 1));
    assert.equal(cat.apply(announce(ALICE, 1, 'remove')), 'changed');
    assert.equal(cat.apply(announce(ALICE, 1, 'remove')), 'unchanged');
    assert.deepEqual(cat.holders(fileId(1)), [BOB]);
    assert.equal(cat.apply(announce(BOB, 1, 'remove')), 'changed');
    assert.deepEqual(cat.holders(fileId(1)), []);
    assert.equal(cat.meta(fileId(1)), undefined);
    assert.deepEqual(cat.entries(), []);
  });

  test('removing an unknown file or a non-holder changes nothing', () => {
    const cat = new Catalogue();
    assert.equal(cat.apply(announce(ALICE, 7, 'remove')), 'unchanged');
    cat.apply(announce(ALICE, 1));
    assert.equal(cat.apply(announce(BOB, 1, 'remove')), 'unchanged');
    assert.deepEqual(cat.holders(fileId(1)), [ALICE]);
  });

  test('removePeer: a file disappears when its last holder leaves', () => {
    const cat = new Catalogue();
    cat.apply(announce(ALICE, 1));
    cat.apply(announce(ALICE, 2));
    cat.apply(announce(BOB, 2));
    assert.equal(cat.removePeer(ALICE), true);
    assert.deepEqual(cat.entries().map((e) => [e.meta.id, e.holders]), [[fileId(2), [BOB]]]);
    assert.equal(cat.removePeer(ALICE), false);
    assert.equal(cat.removePeer(peerId(99)), false);
    assert.equal(cat.removePeer(BOB), true);
    assert.deepEqual(cat.entries(), []);
  });

  test('announcements() brings a new neighbour to the same catalogue', () => {
    const cat = new Catalogue();
    for (const [origin, file] of [[ALICE, 1], [ALICE, 2], [BOB, 2], [BOB, 3]] as const) cat.apply(announce(origin, file));
    cat.apply(announce(BOB, 3, 'remove'));
    const replay = cat.announcements();
    assert.equal(replay.length, 3);
    assert.ok(replay.every((a) => a.kind === 'add'));
    const copy = new Catalogue();
    for (const a of replay) assert.equal(copy.apply(a), 'changed');
    assert.deepEqual(copy.entries(), cat.entries());
    for (const a of replay) assert.ok(parseAnnouncement(JSON.parse(JSON.stringify(a))).ok, 'replayed announcements survive the wire');
  });

  test('one origin may hold at most MAX_FILES_PER_ORIGIN files', () => {
    const cat = new Catalogue();
    for (let f = 0; f < MAX_FILES_PER_ORIGIN; f++) assert.equal(cat.apply(announce(ALICE, f)), 'changed');
    assert.equal(cat.apply(announce(ALICE, MAX_FILES_PER_ORIGIN)), 'over-limit');
    assert.equal(cat.holders(fileId(MAX_FILES_PER_ORIGIN)).length, 0);
    assert.equal(cat.apply(announce(ALICE, 0)), 'unchanged', 'a repeat of a held file is not over the limit');
    assert.equal(cat.apply(announce(BOB, MAX_FILES_PER_ORIGIN)), 'changed', 'other origins are not affected');
    assert.equal(cat.apply(announce(ALICE, 5, 'remove')), 'changed');
    assert.equal(cat.apply(announce(ALICE, MAX_FILES_PER_ORIGIN)), 'changed', 'a removal frees a slot');
    assert.equal(cat.apply(announce(ALICE, MAX_FILES_PER_ORIGIN + 1)), 'over-limit');
    cat.removePeer(ALICE);
    assert.equal(cat.apply(announce(ALICE, MAX_FILES_PER_ORIGIN + 1)), 'changed', 'leaving resets the count');
  });
});
