/**
 * The relay's welcome in rooms small and large: all the others while they fit in one,
 * a uniformly random sample of MAX_WELCOME_PEERS beyond that, always with the room's
 * size; and the room cap at MAX_PEERS_PER_ROOM. Samples spanning two relay instances
 * are in relay-cluster.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { MAX_PEERS_PER_ROOM, MAX_WELCOME_PEERS, RELAY_PATH } from '../../signaling/protocol.ts';
import { createRelay, type RelayOptions } from '../../signaling/relay.ts';
import { randomSample } from '../../signaling/rooms.ts';
import { mulberry32 } from './helpers/random.ts';
import { openClient, type Client, type Of } from './helpers/relay-client.ts';
import { nodeTestIdentity } from './helpers/signed-join.ts';

const T = 'a'.repeat(64);

async function startRelay(t: TestContext, opts: RelayOptions = {}) {
  const relay = createRelay({ port: 0, host: '127.0.0.1', log: () => undefined, ...opts });
  t.after(() => relay.close());
  await relay.ready;
  const url = `ws://127.0.0.1:${relay.address().port}${RELAY_PATH}`;
  /** A client with a fast (OpenSSL) identity: big rooms sign hundreds of joins. */
  const connect = async (): Promise<Client> => {
    const c = await openClient(t, url);
    c.identity = nodeTestIdentity();
    return c;
  };
  return { relay, connect };
}

/** The properties every welcome has: distinct peers, never the joiner, from the room, within both bounds. */
function checkWelcome(w: Of<'welcome'>, room: readonly string[]): void {
  const others = room.filter((id) => id !== w.self);
  assert.equal(w.size, others.length + 1, 'size counts everyone, the joiner included');
  assert.equal(w.peers.length, Math.min(others.length, MAX_WELCOME_PEERS));
  assert.equal(new Set(w.peers).size, w.peers.length, 'no one twice');
  assert.ok(!w.peers.includes(w.self), 'never the joiner itself');
  for (const p of w.peers) assert.ok(others.includes(p), `${p} is in the room`);
}

describe('randomSample', () => {
  test('all of a short list; k distinct items of a long one, each from it', () => {
    const random = mulberry32(1);
    const short = ['a', 'b', 'c'];
    assert.deepEqual(randomSample(short, 32, random).sort(), short);
    assert.deepEqual(randomSample([], 32, random), []);
    const long = Array.from({ length: 100 }, (_, i) => i);
    const drawn = randomSample(long, 32, random);
    assert.equal(drawn.length, 32);
    assert.equal(new Set(drawn).size, 32);
    assert.ok(drawn.every((x) => long.includes(x)));
    assert.deepEqual(long, Array.from({ length: 100 }, (_, i) => i), 'the input is left alone');
  });

  test('every item is equally likely to be drawn, and to come first', () => {
    const random = mulberry32(7);
    const items = Array.from({ length: 40 }, (_, i) => i);
    const DRAWS = 20_000;
    const drawn = new Array<number>(40).fill(0);
    const first = new Array<number>(40).fill(0);
    for (let n = 0; n < DRAWS; n++) {
      const sample = randomSample(items, 32, random);
      for (const x of sample) drawn[x]!++;
      first[sample[0]!]!++;
    }
    // Expected 16,000 (standard deviation 57) and 500 (22): a bias towards the head or tail shows far beyond.
    for (const [i, n] of drawn.entries()) assert.ok(Math.abs(n - DRAWS * 0.8) < 300, `item ${i} drawn ${n} times`);
    for (const [i, n] of first.entries()) assert.ok(Math.abs(n - DRAWS / 40) < 120, `item ${i} first ${n} times`);
  });

  test('the randomness is the one passed in', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    assert.deepEqual(randomSample(items, 32, mulberry32(3)), randomSample(items, 32, mulberry32(3)));
    assert.notDeepEqual(randomSample(items, 32, mulberry32(3)), randomSample(items, 32, mulberry32(4)));
  });
});

describe('relay welcome', () => {
  test('in a small room every welcome lists all the others, and a repeated join does again', { timeout: 10_000 }, async (t) => {
    const { connect } = await startRelay(t);
    const room: string[] = [];
    const clients: Client[] = [];
    for (let k = 0; k < 5; k++) {
      const c = await connect();
      const w = await c.join(T);
      checkWelcome(w, [...room, w.self]);
      assert.deepEqual([...w.peers].sort(), [...room].sort(), 'complete: peers.length === size - 1');
      room.push(w.self);
      clients.push(c);
    }
    const again = await clients[0]!.join(T);
    assert.deepEqual([...again.peers].sort(), room.slice(1).sort());
    assert.equal(again.size, 5);
  });

  test(`a room of ${MAX_PEERS_PER_ROOM}: all admitted, each welcome a random sample; one more is refused until someone leaves`, { timeout: 120_000 }, async (t) => {
    const { relay, connect } = await startRelay(t, {
      random: mulberry32(42),
      limits: { maxConnectionsPerAddress: MAX_PEERS_PER_ROOM + 10, maxIdentitiesPerAddress: MAX_PEERS_PER_ROOM + 10 },
    });
    const room: string[] = [];
    const clients: Client[] = [];
    let last: Of<'welcome'> | undefined;
    while (clients.length < MAX_PEERS_PER_ROOM) {
      const batch = await Promise.all(Array.from({ length: 16 }, connect));
      for (const c of batch) { // one at a time, so each welcome's room is known
        last = await c.join(T);
        room.push(last.self);
        checkWelcome(last, room);
        clients.push(c);
      }
    }
    assert.equal(last!.size, MAX_PEERS_PER_ROOM);
    // Drawn from the whole room, not the longest present nor the latest: both halves are in it.
    const half = new Set(room.slice(0, MAX_PEERS_PER_ROOM / 2));
    assert.ok(last!.peers.some((p) => half.has(p)) && last!.peers.some((p) => !half.has(p)), 'drawn from both halves');
    assert.notDeepEqual([...last!.peers].sort(), room.slice(0, MAX_WELCOME_PEERS).sort());

    const extra = await connect();
    await extra.sendJoin(T);
    await extra.error('room-full');
    assert.equal(relay.stats().refusedRoomFull, 1);
    clients[100]!.send({ type: 'leave', topic: T });
    assert.equal((await clients[0]!.next('peer-left')).peer, room[100]);
    // Every join is still announced to every member (see the fan-out note in rooms.ts); the leave came after them all.
    assert.equal(clients[0]!.inbox.filter((m) => m.type === 'peer-joined').length, MAX_PEERS_PER_ROOM - 1);
    const w = await extra.join(T);
    checkWelcome(w, [...room.filter((id) => id !== room[100]), w.self]);
    assert.equal(w.size, MAX_PEERS_PER_ROOM);
  });
});
