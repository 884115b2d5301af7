import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RoomPresence } from '../../src/app/room-presence.ts';
import { toBase64Url } from '../../src/core/bytes.ts';
import { EXPIRE_MS, REFRESH_MS, signPresence, type Presence, type PresenceStatus } from '../../src/core/gossip/presence.ts';
import { decodeFrame, encodeFrame } from '../../src/core/wire/frames.ts';
import { fakeVerify, idOf, makeFakeKey, type TestKey } from './helpers/gossip-keys.ts';

const ROOM = 'presence-room';

interface Node {
  id: string;
  key: TestKey;
  presence: RoomPresence;
  links: Set<string>;
  name: string;
  status: PresenceStatus;
  blocked: Set<string>;
  bans: string[];
  arrived: string[];
  departed: string[];
  restarted: string[];
}

/** RoomPresence instances over in-memory links (real frame codec), a shared fake clock, delivered in order by run(). */
class Room {
  readonly nodes = new Map<string, Node>();
  clock = 0;
  private queue: { from: string; to: string; frame: Uint8Array }[] = [];

  add(n: number, room = ROOM): Node {
    const key = makeFakeKey(n);
    const node: Node = { id: key.id, key, links: new Set(), name: `Person ${n}`, status: 'active', blocked: new Set(), bans: [], arrived: [], departed: [], restarted: [], presence: undefined! };
    node.presence = new RoomPresence({
      self: key, room, since: 1_700_000_000_000 + this.clock, verify: fakeVerify, idOf,
      neighbours: () => [...node.links],
      // As the relay lists them: A must know C is in the room to know that its word needs forwarding.
      members: () => new Set(this.nodes.keys()),
      send: (peer, json) => this.queue.push({ from: node.id, to: peer, frame: encodeFrame({ type: 'presence', json }) }),
      now: () => this.clock,
      wallClock: () => 1_700_000_000_000 + this.clock,
      name: () => node.name,
      status: () => node.status,
      refused: (origin) => node.blocked.has(origin),
      ban: (peer, code) => node.bans.push(`${peer}:${code}`),
      arrived: (origin) => node.arrived.push(origin),
      departed: (origin) => node.departed.push(origin),
      restarted: (origin) => node.restarted.push(origin),
      changed: () => undefined,
    });
    this.nodes.set(node.id, node);
    return node;
  }

  link(a: Node, b: Node): void {
    a.links.add(b.id);
    b.links.add(a.id);
    a.presence.greet(b.id);
    b.presence.greet(a.id);
  }

  unlink(a: Node, b: Node): void {
    a.links.delete(b.id);
    b.links.delete(a.id);
  }

  /** Delivers every frame in flight, and those they cause. */
  async run(): Promise<void> {
    while (this.queue.length > 0) {
      const { from, to, frame } = this.queue.shift()!;
      const node = this.nodes.get(to)!;
      if (!node.links.has(from)) continue;
      const m = decodeFrame(frame);
      assert.ok(m.ok && m.value.type === 'presence');
      await node.presence.receive(from, m.value.json);
    }
  }

  /** Advances the clock, ticking everyone each second. */
  async advance(ms: number): Promise<void> {
    for (const end = this.clock + ms; this.clock < end; ) {
      this.clock = Math.min(end, this.clock + 1_000);
      for (const n of this.nodes.values()) n.presence.tick();
      await this.settle();
    }
  }

  /** Lets signatures finish, then delivers. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      await this.run();
    }
  }
}

/** A line A - B - C: C hears of A only through B. */
async function line() {
  const room = new Room();
  const [a, b, c] = [room.add(1), room.add(2), room.add(3)];
  room.link(a, b);
  room.link(b, c);
  await room.advance(1_000);
  return { room, a, b, c };
}

describe('RoomPresence: who is here reaches those who are not neighbours', () => {
  test('A\'s statement floods through B to C, with its name; each learns of each once (a mesh candidate)', async () => {
    const { a, b, c } = await line();
    assert.deepEqual(new Set(c.presence.here()), new Set([a.id, b.id]));
    assert.equal(c.presence.nameOf(a.id), 'Person 1');
    assert.deepEqual(c.arrived.sort(), [a.id, b.id].sort());
    assert.deepEqual(a.arrived.sort(), [b.id, c.id].sort());
    assert.deepEqual([a, b, c].flatMap((n) => n.bans), []);
  });

  test('a newcomer linked to B alone learns of everyone from B\'s sync at once, and the sync goes no further', async () => {
    const { room, a, b, c } = await line();
    const d = room.add(4);
    const accepted = (n: Node) => n.presence.stats().accepted!;
    const before = [a, b, c].map(accepted);
    room.link(d, b);
    await room.settle();
    assert.deepEqual(new Set(d.presence.here()), new Set([a.id, b.id, c.id]));
    assert.deepEqual([a, b, c].map(accepted), before, 'nobody else took in anything: the sync went no further than D');
    await room.advance(1_000); // D's own first statement, with every hop
    assert.equal(c.presence.isHere(d.id), true, 'D\'s own statement reaches C through B');
    assert.equal(a.presence.isHere(d.id), true);
  });

  test('a goodbye travels like a statement: C hears A left, through B', async () => {
    const { room, a, c } = await line();
    a.presence.leave();
    await room.settle();
    assert.equal(c.presence.isHere(a.id), false);
    assert.deepEqual(c.departed, [a.id]);
  });

  test('a reload: the same identity says it is here from a later session start, and C is told it restarted', async () => {
    const { room, a, b, c } = await line();
    assert.deepEqual(c.restarted.sort(), [a.id, b.id].sort(), 'the first word of each session');
    await room.advance(5_000);
    room.unlink(a, b);
    const again = room.add(1); // A's page reloads: same key, a new RoomPresence
    room.link(again, b);
    await room.advance(1_000);
    assert.deepEqual(c.restarted.filter((o) => o === a.id).length, 2);
    assert.equal(c.presence.isHere(a.id), true);
  });

  test('someone who goes silent expires after three missed refreshes, not before', async () => {
    const { room, a, b, c } = await line();
    room.unlink(a, b); // A is gone without a word
    room.nodes.delete(a.id);
    await room.advance(EXPIRE_MS - REFRESH_MS);
    assert.equal(c.presence.isHere(a.id), true);
    await room.advance(REFRESH_MS + 1_000);
    assert.equal(c.presence.isHere(a.id), false);
    assert.deepEqual(c.departed, [a.id]);
    assert.equal(c.presence.isHere(b.id), true, 'B kept saying it is here');
  });

  test('a rename reaches C within the budget others give A', async () => {
    const { room, a, c } = await line();
    for (const name of ['Ann', 'Anna', 'Annabel']) {
      a.name = name;
      a.presence.restate();
      await room.advance(1_000);
    }
    await room.advance(10_000);
    assert.equal(c.presence.nameOf(a.id), 'Annabel');
    assert.equal(c.presence.stats()['over-budget'], 0);
  });

  test('names are cleaned like HELLO names: bidi overrides and invisible ones do not reach the screen', async () => {
    const { room, a, c } = await line();
    a.name = 'Bob\u202egpj.exe';
    a.presence.restate();
    await room.advance(6_000);
    assert.equal(c.presence.nameOf(a.id), 'Bobgpj.exe');
    a.name = '\u200b\u200b';
    a.presence.restate();
    await room.advance(6_000);
    assert.equal(c.presence.nameOf(a.id), null, 'nothing visible: no name');
  });
});

describe('RoomPresence: only proof gets a link banned', () => {
  async function forge(key: TestKey, over: Partial<Presence> = {}, room = ROOM): Promise<Presence> {
    const p = await signPresence({ origin: key.id, key: toBase64Url(key.publicKey), seq: 5, since: 5, kind: 'here', name: 'x', hops: 3 }, room, (d) => key.sign(d));
    return { ...p, ...over };
  }

  test('malformed, forged or signed for another room: the sender is banned; an honest forwarder is not', async () => {
    const room = new Room();
    const [b, c] = [room.add(2), room.add(3)];
    room.link(b, c);
    const mallory = makeFakeKey(66);
    await c.presence.receive(b.id, { kind: 'here' });
    await c.presence.receive(b.id, await forge(mallory, {}, 'another-room'));
    await c.presence.receive(b.id, await forge(mallory, { origin: b.id }));
    await c.presence.receive(b.id, await forge(mallory, { name: 'changed after signing' }));
    assert.deepEqual(c.bans, [`${b.id}:ERR_BAD_GOSSIP`, `${b.id}:ERR_BAD_SIGNATURE`, `${b.id}:ERR_BAD_ORIGIN`, `${b.id}:ERR_BAD_SIGNATURE`]);
    assert.deepEqual(c.presence.here(), []);
    await c.presence.receive(b.id, await forge(mallory));
    assert.equal(c.bans.length, 4, 'a good statement forwarded by B costs B nothing');
    assert.deepEqual(c.presence.here(), [mallory.id]);
  });
});

describe('RoomPresence: active, idle and away, by the page\'s own word', () => {
  test('a status change reaches C through B; a signature over the status stops B from changing it', async () => {
    const { room, a, b, c } = await line();
    assert.equal(c.presence.statusOf(a.id), 'active');
    a.status = 'idle';
    a.presence.restate();
    await room.advance(6_000);
    assert.equal(c.presence.statusOf(a.id), 'idle');
    const forged = { ...(await forgeStatus(a.key, 'idle')), status: 'away' as const };
    await c.presence.receive(b.id, forged);
    assert.deepEqual(c.bans, [`${b.id}:ERR_BAD_SIGNATURE`], 'the status is signed: changed on the way is proof');
  });

  test('rapid toggles are coalesced: the last one arrives and no receiver drops a statement for its budget', async () => {
    const { room, a, c } = await line();
    for (let i = 0; i < 40; i++) {
      a.status = i % 2 === 0 ? 'idle' : 'active';
      a.presence.restate();
      room.clock += 100; // ten toggles a second, faster than the 1 s tick
      if (i % 10 === 9) await room.advance(1_000);
    }
    a.status = 'away';
    a.presence.restate();
    await room.advance(12_000);
    assert.equal(c.presence.statusOf(a.id), 'away');
    assert.equal(c.presence.stats()['over-budget'], 0);
    assert.deepEqual(c.bans, []);
  });

  test('a statement without a status (a peer too old to say) shows none', async () => {
    const room = new Room();
    const [b, c] = [room.add(2), room.add(3)];
    room.link(b, c);
    const old = makeFakeKey(70);
    const p = await signPresence({ origin: old.id, key: toBase64Url(old.publicKey), seq: 5, since: 5, kind: 'here', name: 'Old', hops: 3 }, ROOM, (d) => old.sign(d));
    await c.presence.receive(b.id, p);
    assert.equal(c.presence.isHere(old.id), true);
    assert.equal(c.presence.statusOf(old.id), null);
    assert.deepEqual(c.bans, []);
  });
});

describe('RoomPresence: a blocked identity', () => {
  test('is not taken in, not passed on, and its forwarder is not punished', async () => {
    const room = new Room();
    const [a, b, c, d] = [room.add(1), room.add(2), room.add(3), room.add(4)];
    b.blocked.add(a.id);
    room.link(a, b);
    room.link(b, c);
    room.link(c, d);
    await room.advance(1_000);
    assert.equal(b.presence.isHere(a.id), false);
    assert.ok(b.presence.stats().blocked! >= 1);
    assert.equal(c.presence.isHere(a.id), false, 'B did not pass it on');
    assert.equal(c.presence.isHere(b.id), true);
    assert.deepEqual(b.bans, []);
  });
});

async function forgeStatus(key: TestKey, status: PresenceStatus): Promise<Presence> {
  return signPresence({ origin: key.id, key: toBase64Url(key.publicKey), seq: 9e12, since: 5, kind: 'here', name: 'x', status, hops: 3 }, ROOM, (d) => key.sign(d));
}
