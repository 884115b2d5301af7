import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BUDGET_RESERVE, BoundedMesh, FAIL_BACKOFF_MS, MAX_BACKOFF_MS, MAX_CANDIDATES, NEEDY_RETRY_MS, PRUNE_BACKOFF_MS, PRUNE_PACE_MS, isFullMeshRoom, sample,
  type BoundedAction,
} from '../../src/core/mesh/bounded.ts';
import { D, D_HIGH, D_LOW, boundsFor, type DegreeBounds } from '../../src/core/mesh/degree.ts';
import { planMesh, shouldAccept, type LinkState, type MeshView } from '../../src/core/mesh/mesh.ts';
import { mulberry32 } from './helpers/random.ts';

const id = (n: number): string => `p${String(n).padStart(15, '0')}`;
const SELF = id(0);
const room = (n: number): string[] => Array.from({ length: n }, (_, i) => id(i));
/** A room of n with SELF in it, and the others. */
const roomOf = (n: number) => ({ present: room(n), others: room(n).slice(1) });
const NORMAL = boundsFor('normal');

function view(present: string[], links: [string, LinkState][] = [], banned: string[] = []): MeshView {
  return { self: SELF, present: new Set(present), links: new Map(links), banned: new Set(banned) };
}
const openLinks = (peers: string[]): [string, LinkState][] => peers.map((p) => [p, 'open']);
const connects = (actions: BoundedAction[]) => actions.flatMap((a) => (a.kind === 'connect' ? [a.peer] : []));
const prunes = (actions: BoundedAction[]) => actions.flatMap((a) => (a.kind === 'prune' ? [a.peer] : []));

function mesh(opts: { bounds?: DegreeBounds; budget?: number; pool?: string[] } = {}): BoundedMesh {
  const m = new BoundedMesh({ self: SELF, bounds: opts.bounds ?? NORMAL, budget: opts.budget });
  m.learn(opts.pool ?? [], mulberry32(1));
  return m;
}

describe('BoundedMesh: small rooms stay a full mesh, exactly as planMesh', () => {
  test('up to D_HIGH other members, plan and accept are planMesh and shouldAccept', () => {
    const random = mulberry32(5);
    for (let n = 1; n <= D_HIGH + 1; n++) {
      const present = room(n);
      const v = view(present);
      assert.ok(isFullMeshRoom(v));
      assert.deepEqual(mesh({ pool: present }).plan(v, 0, random), planMesh(v), `room of ${n}`);
      for (const p of present) assert.equal(mesh().accept(v, p, 0, random), shouldAccept(v, p), `room of ${n}, ${p}`);
    }
    assert.equal(isFullMeshRoom(view(room(D_HIGH + 2))), false);
  });

  test('a light peer in a small room still links to everyone (the full mesh wins over its role)', () => {
    const present = room(D_HIGH + 1);
    const m = mesh({ bounds: boundsFor('light'), pool: present });
    assert.equal(connects(m.plan(view(present), 0, mulberry32(1))).length, D_HIGH); // SELF sorts first: initiator to all
  });
});

describe('BoundedMesh: degree in large rooms', () => {
  const { present, others } = roomOf(100);

  test('a joiner connects to exactly its target, chosen at random among its candidates', () => {
    const chosen = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const m = mesh();
      m.learn(others, mulberry32(seed)); // the pool is itself a random sample of the room
      const c = connects(m.plan(view(present), 0, mulberry32(seed)));
      assert.equal(c.length, D);
      assert.equal(new Set(c).size, D);
      c.forEach((p) => chosen.add(p));
    }
    assert.ok(chosen.size > 40, `random choice, not the lowest ids: ${chosen.size} distinct peers over 20 joiners`);
  });

  test('counts connecting links toward the degree and never reconnects a linked peer', () => {
    const m = mesh({ pool: others.slice(0, 10) });
    const links: [string, LinkState][] = [[others[0]!, 'connecting'], [others[1]!, 'open'], [others[2]!, 'open']];
    const c = connects(m.plan(view(present, links), 0, mulberry32(1)));
    assert.equal(c.length, D - 3);
    for (const p of c) assert.ok(!links.some(([l]) => l === p));
  });

  test('between target and high nothing happens; above high it prunes one open link per PRUNE_PACE_MS, down to the target', () => {
    const m = mesh({ pool: others });
    const random = mulberry32(1);
    assert.deepEqual(m.plan(view(present, openLinks(others.slice(0, D_HIGH))), 0, random), []);
    let links: [string, LinkState][] = [...openLinks(others.slice(0, D_HIGH + 2)), [others[50]!, 'connecting']];
    const pruned: string[] = [];
    for (let now = 0; now < 20 * PRUNE_PACE_MS; now += PRUNE_PACE_MS / 2) {
      const p = prunes(m.plan(view(present, links), now, random));
      assert.ok(p.length <= 1, 'at most one prune per plan');
      if (p.length > 0) assert.equal(now % PRUNE_PACE_MS, 0, 'never two within PRUNE_PACE_MS');
      pruned.push(...p);
      links = links.filter(([peer]) => !p.includes(peer));
    }
    assert.equal(links.length, D, 'goes on below high, and stops at the target');
    assert.equal(pruned.length, D_HIGH + 3 - D);
    assert.deepEqual(prunes(m.plan(view(present, links.slice(0, D + 2)), 100 * PRUNE_PACE_MS, random)), [], 'between target and high again (a link came): rests');
    assert.ok(!pruned.includes(others[50]!), 'a connecting link is not pruned (it is not yet carrying anything)');
  });

  test('a room outgrowing the full mesh: everyone above high at once, paced prunes settle within bounds, nobody stranded', () => {
    // 16 peers, all linked to all (the full mesh of 13 that grew): each prunes on its own, as real tabs do.
    const ids = Array.from({ length: 16 }, (_, i) => `p${String(i).padStart(15, '0')}`);
    const links = new Map(ids.map((id) => [id, new Set(ids.filter((o) => o !== id))]));
    const meshes = new Map(ids.map((id) => [id, new BoundedMesh({ self: id, bounds: boundsFor('normal') })]));
    const random = mulberry32(7);
    for (let now = 0; now < 20 * PRUNE_PACE_MS; now += 250) {
      for (const id of ids) {
        const own = links.get(id)!;
        const v = { self: id, present: new Set(ids), links: new Map([...own].map((p): [string, LinkState] => [p, 'open'])), banned: new Set<string>() };
        for (const p of prunes(meshes.get(id)!.plan(v, now, random))) {
          own.delete(p);
          links.get(p)!.delete(id);
        }
      }
    }
    const degrees = ids.map((id) => links.get(id)!.size);
    assert.ok(degrees.every((d) => d >= D_LOW && d <= D_HIGH), `degrees ${degrees.join(' ')}`);
  });

  test('banned links are dropped; banned peers are never chosen', () => {
    const m = mesh({ pool: others.slice(0, 8) });
    const actions = m.plan(view(present, openLinks([others[0]!]), [others[0]!, ...others.slice(1, 5)]), 0, mulberry32(1));
    assert.deepEqual(actions[0], { kind: 'drop', peer: others[0], reason: 'banned' });
    assert.deepEqual(connects(actions).sort(), others.slice(5, 8).sort(), 'only the three unbanned candidates');
  });

  test('a light peer holds D_LOW and refuses offers at D; a super-peer accepts up to D_HIGH', () => {
    const random = mulberry32(2);
    const light = mesh({ bounds: boundsFor('light'), pool: others });
    assert.equal(connects(light.plan(view(present), 0, random)).length, D_LOW);
    assert.equal(light.accept(view(present, openLinks(others.slice(0, D - 1))), others[60]!, 0, random), true);
    assert.equal(light.accept(view(present, openLinks(others.slice(0, D))), others[61]!, 0, random), false);
    const big = mesh({ bounds: boundsFor('super'), pool: others });
    assert.equal(connects(big.plan(view(present), 0, random)).length, D_HIGH - 2);
    assert.equal(big.accept(view(present, openLinks(others.slice(0, D_HIGH - 1))), others[60]!, 0, random), true);
    assert.equal(big.accept(view(present, openLinks(others.slice(0, D_HIGH))), others[61]!, 0, random), false);
  });

  test('a needy offer (the dialler below D_LOW) is taken one over the high bound, then pruned back; never two over', () => {
    const random = mulberry32(3);
    const light = mesh({ bounds: boundsFor('light'), pool: others });
    const full = openLinks(others.slice(0, D));
    assert.equal(light.accept(view(present, full), others[61]!, 0, random), false, 'at high: a plain offer is refused');
    assert.equal(light.accept(view(present, full), others[62]!, 0, random, true), true, 'a straggler is taken');
    const over = [...full, ...openLinks([others[62]!])];
    assert.equal(light.accept(view(present, over), others[63]!, 0, random, true), false, 'one over at most');
    assert.equal(prunes(light.plan(view(present, over), 0, random)).length, 1, 'and pruned back to high');
  });

  test('an offer refused for lack of room makes the offerer a candidate', () => {
    const m = mesh();
    assert.equal(m.accept(view(present, openLinks(others.slice(0, D_HIGH))), others[70]!, 0, mulberry32(1)), false);
    assert.deepEqual(m.candidates(), [others[70]]);
  });
});

describe('BoundedMesh: a neighbour lost, joins and leaves in bursts', () => {
  const { present, others } = roomOf(200);

  test('a neighbour lost is replaced from the candidates at the next plan', () => {
    const random = mulberry32(9);
    const m = mesh({ pool: others.slice(0, MAX_CANDIDATES) });
    const first = connects(m.plan(view(present), 0, random));
    const kept = first.slice(1);
    m.forget(first[0]!); // it left the room
    const next = connects(m.plan(view(present, openLinks(kept)), 1, random));
    assert.equal(next.length, 1);
    assert.ok(!first.includes(next[0]!));
    assert.ok(!m.candidates().includes(first[0]!));
  });

  test('a burst of 50 offers: accepted up to D_HIGH, the rest become candidates (capped at MAX_CANDIDATES)', () => {
    const random = mulberry32(4);
    const m = mesh();
    const links = new Map<string, LinkState>();
    for (const p of others.slice(0, 50)) if (m.accept({ ...view(present), links }, p, 0, random)) links.set(p, 'open');
    assert.equal(links.size, D_HIGH);
    assert.equal(m.candidates().length, MAX_CANDIDATES);
    assert.ok(m.candidates().every((p) => !links.has(p)));
  });

  test('a third of the room leaves at once: candidates that left are forgotten and the peer asks for more', () => {
    const m = mesh({ pool: others.slice(0, MAX_CANDIDATES) });
    const none = new Map<string, LinkState>();
    assert.equal(m.needsCandidates(none, 0), false);
    for (const p of others.slice(0, 16)) m.forget(p);
    assert.equal(m.needsCandidates(none, 0), true);
    m.learn(others.slice(100, 130), mulberry32(2));
    assert.equal(m.candidates().length, MAX_CANDIDATES);
    assert.equal(new Set(m.candidates()).size, MAX_CANDIDATES, 'no duplicates in the pool');
  });

  test('candidates that are linked or backing off do not count as usable: the peer asks for more', () => {
    const m = mesh({ pool: others.slice(0, MAX_CANDIDATES) });
    const links = new Map<string, LinkState>(openLinks(others.slice(0, 8)));
    assert.equal(m.needsCandidates(links, 0), false);
    for (const p of others.slice(8, 16)) m.pruned(p, 0);
    assert.equal(m.needsCandidates(links, 0), true);
    assert.equal(m.needsCandidates(links, PRUNE_BACKOFF_MS), false, 'usable again once the backoff ends');
  });

  test('learn never adds self', () => {
    const m = mesh({ pool: [SELF, others[0]!] });
    assert.deepEqual(m.candidates(), [others[0]]);
  });
});

describe('BoundedMesh: churn damping', () => {
  const { present, others } = roomOf(50);

  test('a pruned peer is neither reconnected nor accepted for PRUNE_BACKOFF_MS', () => {
    const random = mulberry32(1);
    const m = mesh({ pool: [others[0]!] });
    const linked = openLinks(others.slice(1, D_HIGH + 2)); // D_HIGH + 1: one too many
    const pruned = prunes(m.plan(view(present, linked), 1000, random));
    assert.equal(pruned.length, 1);
    const victim = pruned[0]!;
    m.learn([victim], random);
    // Others left meanwhile: there is room again, but not for the pruned peer.
    const after = view(present, linked.filter(([p]) => !pruned.includes(p)).slice(0, D));
    assert.ok(!connects(m.plan(after, 1000 + PRUNE_BACKOFF_MS - 1, random)).includes(victim));
    assert.equal(m.accept(after, victim, 1000 + PRUNE_BACKOFF_MS - 1, random), false);
    assert.equal(m.accept(after, victim, 1000 + PRUNE_BACKOFF_MS, random), true);
  });

  test('being pruned by the other side backs off the same way', () => {
    const m = mesh({ pool: [others[0]!] });
    m.pruned(others[0]!, 0);
    const atLow = view(present, openLinks(others.slice(1, 1 + D_LOW))); // short of its target, not needy
    assert.deepEqual(connects(m.plan(atLow, PRUNE_BACKOFF_MS - 1, mulberry32(1))), []);
    assert.deepEqual(connects(m.plan(atLow, PRUNE_BACKOFF_MS, mulberry32(1))), [others[0]]);
  });

  test('below low with nobody else to dial: one peer damped by a prune or a refusal is dialled per NEEDY_RETRY_MS, each once per backoff, never one that failed', () => {
    const random = mulberry32(4);
    const [a, b, dead] = others as [string, string, string];
    const m = mesh({ pool: [a, b, dead] });
    m.pruned(a, 0); // it pruned us
    m.pruned(b, 0); // it refused us (a refusal damps as a prune does)
    m.failed(dead, 0);
    m.failed(dead, FAIL_BACKOFF_MS); // failed twice: still backing off below
    const one = view(present, openLinks([others[10]!]));
    const first = connects(m.plan(one, 1_000, random));
    assert.equal(first.length, 1, 'one at a time');
    assert.ok([a, b].includes(first[0]!));
    const dialling = view(present, [...openLinks([others[10]!]), [first[0]!, 'connecting']]);
    assert.deepEqual(connects(m.plan(dialling, 1_000 + NEEDY_RETRY_MS - 1, random)), [], 'paced');
    const second = connects(m.plan(dialling, 1_000 + NEEDY_RETRY_MS, random));
    assert.deepEqual(second, [a, b].filter((p) => p !== first[0]), 'the other one, not the one that failed');
    for (const p of [a, b]) m.pruned(p, 1_000 + NEEDY_RETRY_MS); // both refused us again
    assert.deepEqual(connects(m.plan(one, 1_000 + 5 * NEEDY_RETRY_MS, random)), [], 'each retried once per backoff: refusals cost no more budget than before');
    const atLow = view(present, openLinks(others.slice(10, 10 + D_LOW)));
    assert.deepEqual(connects(m.plan(atLow, 10_000, random)), [], 'at low: backoffs hold as before');
  });

  test('a needy offer from a peer we pruned is taken below high while we are not pruning; never at high, while pruning, or plain', () => {
    const random = mulberry32(5);
    const light = boundsFor('light');
    const m = mesh({ bounds: light });
    const [victim, other] = others as [string, string];
    const below = view(present, openLinks(others.slice(10, 10 + light.high - 1)));
    const atHigh = view(present, openLinks(others.slice(10, 10 + light.high)));
    m.pruned(victim, 0);
    assert.equal(m.accept(below, victim, 1_000, random), false, 'a plain offer waits out the backoff');
    assert.equal(m.accept(atHigh, victim, 1_000, random, true), false, 'not one over the bound: it would be pruned again');
    assert.equal(m.accept(below, victim, 1_000, random, true), true);
    m.failed(other, 0);
    assert.equal(m.accept(below, other, 1_000, random, true), false, 'a failure\'s backoff holds');
    const over = view(present, openLinks(others.slice(10, 10 + light.high + 1)));
    assert.equal(prunes(m.plan(over, 2_000, random)).length, 1, 'over high: pruning, down to the target');
    assert.equal(m.accept(below, victim, 2_000, random, true), false, 'while pruning: it could be the next one pruned');
  });

  test('failures back off exponentially up to MAX_BACKOFF_MS; an opened link resets the count', () => {
    const m = mesh();
    const p = others[0]!;
    let now = 0;
    for (let i = 1; i <= 12; i++) {
      m.failed(p, now);
      const wait = Math.min(MAX_BACKOFF_MS, FAIL_BACKOFF_MS * 2 ** (i - 1));
      assert.ok(m.backedOff(p, now + wait - 1), `failure ${i}`);
      assert.ok(!m.backedOff(p, now + wait), `failure ${i}`);
      now += wait;
    }
    m.opened(p);
    m.failed(p, now);
    assert.ok(!m.backedOff(p, now + FAIL_BACKOFF_MS));
  });

  test('a failure during a prune backoff does not shorten it', () => {
    const m = mesh();
    m.pruned(others[0]!, 0);
    m.failed(others[0]!, 0);
    assert.ok(m.backedOff(others[0]!, PRUNE_BACKOFF_MS - 1));
  });
});

describe('BoundedMesh: connection budget', () => {
  const { present, others } = roomOf(300);

  test('connects and accepts both count; the budget is never exceeded, in full-mesh rooms too', () => {
    const random = mulberry32(8);
    const budget = BUDGET_RESERVE + 10;
    const m = mesh({ budget, pool: others });
    assert.equal(connects(m.plan(view(present), 0, random)).length, D);
    assert.equal(m.usage().created, D);
    let accepted = 0;
    // Offers are taken one at a time while the links stay few (each offerer's link closes at once).
    for (const p of others.slice(100, 130)) if (m.accept(view(present), p, 0, random)) accepted++;
    assert.equal(accepted, budget - D);
    assert.deepEqual(m.usage(), { created: budget, remaining: 0 });
    assert.deepEqual(connects(m.plan(view(present), 0, random)), []);
    const small = room(D_HIGH);
    const full = mesh({ budget: 3 });
    assert.equal(connects(full.plan(view(small), 0, random)).length, 3);
    assert.equal(full.accept(view(small), small[5]!, 0, random), false);
  });

  test('budget nearly exhausted: only repairs below low, up to low', () => {
    const random = mulberry32(2);
    const m = mesh({ budget: BUDGET_RESERVE + 2, pool: others });
    m.plan(view(present, openLinks(others.slice(0, D - 2))), 0, random); // 2 connects: BUDGET_RESERVE left
    assert.equal(m.usage().remaining, BUDGET_RESERVE);
    assert.deepEqual(m.plan(view(present, openLinks(others.slice(0, D_LOW))), 0, random), [], 'at low: no reaching for the target');
    assert.equal(connects(m.plan(view(present, openLinks(others.slice(0, 1))), 0, random)).length, D_LOW - 1);
  });

  test('200 random plan/accept/fail rounds never exceed the budget', () => {
    const random = mulberry32(77);
    const m = mesh({ budget: 60, pool: others.slice(0, MAX_CANDIDATES) });
    const links = new Map<string, LinkState>();
    let constructed = 0;
    for (let t = 0; t < 200; t++) {
      const now = t * 1000;
      for (const a of m.plan({ ...view(present), links }, now, random)) {
        if (a.kind === 'connect') constructed++, links.set(a.peer, 'open');
        else links.delete(a.peer);
      }
      const offerer = others[Math.floor(random() * others.length)]!;
      if (m.accept({ ...view(present), links }, offerer, now, random)) constructed++, links.set(offerer, 'open');
      for (const p of [...links.keys()]) if (random() < 0.2) links.delete(p), m.failed(p, now), m.learn([others[Math.floor(random() * 299)]!], random);
      assert.ok(constructed <= 60 && constructed === m.usage().created, `round ${t}: ${constructed}`);
    }
    assert.equal(constructed, 60, 'the churn used it all');
  });
});

describe('sample', () => {
  test('distinct items, at most n, uniform enough', () => {
    const random = mulberry32(6);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 5000; i++) {
      const s = sample([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, random);
      assert.equal(new Set(s).size, 3);
      s.forEach((x) => counts[x]++);
    }
    for (const c of counts) assert.ok(c > 1300 && c < 1700, `${counts}`);
    assert.deepEqual(sample([1, 2], 5, random).sort(), [1, 2]);
    assert.deepEqual(sample([1, 2], -1, random), []);
  });
});
