/**
 * Relay instances sharing rooms through the cluster bus, over an in-memory broker with
 * Redis's delivery rules (at most once, only while connected): real relays on real
 * sockets, real signed joins. The same bus over a real redis-server is in
 * relay-redis.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { createClusterBus } from '../../signaling/cluster-bus.ts';
import { MAX_PEERS_PER_ROOM, MAX_WELCOME_PEERS, RELAY_PATH } from '../../signaling/protocol.ts';
import { createRelay, type RelayOptions } from '../../signaling/relay.ts';
import { localBus } from '../../signaling/room-bus.ts';
import { memoryHub } from './helpers/memory-broker.ts';
import { mulberry32 } from './helpers/random.ts';
import { openClient, sleep, until } from './helpers/relay-client.ts';
import { nodeTestIdentity } from './helpers/signed-join.ts';

const T = 'a'.repeat(64);
const U = 'b'.repeat(64);
/** Fast liveness so that a lost instance is noticed within a test. */
const HEARTBEAT_MS = 50;
const LIVENESS_MS = 500;

async function startInstance(t: TestContext, hub: ReturnType<typeof memoryHub>, opts: RelayOptions = {}) {
  const events: Record<string, unknown>[] = [];
  const log = (e: Record<string, unknown>): void => { events.push(e); };
  const broker = hub.broker();
  const bus = createClusterBus({ broker, heartbeatMs: HEARTBEAT_MS, livenessMs: LIVENESS_MS, log });
  const relay = createRelay({ port: 0, host: '127.0.0.1', log, bus, ...opts });
  t.after(() => relay.close());
  await relay.ready;
  await bus.ready;
  const url = `ws://127.0.0.1:${relay.address().port}${RELAY_PATH}`;
  const connect = async () => {
    const c = await openClient(t, url);
    c.identity = nodeTestIdentity(); // fast signing: some tests fill big rooms
    return c;
  };
  return { relay, bus, broker, events, connect };
}

async function pair(t: TestContext, opts: RelayOptions = {}) {
  const hub = memoryHub();
  const one = await startInstance(t, hub, opts);
  const two = await startInstance(t, hub, opts);
  await until(() => one.bus.instances().length === 1 && two.bus.instances().length === 1, 'the instances to hear each other');
  return { hub, one, two };
}

describe('relay cluster: rooms across instances', () => {
  test('members on two instances meet, signal with a stamped from, and see each other leave', { timeout: 10_000 }, async (t) => {
    const { one, two } = await pair(t);
    const [a, c] = [await one.connect(), await one.connect()];
    const b = await two.connect();

    assert.deepEqual((await a.join(T)).peers, []);
    await sleep(20); // the join crosses the bus
    assert.deepEqual((await b.join(T)).peers, [a.id]);
    assert.equal((await a.next('peer-joined')).peer, b.id);
    await c.join(U);

    a.send({ type: 'signal', topic: T, to: b.id, data: 'offer-1', from: c.id });
    assert.deepEqual(await b.next('signal'), { type: 'signal', topic: T, from: a.id, data: 'offer-1' });
    b.send({ type: 'signal', topic: T, to: a.id, data: 'answer-1' });
    assert.deepEqual(await a.next('signal'), { type: 'signal', topic: T, from: b.id, data: 'answer-1' });
    // Another room's member is out of reach from both instances.
    b.send({ type: 'signal', topic: T, to: c.id, data: 'nope' });
    await b.error('unknown-peer');

    // A repeated join lists members on both instances again, announcing nothing.
    assert.deepEqual((await b.join(T)).peers, [a.id]);
    b.send({ type: 'leave', topic: T });
    assert.deepEqual(await a.next('peer-left'), { type: 'peer-left', topic: T, peer: b.id });
    await b.join(T);
    assert.equal((await a.next('peer-joined')).peer, b.id);
    a.ws.close();
    assert.equal((await b.next('peer-left')).peer, a.id);
    await sleep(50);
    assert.deepEqual(c.inbox, [], 'a member of another room hears nothing');
    assert.deepEqual(b.inbox, []);

    const logged = JSON.stringify([...one.events, ...two.events]);
    assert.ok(!logged.includes(T) && !logged.includes(b.id) && !logged.includes('offer-1'), 'logs hold no topic, id or data');
  });

  test('an identity that reconnects to another instance replaces its stale socket there, without a peer-left', { timeout: 10_000 }, async (t) => {
    // A full room: the stale socket must not count against its own replacement.
    const { one, two } = await pair(t, { limits: { maxPeersPerRoom: 2 } });
    const [old, watcher] = [await one.connect(), await one.connect()];
    await old.join(T);
    await watcher.join(T);
    await old.next('peer-joined');

    const fresh = await two.connect();
    fresh.identity = old.identity;
    assert.deepEqual((await fresh.join(T)).peers.sort(), [old.id, watcher.id].filter((id) => id !== old.id).sort());
    await old.error('replaced');
    assert.equal((await old.waitClosed()).code, 4000);
    assert.equal((await watcher.next('peer-joined')).peer, old.id);
    // Signals to that id now reach the new socket, on the other instance.
    watcher.send({ type: 'signal', topic: T, to: old.id, data: 'hello-again' });
    assert.equal((await fresh.next('signal')).data, 'hello-again');
    await sleep(LIVENESS_MS);
    assert.ok(!watcher.inbox.some((m) => m.type === 'peer-left'), 'the room never saw it leave');
    assert.equal(one.relay.stats().connections, 1);
  });

  test('one identity joining one room on two instances at the same moment: exactly one socket stays', { timeout: 10_000 }, async (t) => {
    const { one, two } = await pair(t);
    const watcher = await one.connect();
    await watcher.join(T);
    const [x, y] = [await one.connect(), await two.connect()];
    y.identity = x.identity;
    await Promise.all([x.nonce, y.nonce]); // so that both joins go out together
    await Promise.all([x.sendJoin(T), y.sendJoin(T)]);
    await Promise.all([x.next('welcome'), y.next('welcome')]);
    await sleep(200);
    const replaced = [x, y].filter((c) => c.inbox.some((m) => m.type === 'error' && m.code === 'replaced'));
    assert.equal(replaced.length, 1, 'exactly one of the two is replaced');
    const survivor = replaced[0] === x ? y : x;
    watcher.send({ type: 'signal', topic: T, to: (await watcher.next('peer-joined')).peer, data: 'which-one' });
    assert.equal((await survivor.next('signal')).data, 'which-one');
    assert.ok(!watcher.inbox.some((m) => m.type === 'peer-left'), 'the room never saw it leave');
  });

  test('the room cap counts members on every instance', { timeout: 10_000 }, async (t) => {
    const { one, two } = await pair(t, { limits: { maxPeersPerRoom: 2 } });
    const a = await one.connect();
    const b = await two.connect();
    const c = await one.connect();
    await a.join(T);
    await sleep(20);
    await b.join(T);
    await sleep(20);
    await c.sendJoin(T);
    await c.error('room-full');
    assert.equal(one.relay.stats().refusedRoomFull, 1);
  });

  test('a large room\'s welcome samples members of both instances alike', { timeout: 30_000 }, async (t) => {
    const many = { maxConnectionsPerAddress: 50, maxIdentitiesPerAddress: 50, joinBurst: 20 };
    const { one, two } = await pair(t, { limits: many, random: mulberry32(11) });
    const held = { one: [] as string[], two: [] as string[] };
    for (let i = 0; i < 20; i++) {
      held.one.push((await (await one.connect()).join(T)).self);
      held.two.push((await (await two.connect()).join(T)).self);
    }
    await sleep(50); // the last joins cross the bus
    const x = await one.connect();
    const seen = new Set<string>();
    for (let n = 0; n < 10; n++) { // each repeated join draws again
      const w = await x.join(T);
      assert.equal(w.size, 41, 'the joiner counted once, however often it joins');
      assert.equal(w.peers.length, MAX_WELCOME_PEERS);
      assert.ok(w.peers.every((p) => held.one.includes(p) || held.two.includes(p)), 'members of the room, never x');
      for (const p of w.peers) seen.add(p);
    }
    assert.deepEqual([...seen].sort(), [...held.one, ...held.two].sort(), 'every member of either instance was drawn');
  });

  test('a room overrun across instances is cut to the cap in the welcome\'s size', { timeout: 10_000 }, async (t) => {
    const hub = memoryHub();
    const one = await startInstance(t, hub);
    // A fake instance holding the rest of the room; each batch also beats for it, so it stays alive.
    const ids = Array.from({ length: MAX_PEERS_PER_ROOM }, (_, i) => `q${String(i).padStart(15, '0')}`);
    const fakeHolds = (from: number, to: number) => one.broker.inject(JSON.stringify([{ t: 'hb', i: 'fakeinst' },
      ...ids.slice(from, to).map((id) => ({ t: 'join', i: 'fakeinst', topic: T, id, at: 1 }))]));
    fakeHolds(0, MAX_PEERS_PER_ROOM - 1);
    const a = await one.connect();
    const first = await a.join(T);
    assert.equal(first.size, MAX_PEERS_PER_ROOM, 'the last place');
    fakeHolds(MAX_PEERS_PER_ROOM - 1, MAX_PEERS_PER_ROOM); // a join on another instance at the same moment
    const again = await a.join(T);
    assert.equal(again.size, MAX_PEERS_PER_ROOM, `${MAX_PEERS_PER_ROOM + 1} members, told as the cap`);
    assert.equal(again.peers.length, MAX_WELCOME_PEERS);
    const b = await one.connect();
    await b.sendJoin(T);
    await b.error('room-full');
  });
});

describe('relay cluster: failures', () => {
  test('an instance that dies loses its own members only, after the liveness timeout', { timeout: 10_000 }, async (t) => {
    const hub = memoryHub();
    const one = await startInstance(t, hub);
    const two = await startInstance(t, hub);
    const three = await startInstance(t, hub);
    await until(() => three.bus.instances().length === 2, 'three instances to meet');
    const [a, b, c] = [await one.connect(), await two.connect(), await three.connect()];
    await a.join(T);
    await sleep(20);
    await b.join(T);
    await sleep(20);
    await c.join(T);
    await sleep(20);

    // Instance two stops talking at once (killed: no bye), its socket hangs.
    two.broker.cut();
    const left = await a.next('peer-left', LIVENESS_MS * 4);
    assert.equal(left.peer, b.id);
    assert.equal((await c.next('peer-left', LIVENESS_MS * 4)).peer, b.id);
    assert.ok(one.events.some((e) => e.event === 'instance-lost'));
    // The survivors keep each other.
    a.send({ type: 'signal', topic: T, to: c.id, data: 'still-here' });
    assert.equal((await c.next('signal')).from, a.id);
    const d = await one.connect();
    assert.deepEqual((await d.join(T)).peers.sort(), [a.id, c.id].sort());
  });

  test('a graceful shutdown drops its members at once', { timeout: 10_000 }, async (t) => {
    const { one, two } = await pair(t, {});
    const [a, b] = [await one.connect(), await two.connect()];
    await a.join(T);
    await sleep(20);
    await b.join(T);
    await a.next('peer-joined');
    await two.relay.close();
    assert.equal((await a.next('peer-left', LIVENESS_MS / 2)).peer, b.id);
    assert.deepEqual(one.bus.instances(), []);
  });

  test('a backlog on the data lane never makes a busy instance look dead: heartbeats have their own lane', { timeout: 10_000 }, async (t) => {
    const { one, two } = await pair(t);
    const [a, b] = [await one.connect(), await two.connect()];
    await a.join(T);
    await sleep(20);
    await b.join(T);
    await a.next('peer-joined');

    two.broker.hold('data'); // two's data connection falls behind: joins, signals, states wait
    for (let i = 0; i < 10; i++) a.send({ type: 'signal', topic: T, to: b.id, data: `offer-${i}` });
    await sleep(LIVENESS_MS * 3);
    assert.deepEqual(two.bus.instances(), [one.bus.instanceId], 'one is still alive to two');
    assert.ok(!two.events.some((e) => e.event === 'instance-lost'));
    assert.ok(!b.inbox.some((m) => m.type === 'peer-left'), 'b never saw a leaves');

    two.broker.release('data'); // the backlog clears: every signal arrives, in order
    const got = [];
    for (let i = 0; i < 10; i++) got.push((await b.next('signal')).data);
    assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `offer-${i}`));
  });

  test('after a broker outage both views are re-synchronised: what was missed is repaired', { timeout: 10_000 }, async (t) => {
    const { one, two } = await pair(t);
    const [a, gone] = [await one.connect(), await one.connect()];
    const b = await two.connect();
    await a.join(T);
    await gone.join(T);
    await sleep(20);
    await b.join(T);
    await a.next('peer-joined');

    two.broker.cut(); // two hears nothing and cannot publish
    gone.ws.close(); // lost for two
    const late = await one.connect();
    await late.join(T); // lost for two
    const b2 = await two.connect();
    await b2.join(T); // lost for one
    await sleep(LIVENESS_MS * 2); // long enough for each side to drop the other
    const gotLeft = b.inbox.filter((m) => m.type === 'peer-left').map((m) => (m as { peer: string }).peer);
    assert.deepEqual(gotLeft.sort(), [a.id, gone.id].sort(), 'two dropped every member of one');
    b.inbox.length = 0;
    a.inbox.length = 0;

    two.broker.restore(); // reconnect: hello from two, state from one
    const joined = [await b.next('peer-joined'), await b.next('peer-joined')].map((m) => m.peer).sort();
    assert.deepEqual(joined, [a.id, late.id].sort(), 'two learns who is in one now, not who left meanwhile');
    const back = [await a.next('peer-joined'), await a.next('peer-joined')].map((m) => m.peer).sort();
    assert.deepEqual(back, [b.id, b2.id].sort(), 'one learns who is in two, including who joined meanwhile');
    const fresh = await two.connect();
    assert.deepEqual((await fresh.join(T)).peers.sort(), [a.id, late.id, b.id, b2.id].sort());
  });

  test('bad data from the broker is counted and dropped; the relay carries on', { timeout: 10_000 }, async (t) => {
    const { one, two } = await pair(t);
    const badMessages = ['{"i":"x"}', '{"t":"join","i":"abcdefgh","topic":"zz","id":"q"}', '7', 'null',
      '{"t":"hello","i":"abcdefgh","rooms":{"x":[1]}}', '{"t":"signal","i":"abcdefgh"}', '{"t":"warp","i":"abcdefgh"}',
      `{"t":"hello","i":"abcdefgh","rooms":{"${T}":["${'x'.repeat(17)}"]}}`];
    const badBatches = ['', 'nope', '{"t":"hb","i":"abcdefgh"}', JSON.stringify(Array(1001).fill({ t: 'hb', i: 'abcdefgh' }))];
    for (const junk of [...badBatches, `[${badMessages.join(',')}]`]) two.broker.inject(junk);
    assert.equal(two.events.filter((e) => e.event === 'bus-bad-message').length, badBatches.length + badMessages.length);
    // One bad message does not spoil the good ones batched with it.
    two.broker.inject(`[null,{"t":"join","i":"abcdefgh","topic":"${T}","id":"${'q'.repeat(16)}","at":1}]`);
    const [a, b] = [await one.connect(), await two.connect()];
    await a.join(T);
    await sleep(20);
    assert.deepEqual((await b.join(T)).peers.sort(), [a.id, 'q'.repeat(16)].sort());
  });

  test('without a bus, a relay is alone: localBus forwards nothing', () => {
    const bus = localBus();
    assert.deepEqual([...bus.remoteMembers(T)], []);
    assert.equal(bus.signal(U, 'a'.repeat(16), 'b'.repeat(16), 'x'), false);
  });
});
