import assert from 'node:assert/strict';
import { test } from 'node:test';
import { joinChallengeText, parseClientMessage } from '../../signaling/protocol.ts';
import { fromBase64Url, toBase64Url, utf8 } from '../../src/core/bytes.ts';
import { identityFromSeed, verifySignatureSync } from '../../src/core/crypto/identity.ts';
import { createSignalClient, type SignalErrorCode } from '../../src/net/signal-client.ts';

/** The client over a fake WebSocket: answers each socket's challenge, steps aside when replaced. */
class FakeSocket {
  static readonly OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = FakeSocket.OPEN;
  sent: string[] = [];
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) { FakeSocket.all.push(this); }
  send(text: string) { this.sent.push(text); }
  close() { this.readyState = 3; this.onclose?.(); }
  receive(m: object) { this.onmessage?.({ data: JSON.stringify(m) }); }
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(cond(), 'timed out');
};

test('signs each socket\'s challenge; a "replaced" error stops reconnecting', async () => {
  FakeSocket.all = [];
  const identity = identityFromSeed(new Uint8Array(32).fill(5));
  const topic = 'c'.repeat(64);
  const errors: SignalErrorCode[] = [];
  const statuses: string[] = [];
  const timers: (() => void)[] = [];
  createSignalClient({
    url: 'ws://relay/ws', topic, identity, self: identity.id,
    WebSocket: FakeSocket as unknown as typeof WebSocket, random: () => 0.5,
    setTimeout: (fn) => timers.push(fn), clearTimeout: () => undefined,
  }, {
    onWelcome: () => undefined, onPeerJoined: () => undefined, onPeerLeft: () => undefined, onSignal: () => undefined,
    onStatus: (s) => statuses.push(s), onError: (code) => errors.push(code),
  });
  const first = FakeSocket.all[0]!;
  assert.deepEqual(first.sent, [], 'nothing before the challenge');
  const nonce = 'N'.repeat(43);
  first.receive({ type: 'challenge', nonce });
  await until(() => first.sent.length === 1);
  const join = parseClientMessage(first.sent[0]!);
  assert.ok(join.ok && join.value.type === 'join');
  assert.equal(join.value.key, toBase64Url(identity.publicKey));
  assert.ok(verifySignatureSync(identity.publicKey, utf8(joinChallengeText(nonce, topic)), fromBase64Url(join.value.sig)!));

  first.close(); // relay gone: reconnect with a new socket and a new challenge
  assert.equal(timers.length, 1);
  timers.shift()!();
  const second = FakeSocket.all[1]!;
  second.receive({ type: 'challenge', nonce: 'M'.repeat(43) });
  await until(() => second.sent.length === 1);
  assert.notEqual(second.sent[0], first.sent[0]);

  second.receive({ type: 'error', code: 'replaced', message: 'another connection of this identity joined this room' });
  assert.deepEqual(errors, ['replaced']);
  assert.equal(second.readyState, 3);
  assert.equal(timers.length, 0, 'no reconnect: the other tab holds the room');
  assert.equal(statuses.at(-1), 'offline');
});

test('reconnect() after a network change: a new socket at once, and the old one\'s late close or messages change nothing', async () => {
  FakeSocket.all = [];
  const identity = identityFromSeed(new Uint8Array(32).fill(6));
  const topic = 'd'.repeat(64);
  const statuses: string[] = [];
  const welcomes: [string[], number][] = [];
  const timers: (() => void)[] = [];
  const client = createSignalClient({
    url: 'ws://relay/ws', topic, identity, self: identity.id,
    WebSocket: FakeSocket as unknown as typeof WebSocket, random: () => 0.5,
    setTimeout: (fn) => timers.push(fn), clearTimeout: () => undefined,
  }, {
    onWelcome: (peers, size) => welcomes.push([peers, size]), onPeerJoined: () => undefined, onPeerLeft: () => undefined, onSignal: () => undefined,
    onStatus: (s) => statuses.push(s), onError: (code) => assert.fail(`unexpected error ${code}`),
  });
  const [stale, fresh] = [7, 8].map((n) => identityFromSeed(new Uint8Array(32).fill(n)).id);
  const first = FakeSocket.all[0]!;
  // A socket that looks open but is dead (the phone left Wi-Fi): no close event arrives.
  client.reconnect();
  assert.equal(FakeSocket.all.length, 2, 'a new socket at once, without waiting for a backoff timer');
  assert.equal(timers.length, 0);
  assert.equal(first.readyState, 3, 'the old socket is closed by us');
  const second = FakeSocket.all[1]!;
  first.receive({ type: 'welcome', topic, self: identity.id, peers: [stale], size: 2 });
  assert.deepEqual(welcomes, [], 'the old socket is no longer heard');
  second.receive({ type: 'challenge', nonce: 'K'.repeat(43) });
  await until(() => second.sent.length === 1);
  second.receive({ type: 'welcome', topic, self: identity.id, peers: [fresh], size: 2 });
  assert.deepEqual(welcomes, [[[fresh], 2]]);
  assert.equal(statuses.at(-1), 'online');

  client.reconnect(); // two network changes in a row
  client.reconnect();
  assert.equal(FakeSocket.all.length, 4);
  assert.equal(FakeSocket.all.filter((s) => s.readyState === FakeSocket.OPEN).length, 1, 'only the newest socket stays open');
  client.close();
  client.reconnect(); // closed for good: stays closed
  assert.equal(FakeSocket.all.length, 4);
});

test('a welcome passes on the room\'s size; one whose size cannot be is refused', async () => {
  FakeSocket.all = [];
  const identity = identityFromSeed(new Uint8Array(32).fill(10));
  const topic = 'e'.repeat(64);
  const welcomes: [string[], number][] = [];
  const errors: SignalErrorCode[] = [];
  const statuses: string[] = [];
  createSignalClient({
    url: 'ws://relay/ws', topic, identity, self: identity.id,
    WebSocket: FakeSocket as unknown as typeof WebSocket, random: () => 0.5,
    setTimeout: () => undefined, clearTimeout: () => undefined,
  }, {
    onWelcome: (peers, size) => welcomes.push([peers, size]), onPeerJoined: () => undefined, onPeerLeft: () => undefined,
    onSignal: () => undefined, onStatus: (s) => statuses.push(s), onError: (code) => errors.push(code),
  });
  const socket = FakeSocket.all[0]!;
  const [p, q] = [11, 12].map((n) => identityFromSeed(new Uint8Array(32).fill(n)).id);
  socket.receive({ type: 'welcome', topic, self: identity.id, peers: [p, q], size: 2 }); // two others cannot make two
  assert.deepEqual([welcomes, errors, statuses], [[], ['bad-relay-message'], ['connecting']]);
  socket.receive({ type: 'welcome', topic, self: identity.id, peers: [p, q], size: 200 }); // a sample of a large room
  socket.receive({ type: 'welcome', topic, self: identity.id, peers: [p, q], size: 3 }); // all of a small one
  assert.deepEqual(welcomes, [[[p, q], 200], [[p, q], 3]]);
  assert.equal(statuses.at(-1), 'online');
});
