/**
 * Floods a relay running in its own process, then checks it from the outside: the
 * process is alive, its memory came back down, every socket is gone, and two
 * honest clients can still meet. Loopback only; every wait has a deadline.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { WebSocket } from 'ws';
import {
  MAX_FRAME_BYTES, MAX_SIGNAL_DATA, RELAY_PATH, parseRelayMessage, type ClientMessage, type RelayMessage,
} from '../../signaling/protocol.ts';
import { toBase64Url } from '../../src/core/bytes.ts';
import type { Identity } from '../../src/core/crypto/identity.ts';
import type { RelayStats } from '../../signaling/relay.ts';
import { mulberry32 } from './helpers/random.ts';
import { joinMessage, nodeTestIdentity } from './helpers/signed-join.ts';

const HELPER = fileURLToPath(new URL('./helpers/relay-process.ts', import.meta.url));
const ORIGIN = 'http://meshdrop.test';
/**
 * Deadlines guard against a hang, not a slow machine: the relay child shares 2 cores with
 * another test file (--test-concurrency=2) and whatever else runs; 5 s timed out there.
 */
const WAIT_MS = 30_000;

const FLOOD_SOCKETS = 400;
const OVERFLOW_SOCKETS = 100;
/** Room for the flood plus half the overflow burst: the other half must be refused. */
const MAX_CONNECTIONS = FLOOD_SOCKETS + OVERFLOW_SOCKETS / 2;
const FOREIGN_ORIGIN_SOCKETS = 20;
const BAD_FRAMES_PER_SOCKET = 30; // beyond MAX_BAD_MESSAGES (20): these sockets get closed
/** The relay child's message rate: a burst of 100 and a slow refill, so the tail of every
 * signaller's flood is rate-limited however slowly this machine works through it. */
const MESSAGE_BURST = 100;
const MESSAGES_PER_SECOND = 1;
const SIGNALS_PER_SOCKET = 150;
const ROOMS = 20;
/** Rooms each signaller tries to open besides the shared one: MAX_ROOMS_PER_CONNECTION (4) allows 3. */
const EXTRA_JOINS = 6;

/**
 * Bounds after the flood, measured after two forced GCs. Measured on Node 20, 2 cores:
 * heapUsed ~6 MB and RSS ~80 MB before; ~7.3 MB and 115-130 MB after (RSS keeps freed
 * pages). The flood forwards ~20,000 signals of ~1 KB: a relay that kept them (tried by
 * pushing each forwarded frame onto an array) ends at ~29 MB of heap, +23 MB. A 10 MB
 * growth bound catches that with room for GC noise; the absolute bounds alone would not.
 */
const MAX_HEAP_GROWTH = 10 * 1024 * 1024;
const MAX_HEAP_USED = 100 * 1024 * 1024;
const MAX_RSS = 300 * 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const topic = (n: number): string => n.toString(16).padStart(64, '0');
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function timeout<V>(p: Promise<V>, what: string, ms = WAIT_MS): Promise<V> {
  let timer: NodeJS.Timeout | undefined;
  const fail = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, fail]).finally(() => clearTimeout(timer));
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Measure { memory: NodeJS.MemoryUsage; stats: RelayStats }

/** The relay child: its port, its log lines so far, and ways to ask for its stats and memory. */
interface RelayChild {
  proc: ChildProcess;
  port: number;
  logs: string[];
  stats(): Promise<RelayStats>;
  /** Forces GC first: for the memory figures, not for polling. */
  measure(): Promise<Measure>;
}

async function startRelayChild(t: TestContext, options: object): Promise<RelayChild> {
  const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', HELPER, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const logs: string[] = [];
  const lines = createInterface({ input: proc.stdout! });
  const port = await timeout(new Promise<number>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`relay process exited (${code}) before listening`)));
    lines.on('line', (line) => {
      const event = JSON.parse(line) as { event?: string; port?: number };
      if (event.event === 'listening' && event.port) resolve(event.port);
      else logs.push(line);
    });
  }), 'the relay process to listen', 2 * WAIT_MS);

  const ask = <A extends Partial<Measure>>(type: 'stats' | 'measure'): Promise<A> => timeout(new Promise<A>((resolve) => {
    const onMessage = (msg: { type?: string } & A): void => {
      if (msg.type !== type) return;
      proc.off('message', onMessage);
      resolve(msg);
    };
    proc.on('message', onMessage);
    proc.send({ type });
  }), `an answer to "${type}" from the relay process`);
  return {
    proc, port, logs,
    stats: async () => (await ask<Pick<Measure, 'stats'>>('stats')).stats,
    measure: () => ask<Measure>('measure'),
  };
}

/** A raw socket: keeps its challenge, counts rate-limit replies, parses the rest only when asked to keep them. */
class Sock {
  rateLimited = 0;
  code: number | null = null;
  nonce = '';
  readonly inbox: RelayMessage[] = [];
  readonly closed: Promise<number>;
  constructor(readonly ws: WebSocket, keep = false) {
    ws.on('message', (data) => {
      if (!this.nonce) {
        const first = parseRelayMessage(String(data));
        if (first.ok && first.value.type === 'challenge') return void (this.nonce = first.value.nonce);
      }
      if ((data as Buffer).includes('"rate-limited"')) this.rateLimited += 1;
      if (!keep) return;
      const parsed = parseRelayMessage(String(data));
      assert.ok(parsed.ok, `relay sent an unparsable message: ${String(data).slice(0, 100)}`);
      this.inbox.push(parsed.value);
    });
    ws.on('error', () => undefined); // refusals and resets are expected here; outcomes are asserted
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve((this.code = code))));
  }
}

function open(url: string, origin: string | undefined, keep = false): Promise<Sock> {
  const ws = new WebSocket(url, { origin });
  const sock = new Sock(ws, keep);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(sock));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('close', () => reject(new Error('closed before open')));
  });
}

async function openMany(url: string, n: number, origin = ORIGIN): Promise<PromiseSettledResult<Sock>[]> {
  const results: PromiseSettledResult<Sock>[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, () => open(url, origin));
    results.push(...await timeout(Promise.allSettled(batch), 'a batch of connections'));
  }
  return results;
}

/** Malformed input of every kind the relay must shrug off (each frame within the size cap). */
function badFrame(i: number, random: () => number): string | Buffer {
  const T = topic(1);
  const frames: (() => string | Buffer)[] = [
    () => 'not json',
    () => '{"type":"join","topic":',
    () => '['.repeat(MAX_FRAME_BYTES - 1), // deeply nested
    () => JSON.stringify({ type: 'teleport', topic: T }),
    () => JSON.stringify({ type: 42 }),
    () => JSON.stringify({ type: 'join', topic: 123, key: [] }),
    () => JSON.stringify({ type: 'join', topic: 'x'.repeat(MAX_FRAME_BYTES - 100), key: 'k'.repeat(22) }),
    () => JSON.stringify({ type: 'signal', topic: T, to: {}, data: 1 }),
    () => JSON.stringify({ type: 'signal', topic: T, to: 'AAAAAAAAAAAAAAAA', data: 'd'.repeat(MAX_SIGNAL_DATA + 1) }),
    () => '{"__proto__":{"type":"join"},"constructor":{"prototype":{"polluted":1}}}',
    () => randomBytes(1 + Math.floor(random() * 512)), // binary frame
  ];
  return frames[i % frames.length]!();
}

/** Sockets 0, 10, 20...: one oversized frame, or text that is not UTF-8. Both end the socket. */
function floodFatal(sock: Sock, i: number): void {
  if (i % 20 === 0) sock.ws.send('x'.repeat(MAX_FRAME_BYTES + 1 + i * 100));
  else sock.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
}

function floodMalformed(sock: Sock, i: number, random: () => number): void {
  for (let k = 0; k < BAD_FRAMES_PER_SOCKET; k++) {
    const frame = badFrame(i + k, random);
    sock.ws.send(frame, { binary: typeof frame !== 'string' });
  }
}

/**
 * Joins a shared room, then too many other rooms, then that room again too often.
 * Signed first, sent after: the flood itself must go out as fast as the socket takes it.
 */
async function signedJoins(sock: Sock, identity: Identity, room: number, i: number): Promise<ClientMessage[]> {
  await until(() => sock.nonce !== '', 'a challenge');
  const topics = [topic(room), ...Array.from({ length: EXTRA_JOINS }, (_, k) => topic(1000 + i * EXTRA_JOINS + k))];
  topics.push(topic(room), topic(room), topic(room)); // over the join burst of 8
  return Promise.all(topics.map((t) => joinMessage(identity, sock.nonce, t)));
}

function floodJoins(sock: Sock, joins: ClientMessage[]): void {
  for (const join of joins) sock.ws.send(JSON.stringify(join));
}

/** Signals its room-mates as fast as the socket takes it, beyond the message burst. */
function floodSignals(sock: Sock, room: number, mates: string[], random: () => number): void {
  for (let k = 0; k < SIGNALS_PER_SOCKET; k++) {
    const data = 'd'.repeat(64 + Math.floor(random() * 2000));
    sock.ws.send(JSON.stringify({ type: 'signal', topic: topic(room), to: mates[k % mates.length]!, data }));
  }
}

test('a flood of sockets and garbage leaves the relay process alive, lean and serving', { timeout: 4 * WAIT_MS }, async (t) => {
  const relay = await startRelayChild(t, {
    limits: {
      maxConnections: MAX_CONNECTIONS, messageBurst: MESSAGE_BURST, messagesPerSecond: MESSAGES_PER_SECOND,
      // Every socket here comes from 127.0.0.1, and the idle overflow must outlast a slow run.
      maxConnectionsPerAddress: MAX_CONNECTIONS, maxIdentitiesPerAddress: FLOOD_SOCKETS, joinTimeoutMs: 10 * 60_000,
    },
    allowedOrigins: [ORIGIN], statsLogMs: 250,
  });
  const url = `ws://127.0.0.1:${relay.port}${RELAY_PATH}`;
  const before = await relay.measure();
  const random = mulberry32(20_240_601);

  const opened = await openMany(url, FLOOD_SOCKETS);
  const flood = opened.map((r) => (r.status === 'fulfilled' ? r.value : assert.fail(String(r.reason))));
  t.after(() => { for (const s of flood) s.ws.terminate(); });

  const overflow = await openMany(url, OVERFLOW_SOCKETS);
  const overflowOpen = overflow.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  t.after(() => { for (const s of overflowOpen) s.ws.terminate(); });
  const foreign = await openMany(url, FOREIGN_ORIGIN_SOCKETS, 'https://elsewhere.example');
  assert.ok(foreign.every((r) => r.status === 'rejected' && /HTTP 403/.test(String(r.reason))));

  const identities = flood.map(() => nodeTestIdentity());
  const roomOf = (i: number): number => Math.floor(i / 10) % ROOMS;
  const signallers = flood.map((_, i) => i).filter((i) => i % 10 >= 5);
  const matesOf = (i: number): string[] =>
    signallers.filter((j) => j !== i && roomOf(j) === roomOf(i)).map((j) => identities[j]!.id);
  const secrets = [
    topic(roomOf(5)), topic(1000 + 5 * EXTRA_JOINS), 'd'.repeat(32),
    ...signallers.slice(0, 10).flatMap((i) => [toBase64Url(identities[i]!.publicKey), identities[i]!.id]),
  ];
  const joins = await Promise.all(signallers.map((i) => signedJoins(flood[i]!, identities[i]!, roomOf(i), i)));

  const started = Date.now();
  signallers.forEach((i, n) => floodJoins(flood[i]!, joins[n]!));
  flood.forEach((sock, i) => {
    if (i % 10 === 0) floodFatal(sock, i);
    else if (i % 10 < 5) floodMalformed(sock, i, random);
  });
  // Everyone in their rooms first, so the signals find their targets.
  const roomsOpen = ROOMS + signallers.length * 3;
  await until(async () => (await relay.stats()).rooms === roomsOpen, `${roomsOpen} rooms`, 2 * WAIT_MS);
  for (const i of signallers) floodSignals(flood[i]!, roomOf(i), matesOf(i), random);

  await untilQuiet(relay, flood);
  const during = await relay.measure();
  t.diagnostic(`flood sent and worked through in ${Date.now() - started} ms`);

  const overflowRefused = OVERFLOW_SOCKETS - (MAX_CONNECTIONS - FLOOD_SOCKETS);
  await until(() => overflowOpen.filter((s) => s.code === 1013).length === overflowRefused, 'server-full refusals');
  assert.equal(overflowOpen.filter((s) => s.code === null).length, OVERFLOW_SOCKETS - overflowRefused);
  const fatalCodes = await timeout(Promise.all(flood.filter((_, i) => i % 10 === 0).map((s) => s.closed)), 'fatal frames to close');
  assert.ok(fatalCodes.every((c) => c === 1009 || c === 1007), `close codes ${[...new Set(fatalCodes)]}`);
  const malformedCodes = await timeout(Promise.all(flood.filter((_, i) => i % 10 > 0 && i % 10 < 5).map((s) => s.closed)), 'bad sockets to close');
  assert.ok(malformedCodes.every((c) => c === 1008), `close codes ${[...new Set(malformedCodes)]}`);

  for (const s of [...flood, ...overflowOpen]) s.ws.terminate();
  await until(async () => {
    const stats = await relay.stats();
    return stats.connections === 0 && stats.rooms === 0;
  }, 'every flood socket and room to be dropped');
  await sleep(200);
  const after = await relay.measure();

  const report = (label: string, m: Measure): string =>
    `${label}: heapUsed ${mb(m.memory.heapUsed)}, rss ${mb(m.memory.rss)}, external ${mb(m.memory.external)}`;
  t.diagnostic(report('before', before));
  t.diagnostic(report('during', during));
  t.diagnostic(report('after', after));
  t.diagnostic(`stats: ${JSON.stringify(after.stats)}`);

  assert.equal(relay.proc.exitCode, null, 'the relay process is alive');
  assert.equal(relay.proc.signalCode, null);
  assert.ok(after.memory.heapUsed - before.memory.heapUsed < MAX_HEAP_GROWTH, report('heap grew', after));
  assert.ok(after.memory.heapUsed < MAX_HEAP_USED, report('heap', after));
  assert.ok(after.memory.rss < MAX_RSS, report('rss', after));

  const { stats } = after;
  const malformedSockets = (FLOOD_SOCKETS * 4) / 10;
  assert.equal(stats.refusedOrigin, FOREIGN_ORIGIN_SOCKETS);
  assert.equal(stats.refusedConnections, overflowRefused);
  assert.ok(stats.badMessages >= malformedSockets * 20 + FLOOD_SOCKETS / 10, `badMessages ${stats.badMessages}`);
  assert.ok(signallers.every((i) => flood[i]!.rateLimited > 0), 'every fast signaller was rate-limited');
  const rateLimitedSeen = flood.reduce((sum, s) => sum + s.rateLimited, 0);
  assert.ok(stats.rateLimited >= rateLimitedSeen && rateLimitedSeen > signallers.length * 20, `rateLimited ${stats.rateLimited}`);

  const pair = await honestPairMeets(t, url);

  // The logs: JSON lines, periodic stats among them, nothing private in any of them.
  const events = relay.logs.map((line) => JSON.parse(line) as { event: string });
  assert.ok(events.some((e) => e.event === 'stats'), 'a periodic stats line');
  const logged = relay.logs.join('\n');
  for (const secret of [...secrets, ...pair, '127.0.0.1', 'elsewhere']) {
    assert.ok(!logged.includes(secret), `the relay logged ${secret}`);
  }
});

/** Waits until everything sent has left this process and the relay has stopped counting frames. */
async function untilQuiet(relay: RelayChild, socks: Sock[]): Promise<void> {
  await until(() => socks.every((s) => s.ws.bufferedAmount === 0), 'the flood to be sent', 2 * WAIT_MS);
  let seen = -1;
  await until(async () => {
    const { messages } = await relay.stats();
    const quiet = messages === seen;
    seen = messages;
    return quiet;
  }, 'the relay to work through the flood', 2 * WAIT_MS);
}

/** Two fresh clients join one topic and signal; returns what they sent, which logs must not show. */
async function honestPairMeets(t: TestContext, url: string): Promise<string[]> {
  const [a, b] = await Promise.all([open(url, ORIGIN, true), open(url, ORIGIN, true)]);
  t.after(() => { a.ws.terminate(); b.ws.terminate(); });
  const [ia, ib] = [nodeTestIdentity(), nodeTestIdentity()];
  const meet = topic(0xfeed);
  await until(() => a.nonce !== '' && b.nonce !== '', 'the challenges');
  a.ws.send(JSON.stringify(await joinMessage(ia, a.nonce, meet)));
  await until(() => a.inbox.some((m) => m.type === 'welcome'), 'a welcome for a');
  b.ws.send(JSON.stringify(await joinMessage(ib, b.nonce, meet)));
  await until(() => b.inbox.some((m) => m.type === 'welcome'), 'a welcome for b');
  assert.deepEqual(b.inbox[0], { type: 'welcome', topic: meet, self: ib.id, peers: [ia.id], size: 2 });
  b.ws.send(JSON.stringify({ type: 'signal', topic: meet, to: ia.id, data: 'offer after the flood' }));
  await until(() => a.inbox.some((m) => m.type === 'signal'), 'the signal to reach a');
  assert.deepEqual(a.inbox.find((m) => m.type === 'signal'),
    { type: 'signal', topic: meet, from: ib.id, data: 'offer after the flood' });
  return [meet, toBase64Url(ia.publicKey), toBase64Url(ib.publicKey), ia.id, ib.id, 'offer after the flood'];
}
