import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { WebSocket } from 'ws';
import {
  DEFAULT_STUN_SERVERS, DEFAULT_TURN_TTL_SECONDS, mintTurnServer, parseIceConfig, turnCredential, turnUsername,
} from '../../signaling/ice.ts';
import { RELAY_PATH, encodeMessage, parseRelayMessage, type RelayMessage } from '../../signaling/protocol.ts';
import { createRelay } from '../../signaling/relay.ts';
import { identityFromSeed } from '../../src/core/crypto/identity.ts';
import { createSignalClient, iceRefreshMs } from '../../src/net/signal-client.ts';
import { challengeOf, joinMessage, newTestIdentity } from './helpers/signed-join.ts';

const PEER = 'AbCdEfGhIjKlMnOp';
const TOPIC = 'a'.repeat(64);

describe('TURN credentials (coturn use-auth-secret)', () => {
  test('the credential is base64(HMAC-SHA1(secret, username)): a fixed vector and node:crypto agree', () => {
    // Computed independently: printf '1700000000:AbCdEfGhIjKlMnOp' | openssl dgst -sha1 -hmac north-wind -binary | base64
    assert.equal(turnCredential('north-wind', `1700000000:${PEER}`), 'fxeBW8pk5g84LbK+BVMSkuiW1UQ=');
    const username = turnUsername(1_800_000_123, PEER);
    const expected = createHmac('sha1', 'another secret').update(username).digest('base64');
    assert.equal(turnCredential('another secret', username), expected);
    assert.notEqual(turnCredential('another secreT', username), expected);
  });

  test('minted servers: username is `expiry:peer` with expiry = now + TTL in unix seconds', () => {
    const turn = { urls: ['turn:127.0.0.1:3478?transport=udp', 'turns:turn.example.org:5349'], secret: 'S', ttlSeconds: 600 };
    const server = mintTurnServer(turn, PEER, 1_700_000_000_999);
    assert.equal(server.username, `1700000600:${PEER}`);
    assert.match(server.username!, /^\d+:[A-Za-z0-9_-]{16}$/);
    assert.equal(server.credential, createHmac('sha1', 'S').update(`1700000600:${PEER}`).digest('base64'));
    assert.deepEqual(server.urls, turn.urls);
    assert.ok(!JSON.stringify(server).includes('"S"'), 'the secret itself is not in what browsers get');
  });
});

describe('ICE environment', () => {
  const ok = (env: Record<string, string>) => {
    const r = parseIceConfig(env);
    assert.ok(r.ok, r.ok ? '' : r.error);
    return r.value;
  };
  const error = (env: Record<string, string>) => {
    const r = parseIceConfig(env);
    assert.ok(!r.ok, `expected an error for ${JSON.stringify(env)}`);
    return r.error;
  };

  test('defaults: public STUN servers, no TURN, policy all; ICE_SERVERS replaces them, [] turns them off', () => {
    const d = ok({});
    assert.deepEqual(d.iceServers, DEFAULT_STUN_SERVERS);
    assert.ok(d.iceServers.some((s) => [s.urls].flat().includes('stun:stun.l.google.com:19302')));
    assert.equal(d.turn, null);
    assert.equal(d.policy, 'all');
    assert.deepEqual(ok({ ICE_SERVERS: '[]' }).iceServers, []);
    assert.deepEqual(ok({ ICE_SERVERS: '[{"urls":"stun:stun.example.org:3478"}]' }).iceServers, [{ urls: 'stun:stun.example.org:3478' }]);
  });

  test('TURN_URLS + TURN_SECRET (+ TURN_TTL) and ICE_POLICY=relay', () => {
    const c = ok({ TURN_URLS: ' turn:127.0.0.1:3478?transport=udp , turns:t.example.org:5349', TURN_SECRET: 'S', ICE_POLICY: 'relay', ICE_SERVERS: '[]' });
    assert.deepEqual(c.turn, { urls: ['turn:127.0.0.1:3478?transport=udp', 'turns:t.example.org:5349'], secret: 'S', ttlSeconds: DEFAULT_TURN_TTL_SECONDS });
    assert.equal(c.policy, 'relay');
    assert.equal(ok({ TURN_URLS: 'turn:h', TURN_SECRET: 'S', TURN_TTL: '120' }).turn?.ttlSeconds, 120);
  });

  test('bad values get clear errors naming the variable', () => {
    assert.match(error({ ICE_SERVERS: '{nope' }), /ICE_SERVERS must be JSON/);
    assert.match(error({ ICE_SERVERS: '{"urls":"stun:x"}' }), /ICE_SERVERS must be a JSON list/);
    assert.match(error({ ICE_SERVERS: '[{"urls":"http://x"}]' }), /ICE_SERVERS: "http:\/\/x" is not a stun:/);
    assert.match(error({ ICE_SERVERS: '[{"url":"stun:x"}]' }), /ICE_SERVERS: "urls" must be/);
    assert.match(error({ TURN_URLS: 'turn:h' }), /set both TURN_URLS and TURN_SECRET/);
    assert.match(error({ TURN_SECRET: 'S' }), /set both TURN_URLS and TURN_SECRET/);
    assert.match(error({ TURN_URLS: 'stun:h', TURN_SECRET: 'S' }), /TURN_URLS: "stun:h" is not a turn: or turns: URL/);
    assert.match(error({ TURN_URLS: 'turn:h', TURN_SECRET: 'S', TURN_TTL: '10' }), /TURN_TTL must be whole seconds from 60/);
    assert.match(error({ TURN_URLS: 'turn:h', TURN_SECRET: 'S', TURN_TTL: '1h' }), /TURN_TTL/);
    assert.match(error({ TURN_TTL: '600' }), /TURN_TTL is set but/);
    assert.match(error({ ICE_POLICY: 'private' }), /ICE_POLICY must be "all" or "relay"/);
    assert.match(error({ ICE_POLICY: 'relay' }), /ICE_POLICY=relay needs a TURN server/);
    // A TURN server written by hand into ICE_SERVERS is enough for relay-only.
    assert.equal(ok({ ICE_POLICY: 'relay', ICE_SERVERS: '[{"urls":"turn:h","username":"u","credential":"c"}]' }).policy, 'relay');
  });
});

describe('welcome with ICE servers', () => {
  const welcome = (extra: object) => parseRelayMessage(JSON.stringify({ type: 'welcome', topic: TOPIC, self: PEER, peers: [], size: 1, ...extra }));

  test('without iceServers, as before; with them, only the RTCIceServer fields are kept', () => {
    const plain = welcome({});
    assert.ok(plain.ok && plain.value.type === 'welcome');
    assert.equal('iceServers' in plain.value, false);
    const servers = [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: `1:${PEER}`, credential: 'c2VjcmV0', extra: 'dropped' }];
    const parsed = welcome({ iceServers: servers, iceTtl: 3600 });
    assert.ok(parsed.ok && parsed.value.type === 'welcome', parsed.ok ? '' : parsed.error);
    assert.deepEqual(parsed.value.iceServers, [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: `1:${PEER}`, credential: 'c2VjcmV0' }]);
    assert.equal(parsed.value.iceTtl, 3600);
  });

  test('malformed or oversized iceServers are refused', () => {
    const good = { urls: 'turn:h' };
    for (const extra of [
      { iceServers: good, iceTtl: 60 },
      { iceServers: [good] },
      { iceServers: [good], iceTtl: 0 },
      { iceServers: [good], iceTtl: 1.5 },
      { iceTtl: 60 },
      { iceServers: [{ urls: 'javascript:alert(1)' }], iceTtl: 60 },
      { iceServers: [{ urls: [] }], iceTtl: 60 },
      { iceServers: [{ urls: 'turn:h', username: 7 }], iceTtl: 60 },
      { iceServers: [{ urls: 'turn:h', credential: 'x'.repeat(513) }], iceTtl: 60 },
      { iceServers: Array(9).fill(good), iceTtl: 60 },
      { iceServers: [null], iceTtl: 60 },
    ]) {
      const r = welcome(extra);
      assert.ok(!r.ok, `should refuse ${JSON.stringify(extra).slice(0, 80)}`);
      assert.equal(r.code, 'bad-message');
    }
  });
});

test('the relay mints credentials for the joining peer in every welcome, fresh on a repeated join', async (t) => {
  let clock = 1_700_000_000_000;
  const turn = { urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 'S', ttlSeconds: 600 };
  const logged: string[] = [];
  const relay = createRelay({
    host: '127.0.0.1', statsLogMs: 0, log: (e) => logged.push(JSON.stringify(e)),
    mintIceServers: (peer) => ({ iceServers: [mintTurnServer(turn, peer, clock)], iceTtl: turn.ttlSeconds }),
  });
  t.after(() => relay.close());
  await relay.ready;
  const ws = new WebSocket(`ws://127.0.0.1:${relay.address().port}${RELAY_PATH}`);
  t.after(() => ws.close());
  const nonce = await challengeOf(ws);
  const welcomes: Extract<RelayMessage, { type: 'welcome' }>[] = [];
  ws.on('message', (data) => {
    const m = parseRelayMessage(String(data));
    if (m.ok && m.value.type === 'welcome') welcomes.push(m.value);
  });
  const identity = newTestIdentity();
  ws.send(encodeMessage(await joinMessage(identity, nonce, TOPIC)));
  await until(() => welcomes.length === 1);
  const first = welcomes[0]!;
  assert.equal(first.iceTtl, 600);
  assert.equal(first.iceServers?.[0]?.username, `1700000600:${first.self}`);
  assert.equal(first.iceServers?.[0]?.credential, turnCredential('S', `1700000600:${first.self}`));

  clock += 500_000;
  ws.send(encodeMessage(await joinMessage(identity, nonce, TOPIC)));
  await until(() => welcomes.length === 2);
  assert.equal(welcomes[1]!.iceServers?.[0]?.username, `1700001100:${first.self}`);
  assert.ok(!logged.some((l) => l.includes(first.iceServers![0]!.credential!) || l.includes('1700000600')), 'credentials never logged');
});

test('the browser client hands minted servers on and re-joins on the same socket before they expire', async () => {
  const sockets: { sent: string[]; onmessage: ((ev: { data: unknown }) => void) | null }[] = [];
  class FakeSocket {
    static readonly OPEN = 1;
    readyState = 1;
    sent: string[] = [];
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onclose: (() => void) | null = null;
    constructor() { sockets.push(this); }
    send(text: string) { this.sent.push(text); }
    close() { this.readyState = 3; this.onclose?.(); }
  }
  const identity = identityFromSeed(new Uint8Array(32).fill(9));
  const timers: { fn: () => void; ms: number }[] = [];
  const received: unknown[] = [];
  createSignalClient({
    url: 'ws://relay/ws', topic: TOPIC, identity, self: identity.id,
    WebSocket: FakeSocket as unknown as typeof globalThis.WebSocket, random: () => 0.5,
    setTimeout: (fn, ms) => timers.push({ fn, ms }), clearTimeout: () => undefined,
  }, {
    onWelcome: () => undefined, onPeerJoined: () => undefined, onPeerLeft: () => undefined, onSignal: () => undefined,
    onStatus: () => undefined, onError: (code, message) => assert.fail(`${code}: ${message}`),
    onIceServers: (servers) => received.push(servers),
  });
  const socket = sockets[0]!;
  const receive = (m: object) => socket.onmessage?.({ data: JSON.stringify(m) });
  receive({ type: 'challenge', nonce: 'N'.repeat(43) });
  await until(() => socket.sent.length === 1);
  const servers = [{ urls: 'turn:h', username: `1:${identity.id}`, credential: 'c' }];
  receive({ type: 'welcome', topic: TOPIC, self: identity.id, peers: [], size: 1, iceServers: servers, iceTtl: 3600 });
  assert.deepEqual(received, [servers]);
  assert.equal(timers.length, 1);
  assert.equal(timers[0]!.ms, iceRefreshMs(3600));
  assert.ok(timers[0]!.ms < 3600_000 && timers[0]!.ms >= 30_000);
  timers[0]!.fn();
  await until(() => socket.sent.length === 2);
  assert.equal(sockets.length, 1, 'the same socket');
  assert.equal(JSON.parse(socket.sent[1]!).type, 'join');
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'timed out');
}
