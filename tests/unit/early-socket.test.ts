import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientMessage } from '../../signaling/protocol.ts';
import { identityFromSeed } from '../../src/core/crypto/identity.ts';
import { openEarlySocket, withEarlySocket } from '../../src/net/early-socket.ts';
import { createSignalClient } from '../../src/net/signal-client.ts';

/** A WebSocket as browsers dispatch its events: listeners and the on-handler alike. */
class EventSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static all: EventSocket[] = [];
  readyState = EventSocket.OPEN;
  sent: string[] = [];
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: Event) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  constructor(readonly url: string) {
    super();
    EventSocket.all.push(this);
  }
  send(text: string) {
    this.sent.push(text);
  }
  close() {
    this.readyState = EventSocket.CLOSED;
    const ev = new Event('close');
    this.dispatchEvent(ev);
    this.onclose?.(ev);
  }
  receive(m: object) {
    const ev = new MessageEvent('message', { data: JSON.stringify(m) });
    this.dispatchEvent(ev);
    this.onmessage?.(ev);
  }
}
const WS = EventSocket as unknown as typeof WebSocket;
const URL_ = 'ws://relay/ws';
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function client(WebSocket: typeof globalThis.WebSocket, welcomes: string[][]) {
  const identity = identityFromSeed(new Uint8Array(32).fill(9));
  return createSignalClient({
    url: URL_, topic: 'e'.repeat(64), identity, self: identity.id, WebSocket, random: () => 0.5,
    setTimeout: () => undefined, clearTimeout: () => undefined,
  }, {
    onWelcome: (peers) => void welcomes.push(peers), onPeerJoined: () => undefined, onPeerLeft: () => undefined, onSignal: () => undefined,
    onStatus: () => undefined, onError: (code, message) => assert.fail(`${code}: ${message}`),
  });
}

test('the relay\'s challenge, come before the client existed, is answered on the same socket', async () => {
  EventSocket.all = [];
  const early = openEarlySocket(WS, URL_);
  const socket = EventSocket.all[0]!;
  socket.receive({ type: 'challenge', nonce: 'N'.repeat(43) });
  const welcomes: string[][] = [];
  client(withEarlySocket(WS, early), welcomes);
  assert.equal(EventSocket.all.length, 1, 'no second socket');
  for (let i = 0; i < 50 && socket.sent.length === 0; i++) await tick();
  const join = parseClientMessage(socket.sent[0]!);
  assert.ok(join.ok && join.value.type === 'join', 'the held challenge was signed and answered');
  const self = identityFromSeed(new Uint8Array(32).fill(9)).id;
  socket.receive({ type: 'welcome', topic: 'e'.repeat(64), self, peers: [self, 'p'.repeat(16)], size: 3 });
  assert.deepEqual(welcomes, [['p'.repeat(16)]], 'later messages go straight to the client');
});

test('held messages reach the taker first and in order, then live ones', async () => {
  EventSocket.all = [];
  const early = openEarlySocket(WS, URL_);
  const socket = EventSocket.all[0]!;
  socket.receive({ n: 1 });
  socket.receive({ n: 2 });
  const ws = early.take(URL_)!;
  const got: number[] = [];
  ws.onmessage = (ev) => void got.push((JSON.parse(ev.data as string) as { n: number }).n);
  await Promise.resolve();
  socket.receive({ n: 3 });
  assert.deepEqual(got, [1, 2, 3]);
});

test('handed out once, for its URL only; a reconnect opens a socket of its own', () => {
  EventSocket.all = [];
  const early = openEarlySocket(WS, URL_);
  assert.equal(early.take('ws://elsewhere/ws'), null);
  const Opening = withEarlySocket(WS, early);
  assert.equal(new Opening(URL_), EventSocket.all[0], 'the early socket');
  assert.notEqual(new Opening(URL_), EventSocket.all[0], 'then fresh ones');
  assert.equal(EventSocket.all.length, 2);
  assert.equal(Opening.OPEN, 1, 'the constants the client reads are there');
});

test('a socket closed before it was wanted is not handed out: the client opens its own', () => {
  EventSocket.all = [];
  const early = openEarlySocket(WS, URL_);
  EventSocket.all[0]!.close(); // the relay restarted while the page was still loading
  client(withEarlySocket(WS, early), []);
  assert.equal(EventSocket.all.length, 2, 'a new socket, whose close the client will hear');
});

test('not wanted (the room is open in another tab): closed, and never handed out after', () => {
  EventSocket.all = [];
  const early = openEarlySocket(WS, URL_);
  early.close();
  assert.equal(EventSocket.all[0]!.readyState, EventSocket.CLOSED);
  assert.equal(early.take(URL_), null);
});
