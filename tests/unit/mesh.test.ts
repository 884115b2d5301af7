import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_DEGREE, isInitiator, planMesh, shouldAccept, shouldDropOnLeave, type LinkState, type MeshView } from '../../src/core/mesh/mesh.ts';
import { mulberry32 } from './helpers/random.ts';


const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** A peer id shaped like the real ones: 16 base64url characters. */
const randomPeerId = (random: () => number): string => Array.from({ length: 16 }, () => ALPHABET[Math.floor(random() * 64)]).join('');

function view(self: string, opts: { present?: string[]; links?: [string, LinkState][]; banned?: string[] } = {}): MeshView {
  return { self, present: new Set(opts.present ?? []), links: new Map(opts.links ?? []), banned: new Set(opts.banned ?? []) };
}

const connects = (v: MeshView, maxDegree?: number): string[] =>
  planMesh(v, maxDegree).flatMap((a) => (a.kind === 'connect' ? [a.peer] : []));

describe('isInitiator', () => {
  test('exactly one side of any pair of distinct ids initiates', () => {
    const random = mulberry32(7);
    const ids = [...Array(200)].map(() => randomPeerId(random));
    ids.push('AAAAAAAAAAAAAAAA', 'aaaaaaaaaaaaaaaa', '----------------', '________________', 'AAAAAAAAAAAAAAAB');
    for (const a of ids) {
      for (const b of ids) {
        if (a === b) continue;
        assert.notEqual(isInitiator(a, b), isInitiator(b, a), `${a} / ${b}`);
      }
    }
  });

  test('nobody initiates to itself', () => {
    assert.equal(isInitiator('AbCdEfGh_-012345', 'AbCdEfGh_-012345'), false);
  });
});

describe('planMesh', () => {
  const SELF = 'mmmmmmmmmmmmmmmm';
  const LOW = 'aaaaaaaaaaaaaaaa';
  const HIGH1 = 'xxxxxxxxxxxxxxxx';
  const HIGH2 = 'yyyyyyyyyyyyyyyy';
  const HIGH3 = 'zzzzzzzzzzzzzzzz';

  test('connects only to peers for which self is the initiator', () => {
    assert.deepEqual(planMesh(view(SELF, { present: [LOW, HIGH1, SELF] })), [{ kind: 'connect', peer: HIGH1 }]);
    assert.deepEqual(connects(view(LOW, { present: [LOW, SELF, HIGH1] })), [SELF, HIGH1]);
    assert.deepEqual(connects(view(HIGH3, { present: [LOW, SELF, HIGH1, HIGH3] })), []);
  });

  test('never connects to self, banned peers or existing links', () => {
    const v = view(LOW, {
      present: [LOW, SELF, HIGH1, HIGH2, HIGH3],
      links: [[SELF, 'open'], [HIGH1, 'connecting']],
      banned: [HIGH2],
    });
    assert.deepEqual(connects(v), [HIGH3]);
  });

  test('drops links to banned peers, whatever their state', () => {
    const v = view(LOW, { present: [SELF, HIGH1], links: [[SELF, 'open'], [HIGH1, 'connecting']], banned: [SELF, HIGH1, HIGH2] });
    assert.deepEqual(planMesh(v), [
      { kind: 'drop', peer: SELF, reason: 'banned' },
      { kind: 'drop', peer: HIGH1, reason: 'banned' },
    ]);
  });

  test('does not drop links merely because the relay lists nobody (an outage is not a leave)', () => {
    assert.deepEqual(planMesh(view(LOW, { present: [], links: [[SELF, 'open'], [HIGH1, 'connecting']] })), []);
  });

  test('respects maxDegree, counting existing and connecting links', () => {
    const present = [LOW, SELF, HIGH1, HIGH2, HIGH3];
    assert.deepEqual(connects(view(LOW, { present }), 2), [SELF, HIGH1]);
    assert.deepEqual(connects(view(LOW, { present, links: [[HIGH3, 'connecting']] }), 2), [SELF]);
    assert.deepEqual(connects(view(LOW, { present, links: [[HIGH2, 'open'], [HIGH3, 'open']] }), 2), []);
    assert.deepEqual(connects(view(LOW, { present }), 0), []);
  });

  test('defaults to MAX_DEGREE', () => {
    const random = mulberry32(11);
    const self = '0000000000000000'; // sorts before every other id: initiator to all
    const others = [...Array(MAX_DEGREE + 10)].map(() => `1${randomPeerId(random).slice(1)}`);
    assert.equal(connects(view(self, { present: [self, ...others] })).length, MAX_DEGREE);
  });
});

describe('shouldAccept', () => {
  const SELF = 'zzzzzzzzzzzzzzzz';
  const PEER = 'aaaaaaaaaaaaaaaa';
  const OTHER = 'bbbbbbbbbbbbbbbb';

  test('accepts a present, unbanned, unlinked peer while there is room', () => {
    assert.equal(shouldAccept(view(SELF, { present: [PEER, SELF] }), PEER), true);
    assert.equal(shouldAccept(view(SELF, { present: [PEER], links: [[OTHER, 'open']] }), PEER, 2), true);
  });

  test('refuses self, absent, banned, already linked peers and a full node', () => {
    assert.equal(shouldAccept(view(SELF, { present: [SELF] }), SELF), false, 'self');
    assert.equal(shouldAccept(view(SELF, { present: [OTHER] }), PEER), false, 'not in the room');
    assert.equal(shouldAccept(view(SELF, { present: [PEER], banned: [PEER] }), PEER), false, 'banned');
    assert.equal(shouldAccept(view(SELF, { present: [PEER], links: [[PEER, 'connecting']] }), PEER), false, 'already linked');
    assert.equal(shouldAccept(view(SELF, { present: [PEER, OTHER], links: [[OTHER, 'open']] }), PEER, 1), false, 'full');
  });
});

describe('shouldDropOnLeave', () => {
  test('a leave stops a connection attempt, never an open link (presence is not proof)', () => {
    const v = view('zzzzzzzzzzzzzzzz', { present: [], links: [['aaaaaaaaaaaaaaaa', 'open'], ['bbbbbbbbbbbbbbbb', 'connecting']] });
    assert.equal(shouldDropOnLeave(v, 'aaaaaaaaaaaaaaaa'), false);
    assert.equal(shouldDropOnLeave(v, 'bbbbbbbbbbbbbbbb'), true);
    assert.equal(shouldDropOnLeave(v, 'cccccccccccccccc'), false);
  });
});

describe('mesh properties', () => {
  test('for 50 random rooms, the initiators\' connects cover every pair exactly once', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = mulberry32(seed);
      const size = 2 + Math.floor(random() * MAX_DEGREE); // up to MAX_DEGREE + 1 peers: a full mesh fits
      const ids = [...new Set([...Array(size)].map(() => randomPeerId(random)))];
      const pairs = new Map<string, number>();
      for (const self of ids) {
        for (const action of planMesh(view(self, { present: ids }))) {
          assert.equal(action.kind, 'connect', `seed ${seed}`);
          assert.notEqual(action.peer, self, `seed ${seed}`);
          assert.ok(isInitiator(self, action.peer), `seed ${seed}: ${self} offers to ${action.peer} without initiating`);
          assert.ok(shouldAccept(view(action.peer, { present: ids }), self), `seed ${seed}: ${action.peer} refuses ${self}`);
          const key = [self, action.peer].sort().join('|');
          pairs.set(key, (pairs.get(key) ?? 0) + 1);
        }
      }
      assert.equal(pairs.size, (ids.length * (ids.length - 1)) / 2, `seed ${seed}: every pair of ${ids.length} is connected`);
      assert.ok([...pairs.values()].every((n) => n === 1), `seed ${seed}: no pair gets two offers (glare)`);
    }
  });

  /** Peers join a room one at a time; after each join every peer runs planMesh and responders apply shouldAccept. */
  function joinOneByOne(ids: string[]): Map<string, Map<string, LinkState>> {
    const links = new Map<string, Map<string, LinkState>>();
    const present: string[] = [];
    for (const id of ids) {
      present.push(id);
      links.set(id, new Map());
      for (const self of present) {
        for (const action of planMesh(view(self, { present, links: [...links.get(self)!] }))) {
          if (action.kind !== 'connect') continue;
          if (!shouldAccept(view(action.peer, { present, links: [...links.get(action.peer)!] }), self)) continue;
          links.get(self)!.set(action.peer, 'open');
          links.get(action.peer)!.set(self, 'open');
        }
      }
    }
    return links;
  }

  function reachable(links: Map<string, Map<string, LinkState>>, from: string): number {
    const seen = new Set([from]);
    const queue = [from];
    for (let at = 0; at < queue.length; at++) {
      for (const next of links.get(queue[at]!)!.keys()) if (!seen.has(next) && seen.add(next)) queue.push(next);
    }
    return seen.size;
  }

  /** The largest room planMesh keeps as one full mesh; the relay's cap (256) is the bounded mesh's to serve. */
  const FULL_ROOM = MAX_DEGREE + 1;

  test('peers joining one by one never exceed MAX_DEGREE links', () => {
    const random = mulberry32(99);
    const links = joinOneByOne([...Array(FULL_ROOM)].map(() => randomPeerId(random)));
    for (const [id, l] of links) assert.ok(l.size <= MAX_DEGREE, `${id} has ${l.size} links`);
  });

  // In a room of more than MAX_DEGREE + 1, the first MAX_DEGREE + 1 would form a full
  // clique and refuse everyone after them: two islands that gossip cannot cross. So
  // planMesh serves rooms up to that size; larger ones need the bounded mesh (bounded.ts).
  test('a full room of peers joining one by one forms a single connected mesh', () => {
    const random = mulberry32(1234);
    const ids = [...Array(FULL_ROOM)].map(() => randomPeerId(random));
    const links = joinOneByOne(ids);
    assert.equal(reachable(links, ids[0]!), ids.length, `degrees: ${ids.map((id) => links.get(id)!.size).join(' ')}`);
  });
});
