/**
 * Fuzzes the relay protocol parsers with seeded random and mutated frames, then feeds
 * a sample of the same frames to a live relay. A failure names its seed and case, so
 * it replays exactly.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WebSocket } from 'ws';
import {
  MAX_FRAME_BYTES, MAX_PEERS_PER_ROOM, MAX_SIGNAL_DATA, MAX_WELCOME_PEERS, RELAY_PATH, encodeMessage, parseClientMessage, parseRelayMessage,
  type ClientMessage, type Parsed, type RelayErrorCode, type RelayMessage,
} from '../../signaling/protocol.ts';
import { createRelay } from '../../signaling/relay.ts';
import { mulberry32 } from './helpers/random.ts';
import { joinMessage, newTestIdentity } from './helpers/signed-join.ts';

const SEED = 0x6d657368; // "mesh"
const CASES = 10_000;
const LIVE_CASES = 400;

type Rng = () => number;
const int = (r: Rng, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)]!;
const chance = (r: Rng, p: number): boolean => r() < p;

const ERROR_CODES: readonly RelayErrorCode[] = [
  'bad-json', 'bad-message', 'too-large', 'not-in-room', 'unknown-peer', 'room-full', 'too-many-rooms',
  'rate-limited', 'server-full', 'bad-signature', 'too-many-connections', 'too-many-identities', 'join-timeout', 'replaced',
];
const TYPES = ['join', 'leave', 'signal', 'challenge', 'welcome', 'peer-joined', 'peer-left', 'error', 'JOIN', '', 'toString', '__proto__'];
const KEYS = [
  'type', 'topic', 'key', 'sig', 'nonce', 'to', 'from', 'data', 'self', 'peers', 'size', 'peer', 'code', 'message',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', 'Type', 'type ', '\u0000',
];
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const HEX = '0123456789abcdef';
/** Characters that matter to JSON, to the field patterns, or to UTF-16. */
const SPICY = ['"', '\\', '{', '}', '[', ']', ':', ',', ' ', '\n', '\u0000', '\u2028', '\ud800', '\udc00', '\ufeff', 'é', '😀', '/', '+', '='];

/** The fields of each message type (a relay's signal has `from` where a client's has `to`). */
const FIELDS: Record<string, readonly string[]> = {
  join: ['type', 'topic', 'key', 'sig'], challenge: ['type', 'nonce'], leave: ['type', 'topic'], signal: ['type', 'topic', 'to', 'data'],
  welcome: ['type', 'topic', 'self', 'peers', 'size'], 'peer-joined': ['type', 'topic', 'peer'], 'peer-left': ['type', 'topic', 'peer'],
  error: ['type', 'code', 'message'], 'relay-signal': ['type', 'topic', 'from', 'data'],
};

const charsOf = (r: Rng, alphabet: string, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[int(r, alphabet.length)];
  return s;
};
const topic = (r: Rng): string => charsOf(r, HEX, 64);
const peerId = (r: Rng): string => charsOf(r, B64URL, 16);
/** Mostly the right length (43: 32 bytes), sometimes one off. */
const peerKey = (r: Rng): string => charsOf(r, B64URL, chance(r, 0.9) ? 43 : 42 + int(r, 3));
const signature = (r: Rng): string => charsOf(r, B64URL, chance(r, 0.9) ? 86 : 85 + int(r, 3));

function anyString(r: Rng): string {
  // Rare, or the fuzz spends its time copying megabytes: around the caps, or anything up to 20 K.
  if (chance(r, 0.01)) return 'x'.repeat(chance(r, 0.5) ? MAX_SIGNAL_DATA + int(r, 3) - 1 : int(r, 20_000));
  switch (int(r, 8)) {
    case 0: return topic(r).slice(0, 62 + int(r, 4)) + (chance(r, 0.5) ? 'A' : ''); // near-miss topics
    case 1: return peerId(r).slice(0, 15 + int(r, 2));
    case 2: return chance(r, 0.5) ? peerKey(r) : signature(r);
    case 3: return pick(r, ERROR_CODES);
    case 4: return pick(r, TYPES);
    case 5: return Array.from({ length: int(r, 40) }, () => pick(r, SPICY)).join('');
    case 6: return String.fromCharCode(...Array.from({ length: int(r, 30) }, () => int(r, 0x10000)));
    default: return charsOf(r, B64URL, int(r, 70));
  }
}

const NUMBERS = ['0', '-0', '1', '-1', '1e308', '1e309', '-1.5e-7', '123456789012345678901234567890', '0.1', '32', '33', '256', '257', '255.5'];

/** JSON text of a random value; keys may repeat and include prototype names. */
function jsonValue(r: Rng, depth: number): string {
  switch (int(r, depth > 3 ? 4 : 7)) {
    case 0: return pick(r, NUMBERS);
    case 1: return pick(r, ['true', 'false', 'null']);
    case 2: case 3: return JSON.stringify(anyString(r));
    case 4: return `[${Array.from({ length: int(r, 6) }, () => jsonValue(r, depth + 1)).join(',')}]`;
    default: {
      const pairs = Array.from({ length: int(r, 7) }, () => {
        const key = chance(r, 0.8) ? pick(r, KEYS) : anyString(r).slice(0, 20);
        const value = key === 'type' && chance(r, 0.7) ? JSON.stringify(pick(r, TYPES)) : jsonValue(r, depth + 1);
        return `${JSON.stringify(key)}:${value}`;
      });
      return `{${pairs.join(',')}}`;
    }
  }
}

/** Not quite JSON: what a careless or hostile sender produces. */
const JSONISH = [
  '', ' ', '{', '}', '{"type":"join",}', "{'type':'join'}", '{type:"join"}', 'NaN', 'undefined', '{"a":1}//',
  '[1,]', '\ufeff{"type":"leave"}', '{"type":"join"', '"\\ud800"', '[[[[[[[[[[', '{"a":01}', '{"a":.5}',
];

/** An object with a message's field names, each value valid or not: reaches the checks past `type`. */
function messageShaped(r: Rng): string {
  const type = pick(r, Object.keys(FIELDS));
  const pairs = FIELDS[type]!.map((field) => {
    const value = field === 'type' ? JSON.stringify(type.replace('relay-', '')) : chance(r, 0.85) ? validField(r, field) : jsonValue(r, 2);
    return `${JSON.stringify(field)}:${value}`;
  });
  return `{${pairs.join(',')}}`;
}

function validField(r: Rng, field: string): string {
  switch (field) {
    case 'topic': return JSON.stringify(topic(r));
    case 'key': case 'nonce': return JSON.stringify(peerKey(r));
    case 'sig': return JSON.stringify(signature(r));
    case 'to': case 'from': case 'self': case 'peer': return JSON.stringify(peerId(r));
    case 'peers': return JSON.stringify(Array.from({ length: int(r, MAX_WELCOME_PEERS + 2) }, () => peerId(r)));
    case 'size': return String(int(r, MAX_PEERS_PER_ROOM + 2)); // valid or not, depending on the peers drawn
    case 'code': return JSON.stringify(pick(r, ERROR_CODES));
    default: return JSON.stringify(anyString(r)); // data, message
  }
}

function randomFrame(r: Rng): string {
  if (chance(r, 0.05)) return pick(r, JSONISH);
  if (chance(r, 0.01)) return '['.repeat(int(r, MAX_FRAME_BYTES + 10)); // deep nesting
  if (chance(r, 0.3)) return messageShaped(r);
  return jsonValue(r, 0);
}

function validClient(r: Rng): ClientMessage {
  switch (int(r, 3)) {
    case 0: return { type: 'join', topic: topic(r), key: peerKey(r), sig: signature(r) };
    case 1: return { type: 'leave', topic: topic(r) };
    default: return { type: 'signal', topic: topic(r), to: peerId(r), data: anyString(r).slice(0, MAX_SIGNAL_DATA) || 'x' };
  }
}

function validRelay(r: Rng): RelayMessage {
  switch (int(r, 5)) {
    case 0: {
      const peers = Array.from({ length: int(r, MAX_WELCOME_PEERS + 1) }, () => peerId(r));
      const size = peers.length + 1 + int(r, MAX_PEERS_PER_ROOM - peers.length);
      return { type: 'welcome', topic: topic(r), self: peerId(r), peers, size };
    }
    case 1: return { type: pick(r, ['peer-joined', 'peer-left'] as const), topic: topic(r), peer: peerId(r) };
    case 2: return { type: 'error', code: pick(r, ERROR_CODES), message: anyString(r).slice(0, 200) };
    case 3: return { type: 'challenge', nonce: peerKey(r) };
    default: return { type: 'signal', topic: topic(r), from: peerId(r), data: anyString(r).slice(0, MAX_SIGNAL_DATA) || 'x' };
  }
}

/** One edit of a frame's text: characters, structure, or a field's type. */
function mutate(r: Rng, text: string): string {
  const at = int(r, text.length + 1);
  switch (int(r, 16)) {
    case 0: return text.slice(0, at) + pick(r, SPICY) + text.slice(at + 1); // flip
    case 1: return text.slice(0, at) + pick(r, SPICY) + text.slice(at); // insert
    case 2: return text.slice(0, at) + text.slice(at + 1 + int(r, 10)); // delete
    case 3: return text.slice(0, at); // truncate
    case 4: return text.replace('{', `{${JSON.stringify(pick(r, KEYS))}:${jsonValue(r, 2)},`); // duplicate or extra key, first
    case 5: return text.replace(/}$/, `,${JSON.stringify(pick(r, KEYS))}:${jsonValue(r, 2)}}`); // ... or last (wins)
    case 6: { // change a field's type
      const fields = [...text.matchAll(/"(\w+)":/g)].map((m) => m[1]!);
      if (fields.length === 0) return text + text;
      return text.replace(new RegExp(`"${pick(r, fields)}":("(?:[^"\\\\]|\\\\.)*"|\\[[^\\]]*\\]|[^,}]*)`), (m) => `${m.split(':')[0]}:${jsonValue(r, 3)}`);
    }
    case 7: return pick(r, [`[${text}]`, `{"m":${text}}`, ` \n${text}\t `, text + text, `\ufeff${text}`]);
    case 8: { // grow the data to just under, at or over the caps
      const data = /"data":"((?:[^"\\]|\\.)*)"/.exec(text)?.[1] ?? '';
      const grow = pick(r, [MAX_SIGNAL_DATA - data.length, MAX_SIGNAL_DATA - data.length + 1, MAX_FRAME_BYTES - text.length + 1]);
      return text.replace(/"data":"/, `"data":"${'y'.repeat(Math.max(0, grow))}`);
    }
    default: return text.slice(0, at) + pick(r, SPICY) + text.slice(at + 1); // flip, again: the commonest damage
  }
}

function mutatedFrame(r: Rng, valid: (r: Rng) => ClientMessage | RelayMessage): string {
  let text = encodeMessage(valid(r));
  for (let n = 1 + int(r, 3); n > 0; n--) text = mutate(r, text);
  return text;
}

type Parser = (raw: string) => Parsed<ClientMessage | RelayMessage>;

/** The properties every parse must have; returns whether the frame was accepted. */
function check(parse: Parser, raw: string, label: string): boolean {
  let result: Parsed<ClientMessage | RelayMessage>;
  try {
    result = parse(raw);
  } catch (err) {
    assert.fail(`${label}: threw ${String(err)} on ${JSON.stringify(raw.slice(0, 200))}`);
  }
  assert.equal(typeof result.ok, 'boolean', label);
  if (!result.ok) {
    assert.ok(ERROR_CODES.includes(result.code), `${label}: code ${result.code}`);
    assert.ok(typeof result.error === 'string' && result.error.length < 200, `${label}: error ${result.error.slice(0, 300)}`);
    return false;
  }
  const { value } = result;
  assert.equal(Object.getPrototypeOf(value), Object.prototype, label);
  const fields = FIELDS[parse === parseRelayMessage && value.type === 'signal' ? 'relay-signal' : value.type]!;
  assert.deepEqual(Object.keys(value).sort(), [...fields].sort(), `${label}: fields of ${value.type}`);
  assert.deepEqual(parse(encodeMessage(value)), result, `${label}: re-encoding ${JSON.stringify(raw.slice(0, 200))}`);
  return true;
}

describe('relay protocol fuzz', () => {
  const parsers: { name: string; parse: Parser; valid: (r: Rng) => ClientMessage | RelayMessage }[] = [
    { name: 'parseClientMessage', parse: parseClientMessage, valid: validClient },
    { name: 'parseRelayMessage', parse: parseRelayMessage, valid: validRelay },
  ];

  for (const { name, parse, valid } of parsers) {
    test(`${name} survives ${CASES} random and ${CASES} mutated frames`, (t) => {
      const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      const r = mulberry32(SEED);
      let randomOk = 0;
      let mutatedOk = 0;
      for (let i = 0; i < CASES; i++) {
        if (check(parse, randomFrame(r), `${name} random #${i} (seed ${SEED})`)) randomOk++;
      }
      for (let i = 0; i < CASES; i++) {
        if (check(parse, mutatedFrame(r, valid), `${name} mutated #${i} (seed ${SEED})`)) mutatedOk++;
      }
      const ms = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeKeys, 'Object.prototype untouched');
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      // Some of the mutations (padding, extra fields, a re-typed field that is still valid) keep a frame
      // valid: without accepted frames the re-encoding property would be tested on nothing.
      assert.ok(mutatedOk > CASES / 20, `only ${mutatedOk} mutated frames parsed`);
      // CPU time, not wall time: on a busy machine a fair loop can wait its turn for seconds.
      assert.ok(cpuMs < 3000, `${name}: ${2 * CASES} frames took ${cpuMs.toFixed(0)} ms of CPU`);
      t.diagnostic(`${name}: ${randomOk} random and ${mutatedOk} mutated frames accepted, ${ms.toFixed(0)} ms (${cpuMs.toFixed(0)} ms CPU)`);
    });
  }
});

describe('relay protocol nasty frames', () => {
  test('objects whose conversion to a string throws are refused, not thrown', () => {
    const frames = [
      '{"type":{"toString":"join"}}', // String() would call a string: TypeError (found by the fuzz above)
      '{"type":{"toString":1,"valueOf":2}}',
      '{"type":[{"toString":"x"}]}',
      '{"__proto__":{"type":"join"},"topic":"' + 'a'.repeat(64) + '"}',
      '{"constructor":{"prototype":{"polluted":true}},"type":"leave"}',
      '['.repeat(MAX_FRAME_BYTES),
    ];
    for (const frame of frames) {
      for (const parse of [parseClientMessage, parseRelayMessage]) {
        const result = parse(frame);
        assert.equal(result.ok, false, frame.slice(0, 60));
      }
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** A socket that keeps every reply, parsed (or not: the test asserts they all parse). */
async function connect(url: string): Promise<{ ws: WebSocket; replies: Parsed<RelayMessage>[] }> {
  const ws = new WebSocket(url);
  const replies: Parsed<RelayMessage>[] = [];
  ws.on('message', (data) => replies.push(parseRelayMessage(String(data))));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, replies };
}

describe('relay under fuzz', () => {
  test(`a live relay takes ${LIVE_CASES} fuzz frames on one socket and still introduces peers`, { timeout: 15_000 }, async (t) => {
    let clock = 0;
    const events: Record<string, unknown>[] = [];
    const relay = createRelay({
      port: 0, host: '127.0.0.1', now: () => clock, log: (e) => events.push(e),
      // One socket takes them all, rather than closing at 20, however long this machine takes to send them.
      limits: { maxBadMessages: LIVE_CASES + 1, joinTimeoutMs: 10 * 60_000 },
    });
    t.after(() => relay.close());
    await relay.ready;
    const url = `ws://127.0.0.1:${relay.address().port}${RELAY_PATH}`;
    const fuzzer = await connect(url);
    t.after(() => fuzzer.ws.terminate());

    const r = mulberry32(SEED + 1);
    let sent = 0;
    let refused = 0;
    let joins = 0;
    while (sent < LIVE_CASES) {
      const frame = sent % 2 === 0 ? randomFrame(r) : mutatedFrame(r, validClient);
      const wire = Buffer.from(frame, 'utf8'); // as ws sends it: lone surrogates become U+FFFD
      if (wire.length > MAX_FRAME_BYTES) continue; // ws would close the socket (1009); relay-flood covers that
      const parsed = parseClientMessage(wire.toString('utf8'));
      if (!parsed.ok) refused++;
      else if (parsed.value.type === 'join') joins++;
      clock += 2000; // paced on the relay's clock: a join token and a full message burst back per frame
      fuzzer.ws.send(wire, { binary: false });
      sent++;
      await until(() => relay.stats().messages === sent, `frame ${sent} to be handled`);
    }

    const stats = relay.stats();
    assert.equal(fuzzer.ws.readyState, WebSocket.OPEN);
    assert.deepEqual(events.filter((e) => e.event === 'handler-error'), [], 'no handler threw');
    // Every refusal the parser predicts, plus joins (random keys and signatures: 'bad-signature').
    assert.ok(stats.badMessages >= refused && stats.badMessages <= refused + joins, `bad ${stats.badMessages}, refused ${refused}`);
    assert.ok(refused > LIVE_CASES / 2, `only ${refused} of ${LIVE_CASES} frames were malformed`);
    assert.equal(stats.rateLimited, 0, 'paced under the rate limits');
    await until(() => fuzzer.replies.length >= refused, 'an error reply per malformed frame');
    assert.ok(fuzzer.replies.every((p) => p.ok), 'every reply of the relay parses');

    const [a, b] = await Promise.all([connect(url), connect(url)]);
    t.after(() => { a.ws.terminate(); b.ws.terminate(); });
    const T = 'c'.repeat(64);
    const [ia, ib] = [newTestIdentity(), newTestIdentity()];
    const nonceOf = (p: Parsed<RelayMessage> | undefined): string => (p?.ok && p.value.type === 'challenge' ? p.value.nonce : '');
    await until(() => a.replies.length === 1 && b.replies.length === 1, 'the challenges');
    a.ws.send(encodeMessage(await joinMessage(ia, nonceOf(a.replies[0]), T)));
    await until(() => a.replies.length === 2, 'a welcome');
    b.ws.send(encodeMessage(await joinMessage(ib, nonceOf(b.replies[0]), T)));
    await until(() => b.replies.length === 2 && a.replies.length === 3, 'b to be welcomed and announced');
    assert.deepEqual(b.replies[1], { ok: true, value: { type: 'welcome', topic: T, self: ib.id, peers: [ia.id], size: 2 } });
    b.ws.send(encodeMessage({ type: 'signal', topic: T, to: ia.id, data: 'still here' }));
    await until(() => a.replies.length === 4, 'the signal');
    assert.deepEqual(a.replies[3], { ok: true, value: { type: 'signal', topic: T, from: ib.id, data: 'still here' } });
  });
});
