import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { WebSocket, type ClientOptions } from 'ws';
import { MAX_FRAME_BYTES, MAX_SIGNAL_DATA, RELAY_PATH, peerIdFromDigest } from '../../signaling/protocol.ts';
import { normalizeOrigin, parseAllowedOrigins } from '../../signaling/admission.ts';
import { MESSAGE_BURST, createRelay, type RelayOptions } from '../../signaling/relay.ts';
import { SECURITY_HEADERS, startServer } from '../../signaling/server.ts';
import { joinMessage, newTestIdentity } from './helpers/signed-join.ts';
import { toBase64Url } from '../../src/core/bytes.ts';
import { noop, openClient, sleep, until } from './helpers/relay-client.ts';

const T = 'a'.repeat(64);
const U = 'b'.repeat(64);
const topic = (n: number): string => n.toString(16).padStart(64, '0');

async function startRelay(t: TestContext, opts: RelayOptions = {}) {
  const events: Record<string, unknown>[] = [];
  const relay = createRelay({ port: 0, host: '127.0.0.1', log: (e) => events.push(e), ...opts });
  t.after(() => relay.close());
  await relay.ready;
  const url = `ws://127.0.0.1:${relay.address().port}${RELAY_PATH}`;
  return { relay, url, events, connect: (o?: ClientOptions) => openClient(t, url, o) };
}

// ---------------------------------------------------------------------------

describe('relay routing', () => {
  test('introduces peers per topic and forwards signals to one peer, stamped', { timeout: 10_000 }, async (t) => {
    const { relay, events, connect } = await startRelay(t);
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);

    assert.deepEqual((await a.join(T)).peers, []);
    assert.deepEqual((await b.join(T)).peers, [a.id]);
    assert.equal((await a.next('peer-joined')).peer, b.id);
    assert.deepEqual((await c.join(U)).peers, []);
    assert.match(a.id, /^[A-Za-z0-9_-]{16}$/);
    assert.equal(new Set([a.id, b.id, c.id]).size, 3);
    assert.equal(relay.stats().connections, 3);
    assert.equal(relay.stats().rooms, 2);

    // A forged "from" is ignored: the relay stamps the real sender.
    a.send({ type: 'signal', topic: T, to: b.id, data: 'offer-1', from: c.id });
    assert.deepEqual(await b.next('signal'), { type: 'signal', topic: T, from: a.id, data: 'offer-1' });
    b.send({ type: 'signal', topic: T, to: a.id, data: 'answer-1' });
    assert.equal((await a.next('signal')).from, b.id);

    // C is in another topic: A cannot reach it, through T or through U.
    a.send({ type: 'signal', topic: T, to: c.id, data: 'nope' });
    await a.error('unknown-peer');
    a.send({ type: 'signal', topic: U, to: c.id, data: 'nope' });
    await a.error('not-in-room');

    // Joining again answers again but announces nothing new.
    assert.deepEqual((await a.join(T)).peers, [b.id]);

    await sleep(100);
    assert.deepEqual(c.inbox, [], 'C must receive nothing');
    assert.deepEqual(b.inbox, [], 'no duplicate peer-joined');

    a.send({ type: 'leave', topic: T });
    assert.deepEqual(await b.next('peer-left'), { type: 'peer-left', topic: T, peer: a.id });
    a.send({ type: 'signal', topic: T, to: b.id, data: 'late' });
    await a.error('not-in-room');

    await a.join(T);
    assert.equal((await b.next('peer-joined')).peer, a.id);
    b.ws.close();
    assert.equal((await a.next('peer-left')).peer, b.id);
    c.ws.close();
    await until(() => relay.stats().rooms === 1 && relay.stats().connections === 1, 'rooms to be cleaned up');

    // Logs carry no topic and no signal data in clear.
    const logged = JSON.stringify(events);
    assert.ok(!logged.includes(T) && !logged.includes(U) && !logged.includes('offer-1'));
    assert.ok(events.some((e) => e.event === 'join' && typeof e.topic === 'string' && e.topic.length === 8));
  });
});

describe('relay bad input', () => {
  test('rejects garbage without falling over', { timeout: 10_000 }, async (t) => {
    const { relay, connect } = await startRelay(t);

    const x = await connect();
    x.send('not json');
    await x.error('bad-json');
    x.send({ type: 'teleport', topic: T });
    await x.error('bad-message');
    x.send(['join', T]);
    await x.error('bad-message');
    await x.sendJoin('my-secret-room');
    await x.error('bad-message');
    x.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await x.error('bad-message');
    assert.equal(x.ws.readyState, WebSocket.OPEN);

    const big = await connect();
    big.send('x'.repeat(MAX_FRAME_BYTES + 1));
    assert.equal((await big.waitClosed()).code, 1009);

    const spammer = await connect();
    for (let i = 0; i < 25; i++) spammer.send('{');
    assert.equal((await spammer.waitClosed()).code, 1008);
    assert.ok(spammer.inbox.length <= 20, `got ${spammer.inbox.length} errors`);

    // A signal too big for the protocol, but within the frame limit.
    await x.join(T);
    x.send({ type: 'signal', topic: T, to: x.id, data: 'd'.repeat(MAX_SIGNAL_DATA + 1) });
    await x.error('bad-message');

    // The relay is alive and two fresh clients can still meet.
    const [p, q] = await Promise.all([connect(), connect()]);
    await p.join(U);
    assert.deepEqual((await q.join(U)).peers, [p.id]);
    q.send({ type: 'signal', topic: U, to: p.id, data: 'hello' });
    assert.deepEqual(await p.next('signal'), { type: 'signal', topic: U, from: q.id, data: 'hello' });
    await until(() => relay.stats().connections === 3, 'closed sockets to be dropped');
  });

  test('refuses upgrades on other paths and plain HTTP', { timeout: 10_000 }, async (t) => {
    const { relay, connect } = await startRelay(t);
    const other = `ws://127.0.0.1:${relay.address().port}/other`;
    await assert.rejects(openClient(t, other));
    const res = await fetch(`http://127.0.0.1:${relay.address().port}/`);
    assert.equal(res.status, 426);
    await res.arrayBuffer();
    await (await connect()).join(T);
  });
});

describe('relay peer identity', () => {
  test('the id is the hash of the public key; an unsigned join is refused', { timeout: 10_000 }, async (t) => {
    const { connect } = await startRelay(t);
    const a = await connect();
    a.send({ type: 'join', topic: T });
    await a.error('bad-message');
    a.send({ type: 'join', topic: T, key: toBase64Url(a.identity.publicKey) });
    await a.error('bad-message');
    const welcome = await a.join(T);
    const digest = createHash('sha256').update(a.identity.publicKey).digest();
    assert.equal(welcome.self, peerIdFromDigest(digest));
    assert.equal(welcome.self, a.identity.id, 'the relay and the browser derive the same id');
    await a.sendJoin(topic(1), newTestIdentity());
    await a.error('bad-message'); // one socket, one identity
  });

  test('a forged or wrong signature is refused and counted as a bad message', { timeout: 10_000 }, async (t) => {
    const { relay, connect } = await startRelay(t);
    const [a, victim] = await Promise.all([connect(), connect()]);
    await victim.join(T);
    const nonce = await a.nonce;
    // Claiming the victim's key with a signature by another key.
    const forged = await joinMessage(a.identity, nonce, T);
    a.send({ ...forged, key: toBase64Url(victim.identity.publicKey) });
    await a.error('bad-signature');
    // A real signature, but of another topic than the one joined.
    a.send({ ...(await joinMessage(a.identity, nonce, U)), topic: T });
    await a.error('bad-signature');
    // Garbage of the right length, and a key that is not a curve point.
    a.send({ ...forged, sig: 'A'.repeat(86) });
    await a.error('bad-signature');
    a.send({ ...forged, key: '_'.repeat(43) });
    await a.error('bad-signature');
    assert.equal(relay.stats().badSignatures, 4);
    assert.equal(relay.stats().badMessages, 4);
    await sleep(50);
    assert.deepEqual(victim.inbox, [], 'the room saw no one join');
    await a.join(T); // its own signature still works
  });

  test('a join signature replayed on another socket fails: each socket has its own nonce', { timeout: 10_000 }, async (t) => {
    const { connect } = await startRelay(t);
    const [a, eve] = await Promise.all([connect(), connect()]);
    assert.notEqual(await a.nonce, await eve.nonce);
    const signed = await joinMessage(a.identity, await a.nonce, T);
    eve.send(signed); // recorded off a's socket
    await eve.error('bad-signature');
    a.send(signed);
    assert.equal((await a.next('welcome')).self, a.identity.id);
  });

  test('the same identity on a new socket in the same room replaces the stale one without a peer-left', { timeout: 10_000 }, async (t) => {
    const { relay, connect } = await startRelay(t);
    const a = await connect();
    const b = await connect();
    await a.join(T);
    await b.join(T);
    await a.next('peer-joined');
    const b2 = await connect();
    b2.identity = b.identity; // the same browser, reconnecting before its old socket is noticed dead
    assert.deepEqual((await b2.join(T)).peers, [a.id]);
    assert.equal(b2.id, b.id);
    await b.error('replaced'); // if the old socket is alive after all (another tab), it learns why
    await b.waitClosed();
    await sleep(50);
    assert.ok(!a.inbox.some((m) => m.type === 'peer-left'), 'the room must not see the reconnecting peer leave');
    a.send({ type: 'signal', topic: T, to: b.id, data: 'offer' });
    assert.equal((await b2.next('signal')).from, a.id);
    assert.equal(relay.stats().connections, 2);
  });

  test('one identity in two rooms from two sockets (two tabs): neither replaces the other', { timeout: 10_000 }, async (t) => {
    const { relay, connect } = await startRelay(t);
    const [tab1, tab2, other] = await Promise.all([connect(), connect(), connect()]);
    tab2.identity = tab1.identity;
    await tab1.join(T);
    await tab2.join(U);
    await other.join(U);
    await tab2.next('peer-joined');
    other.send({ type: 'signal', topic: U, to: tab2.id, data: 'to tab 2' });
    assert.equal((await tab2.next('signal')).data, 'to tab 2');
    await sleep(50);
    assert.equal(tab1.ws.readyState, WebSocket.OPEN);
    assert.deepEqual(tab1.inbox, []);
    assert.equal(relay.stats().connections, 3);
    assert.equal(relay.stats().rooms, 2);
    tab1.ws.close(); // tab 1 closing does not take tab 2 out of U
    await until(() => relay.stats().rooms === 1, 'T to close');
    await sleep(50);
    assert.ok(!other.inbox.some((m) => m.type === 'peer-left'));
  });
});

describe('relay admission limits', () => {
  test('too many sockets from one address are refused', { timeout: 10_000 }, async (t) => {
    const { relay, connect } = await startRelay(t, { limits: { maxConnectionsPerAddress: 2 } });
    const [a] = await Promise.all([connect(), connect()]);
    const third = await connect();
    await third.error('too-many-connections');
    assert.equal((await third.waitClosed()).code, 1013);
    assert.equal(relay.stats().refusedAddress, 1);
    a.ws.close();
    await until(() => relay.stats().connections === 1, 'a to go');
    await (await connect()).join(T); // a slot came free
  });

  test('a socket that does not join in time is closed; one that joined is not', { timeout: 10_000 }, async (t) => {
    const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
    const setTimer = (fn: () => void, ms: number) => {
      const timer = { fn, ms, cancelled: false };
      timers.push(timer);
      return () => { timer.cancelled = true; };
    };
    const { relay, connect } = await startRelay(t, { setTimer, limits: { joinTimeoutMs: 1234 } });
    const [idle, joined] = await Promise.all([connect(), connect()]);
    await joined.join(T);
    assert.equal(timers.length, 2);
    assert.ok(timers.every((x) => x.ms === 1234));
    for (const timer of timers) if (!timer.cancelled) timer.fn();
    await idle.error('join-timeout');
    assert.equal((await idle.waitClosed()).code, 1008);
    assert.equal(relay.stats().joinTimeouts, 1);
    assert.equal(joined.ws.readyState, WebSocket.OPEN);
    assert.equal(timers.filter((x) => x.cancelled).length, 1, 'a join cancels its timer');
  });

  test('new identities per address are capped per window; known ones stay free', { timeout: 10_000 }, async (t) => {
    let clock = 5_000_000;
    const { relay, connect } = await startRelay(t, {
      now: () => clock, limits: { maxIdentitiesPerAddress: 2, identityWindowMs: 60_000 },
    });
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
    await a.join(T);
    await b.join(T);
    await c.sendJoin(T);
    await c.error('too-many-identities');
    assert.equal(relay.stats().refusedIdentities, 1);
    // a, reconnecting on a new socket, is an identity already seen: free.
    const a2 = await connect();
    a2.identity = a.identity;
    await a2.join(U);
    // After the window, old identities no longer count.
    clock += 60_000;
    await c.join(T);
  });

  test('a slow receiver is not disconnected: what it cannot take is dropped and counted', { timeout: 15_000 }, async (t) => {
    const { relay, events, connect } = await startRelay(t, {
      limits: { maxBufferedBytes: 64 * 1024, messageBurst: 100_000, pairSignalBurst: 100_000 },
    });
    const [a, b] = await Promise.all([connect(), connect()]);
    await a.join(T);
    await b.join(T);
    await a.next('peer-joined');
    (b.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const data = 'z'.repeat(MAX_SIGNAL_DATA);
    for (let sent = 0; sent < 4000 && relay.stats().droppedSlow === 0; sent += 20) {
      for (let i = 0; i < 20; i++) a.send({ type: 'signal', topic: T, to: b.id, data });
      await sleep(5);
    }
    assert.ok(relay.stats().droppedSlow > 0, 'the backlog limit was reached');
    await sleep(100);
    assert.ok(!a.inbox.some((m) => m.type === 'peer-left' || m.type === 'error'), 'the sender is not punished either');
    assert.ok(!events.some((e) => e.event === 'slow-consumer'));
    (b.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    // Its backlog drains on the relay's side in its own time: keep knocking until one gets through.
    const caughtUp = () => b.inbox.some((m) => m.type === 'signal' && m.data === 'after the backlog');
    for (let i = 0; i < 100 && !caughtUp(); i++) {
      a.send({ type: 'signal', topic: T, to: b.id, data: 'after the backlog' });
      await sleep(30);
    }
    await until(caughtUp, 'b to catch up');
    assert.equal(b.ws.readyState, WebSocket.OPEN);
    assert.equal(relay.stats().connections, 2);
  });

  test('signals from one peer to one peer are rate-limited per pair', { timeout: 10_000 }, async (t) => {
    let clock = 1_000_000;
    const { relay, connect } = await startRelay(t, { now: () => clock, limits: { pairSignalBurst: 3, pairSignalsPerSecond: 1 } });
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
    await a.join(T);
    await b.join(T);
    await c.join(T);
    for (let i = 0; i < 4; i++) a.send({ type: 'signal', topic: T, to: b.id, data: `ab${i}` });
    await a.error('rate-limited');
    a.send({ type: 'signal', topic: T, to: c.id, data: 'ac' }); // another pair has its own budget
    assert.equal((await c.next('signal')).data, 'ac');
    b.send({ type: 'signal', topic: T, to: a.id, data: 'ba' }); // and so does the other direction
    assert.equal((await a.next('signal')).data, 'ba');
    await sleep(50);
    assert.deepEqual(b.inbox.filter((m) => m.type === 'signal').map((m) => m.type === 'signal' && m.data), ['ab0', 'ab1', 'ab2']);
    clock += 1000;
    a.send({ type: 'signal', topic: T, to: b.id, data: 'ab-later' });
    assert.equal((await b.next('signal')).data, 'ab0');
    assert.equal(relay.stats().rateLimited, 1);
    assert.equal(a.ws.readyState, WebSocket.OPEN);
  });
});

describe('relay limits', () => {
  test('message and join rate limits follow the injected clock', { timeout: 10_000 }, async (t) => {
    let clock = 1_000_000;
    const { connect } = await startRelay(t, { now: () => clock });
    const c = await connect();

    for (let i = 0; i < MESSAGE_BURST; i++) c.send({ type: 'leave', topic: T }); // silent, but each costs a token
    await c.sendJoin(T);
    await c.error('rate-limited');
    await sleep(50);
    assert.ok(!c.inbox.some((m) => m.type === 'welcome'), 'a rate-limited message is dropped');

    clock += 1000; // MESSAGES_PER_SECOND tokens back
    for (let i = 0; i < 8; i++) await c.join(T); // the join burst
    await c.sendJoin(T);
    await c.error('rate-limited');
    clock += 2000; // one join token back
    await c.join(T);
  });

  test('room-full and too-many-rooms', { timeout: 10_000 }, async (t) => {
    const { connect } = await startRelay(t, { limits: { maxPeersPerRoom: 2 } });
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
    await a.join(T);
    await b.join(T);
    await c.sendJoin(T);
    await c.error('room-full');
    b.send({ type: 'leave', topic: T });
    await a.next('peer-left');
    assert.deepEqual((await c.join(T)).peers, [a.id]);

    for (let i = 1; i <= 3; i++) await c.join(topic(i)); // T plus three more
    await c.sendJoin(topic(4));
    await c.error('too-many-rooms');
  });

  test('server-full beyond maxConnections', { timeout: 10_000 }, async (t) => {
    const { relay, connect } = await startRelay(t, { limits: { maxConnections: 1 } });
    const first = await connect();
    const second = await connect();
    await second.error('server-full');
    assert.equal((await second.waitClosed()).code, 1013);
    first.ws.close();
    await until(() => relay.stats().connections === 0, 'the first client to go');
    await (await connect()).join(T);
  });

  test('server-full beyond maxRooms: a join may enter a room, not open one', { timeout: 10_000 }, async (t) => {
    const { relay, connect } = await startRelay(t, { limits: { maxRooms: 2 } });
    const [a, b] = await Promise.all([connect(), connect()]);
    await a.join(topic(1));
    await a.join(topic(2));
    await b.sendJoin(topic(3));
    await b.error('server-full');
    assert.deepEqual((await b.join(topic(1))).peers, [a.id]); // an existing room is fine
    a.send({ type: 'leave', topic: topic(2) });
    await until(() => relay.stats().rooms === 1, 'the empty room to go');
    await b.join(topic(3));
    assert.equal(relay.stats().refusedRooms, 1);
  });

  test('a signal that would not fit in a frame once stamped is refused, not forwarded', { timeout: 10_000 }, async (t) => {
    const { connect } = await startRelay(t);
    const [a, b] = await Promise.all([connect(), connect()]);
    await a.join(T);
    await b.join(T);
    // Fill the incoming frame exactly; "from" is two characters longer than "to".
    const room = MAX_FRAME_BYTES - JSON.stringify({ type: 'signal', topic: T, to: b.id, data: '' }).length;
    const quotes = room - MAX_SIGNAL_DATA + 8; // each escaped quote takes two characters
    const data = '"'.repeat(quotes) + 'x'.repeat(room - 2 * quotes);
    const frame = JSON.stringify({ type: 'signal', topic: T, to: b.id, data });
    assert.equal(frame.length, MAX_FRAME_BYTES);
    assert.ok(data.length <= MAX_SIGNAL_DATA);
    a.send(frame);
    await a.error('too-large');
    a.send({ type: 'signal', topic: T, to: b.id, data: 'small' });
    assert.equal((await b.next('signal')).data, 'small');
    assert.deepEqual(b.inbox.filter((m) => m.type === 'signal'), []);
  });

  test('heartbeat terminates a client that does not answer pings', { timeout: 10_000 }, async (t) => {
    // Beats of 500 ms, not 50: relay and clients share this process, and on a busy machine a pause of 100 ms
    // (two beats) in its event loop cut off even a client that answers.
    const beat = 500;
    const { relay, events, connect } = await startRelay(t, { heartbeatMs: beat });
    const lazy = await connect();
    const alive = await connect();
    await lazy.join(T);
    await alive.join(T);
    // Only now does it stop answering, as a phone falling asleep (ws answers pings through pong()).
    lazy.ws.pong = noop;
    assert.equal((await lazy.waitClosed()).code, 1006);
    assert.equal((await alive.next('peer-left')).peer, lazy.id);
    await sleep(3 * beat); // several more heartbeats
    assert.equal(alive.ws.readyState, WebSocket.OPEN);
    assert.equal(relay.stats().connections, 1);
    assert.ok(events.some((e) => e.event === 'heartbeat-timeout'));
  });

  test('handlers never throw out: a relay bug costs one connection, not the process', { timeout: 10_000 }, async (t) => {
    let explode = false;
    const { relay, events, connect } = await startRelay(t, {
      now: () => {
        if (explode) throw new Error('boom');
        return Date.now();
      },
    });
    const victim = await connect();
    explode = true;
    await victim.sendJoin(T);
    assert.equal((await victim.waitClosed()).code, 1011);
    explode = false;
    assert.ok(events.some((e) => e.event === 'handler-error' && e.error === 'boom'));
    await until(() => relay.stats().connections === 0, 'the victim to be dropped');
    await (await connect()).join(T);
  });
});

describe('relay origin allow-list', () => {
  const GOOD = 'https://drop.example.org';

  test('refuses pages from other origins with 403 before the upgrade', { timeout: 10_000 }, async (t) => {
    const { relay, events, url, connect } = await startRelay(t, { allowedOrigins: [GOOD, 'http://LOCALHOST:8080/'] });
    await (await connect({ origin: GOOD })).join(T);
    await (await connect({ origin: 'http://localhost:8080' })).join(U);
    await assert.rejects(openClient(t, url, { origin: 'https://evil.example' }), /Unexpected server response: 403/);
    await assert.rejects(openClient(t, url, { origin: 'null' }), /403/); // sandboxed iframes, file://
    await assert.rejects(openClient(t, url), /403/); // no Origin: not a browser page
    const stats = relay.stats();
    assert.equal(stats.refusedOrigin, 3);
    assert.equal(stats.connections, 2);
    assert.equal(stats.accepted, 2);
    assert.equal(events.filter((e) => e.event === 'origin-refused').length, 3);
    assert.ok(!JSON.stringify(events).includes('evil'), 'the refused Origin is not logged');
  });

  test('without a list every origin may connect', { timeout: 10_000 }, async (t) => {
    const { connect } = await startRelay(t);
    await (await connect({ origin: 'https://anywhere.example' })).join(T);
    await (await connect()).join(T);
  });

  test('ALLOWED_ORIGINS parsing normalises like a browser and refuses non-origins', () => {
    assert.equal(parseAllowedOrigins(undefined), undefined);
    assert.equal(parseAllowedOrigins(' , '), undefined);
    assert.deepEqual(
      parseAllowedOrigins(' https://Drop.Example.org:443/ ,http://localhost:8080,https://drop.example.org'),
      ['https://drop.example.org', 'http://localhost:8080'],
    );
    assert.equal(normalizeOrigin('http://[::1]:80'), 'http://[::1]');
    for (const bad of ['drop.example.org', 'ftp://x.example', 'https://x.example/app', 'https://u:p@x.example', 'null']) {
      assert.throws(() => parseAllowedOrigins(bad), /origin/, bad);
    }
  });
});

describe('relay stats and logs', () => {
  test('counters cover traffic and refusals; a periodic line logs them; logs hold nothing private', { timeout: 10_000 }, async (t) => {
    const { relay, events, connect } = await startRelay(t, {
      statsLogMs: 20, limits: { messageBurst: 4, messagesPerSecond: 0.001, maxConnections: 3 },
    });
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
    const d = await connect();
    await d.error('server-full');
    await d.waitClosed();
    await a.join(T);
    await b.join(T);
    a.send({ type: 'signal', topic: T, to: b.id, data: 'secret-sdp' });
    await b.next('signal');
    a.send('nope');
    await a.error('bad-json');
    a.ws.send(Buffer.from([0]), { binary: true });
    await a.error('bad-message');
    a.send({ type: 'leave', topic: U }); // a's fifth message: over the burst of 4
    await a.error('rate-limited');
    c.send('x'.repeat(MAX_FRAME_BYTES + 1)); // refused by ws itself, before any handler
    assert.equal((await c.waitClosed()).code, 1009);
    await until(() => relay.stats().connections === 2, 'the oversized sender to be dropped');
    assert.deepEqual(relay.stats(), {
      connections: 2, rooms: 1, accepted: 3, messages: 6, badMessages: 3, rateLimited: 1,
      refusedOrigin: 0, refusedConnections: 1, refusedRooms: 0, refusedRoomFull: 0,
      refusedAddress: 0, refusedIdentities: 0, badSignatures: 0, joinTimeouts: 0, droppedSlow: 0,
    });

    await until(() => events.some((e) => e.event === 'stats' && e.badMessages === 3), 'a stats line with the counts');
    const logged = JSON.stringify(events);
    const keys = [a, b].map((c) => toBase64Url(c.identity.publicKey));
    for (const secret of [T, U, ...keys, a.id, b.id, 'secret-sdp', '127.0.0.1']) {
      assert.ok(!logged.includes(secret), `logs must not contain ${secret}`);
    }
    await relay.close();
    const lines = events.filter((e) => e.event === 'stats').length;
    await sleep(60);
    assert.equal(events.filter((e) => e.event === 'stats').length, lines, 'close stops the stats timer');
  });
});

// ---------------------------------------------------------------------------

describe('startServer', () => {
  function distDir(t: TestContext): string {
    const dir = mkdtempSync(join(tmpdir(), 'meshdrop-dist-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>meshdrop-test</title>');
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'assets', 'app-1a2b3c.js'), 'console.log(1)');
    return dir;
  }

  test('serves the app with security headers and the relay on /ws', { timeout: 10_000 }, async (t) => {
    const server = await startServer({ port: 0, host: '127.0.0.1', distDir: distDir(t), relay: { log: noop } });
    t.after(() => server.close());
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(server.urls, [server.url]);

    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /meshdrop-test/);
    assert.equal(res.headers.get('content-security-policy'), SECURITY_HEADERS['Content-Security-Policy']);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /connect-src 'self' ws: wss:.*frame-ancestors 'none'/);
    // Our own frames: the service worker's one-time zip URL ('self') and a PDF's object URL (blob:); players read blob: fallbacks.
    assert.match(csp, /frame-src 'self' blob:;/);
    assert.match(csp, /media-src 'self' blob:;/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const etag = res.headers.get('etag');
    assert.ok(etag);
    const again = await fetch(`${server.url}/`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);

    const asset = await fetch(`${server.url}/assets/app-1a2b3c.js`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    await asset.arrayBuffer();

    const missing = await fetch(`${server.url}/nope.js`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-content-type-options'), 'nosniff');
    await missing.arrayBuffer();
    const post = await fetch(`${server.url}/`, { method: 'POST' });
    assert.equal(post.status, 405);
    await post.arrayBuffer();

    const wsBase = server.url.replace(/^http/, 'ws');
    const [a, b] = await Promise.all([openClient(t, `${wsBase}${RELAY_PATH}`), openClient(t, `${wsBase}${RELAY_PATH}`)]);
    await a.join(T);
    await b.join(T);
    b.send({ type: 'signal', topic: T, to: a.id, data: 'via server' });
    assert.equal((await a.next('signal')).from, b.id);
    await assert.rejects(openClient(t, `${wsBase}/other`));
    assert.equal(server.relay.stats().connections, 2);
  });

  test('passes an origin allow-list through to the relay', { timeout: 10_000 }, async (t) => {
    const allowedOrigins = ['https://drop.example.org'];
    const server = await startServer({ port: 0, host: '127.0.0.1', distDir: distDir(t), relay: { log: noop, allowedOrigins } });
    t.after(() => server.close());
    const ws = `${server.url.replace(/^http/, 'ws')}${RELAY_PATH}`;
    await (await openClient(t, ws, { origin: 'https://drop.example.org' })).join(T);
    await assert.rejects(openClient(t, ws, { origin: server.url }), /403/); // unlisted, even its own
    assert.equal(server.relay.stats().refusedOrigin, 1);
    const page = await fetch(`${server.url}/`, { headers: { Origin: 'https://elsewhere.example' } });
    assert.equal(page.status, 200); // the list guards the relay, not the static files
    await page.arrayBuffer();
  });

  test('lists localhost and LAN URLs on a wildcard host', { timeout: 10_000 }, async (t) => {
    const server = await startServer({ port: 0, host: '0.0.0.0', distDir: distDir(t), relay: { log: noop } });
    t.after(() => server.close());
    const port = new URL(server.url).port;
    assert.equal(server.url, `http://localhost:${port}`);
    for (const url of server.urls) assert.match(url, new RegExp(`^http://[^/]+:${port}$`));
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });

  test('a missing build gives a clear error', async () => {
    const dir = join(tmpdir(), 'meshdrop-no-such-dist');
    await assert.rejects(startServer({ port: 0, host: '127.0.0.1', distDir: dir }), /no built app at .*index\.html.*npm run build/);
  });
});
