import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_FRAME_BYTES, MAX_PEERS_PER_ROOM, MAX_SIGNAL_DATA, MAX_WELCOME_PEERS, encodeMessage, isPeerId, isTopic, joinChallengeText,
  parseClientMessage, parseRelayMessage, type Parsed, type RelayErrorCode,
} from '../../signaling/protocol.ts';

const TOPIC = 'a'.repeat(64);
const PEER = 'AbCdEfGh_-012345';
const PEER2 = 'ZZZZZZZZZZZZZZZZ';

function rejects<T>(result: Parsed<T>, code: RelayErrorCode): void {
  assert.equal(result.ok, false, `expected rejection with ${code}, got ${JSON.stringify(result)}`);
  if (!result.ok) {
    assert.equal(result.code, code);
    assert.equal(typeof result.error, 'string');
  }
}

const json = (v: unknown): string => JSON.stringify(v);

describe('isTopic / isPeerId', () => {
  test('accept the canonical shapes', () => {
    assert.ok(isTopic('0123456789abcdef'.repeat(4)));
    assert.ok(isPeerId(PEER));
  });
  test('reject near misses', () => {
    for (const t of ['A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64), '', 42, null]) assert.ok(!isTopic(t));
    for (const p of ['a'.repeat(15), 'a'.repeat(17), 'abcdefgh+/012345', 'abcdefgh=1234567', '', 7, undefined]) {
      assert.ok(!isPeerId(p));
    }
  });
});

describe('parseClientMessage', () => {
  test('valid join, leave and signal', () => {
    const key = 'k'.repeat(43); // 32 bytes
    const sig = 's'.repeat(86); // 64 bytes
    assert.deepEqual(parseClientMessage(json({ type: 'join', topic: TOPIC, key, sig })), { ok: true, value: { type: 'join', topic: TOPIC, key, sig } });
    rejects(parseClientMessage(json({ type: 'join', topic: TOPIC })), 'bad-message');
    rejects(parseClientMessage(json({ type: 'join', topic: TOPIC, key })), 'bad-message'); // unsigned
    rejects(parseClientMessage(json({ type: 'join', topic: TOPIC, key: 'short', sig })), 'bad-message');
    rejects(parseClientMessage(json({ type: 'join', topic: TOPIC, key: 'x'.repeat(42) + '/', sig })), 'bad-message');
    rejects(parseClientMessage(json({ type: 'join', topic: TOPIC, key: 'k'.repeat(44), sig })), 'bad-message');
    rejects(parseClientMessage(json({ type: 'join', topic: TOPIC, key, sig: sig.slice(1) })), 'bad-message');
    rejects(parseClientMessage(json({ type: 'join', topic: TOPIC, key, sig: 42 })), 'bad-message');
    assert.deepEqual(parseClientMessage(json({ type: 'leave', topic: TOPIC })), { ok: true, value: { type: 'leave', topic: TOPIC } });
    const signal = { type: 'signal', topic: TOPIC, to: PEER, data: 'x'.repeat(MAX_SIGNAL_DATA) };
    assert.deepEqual(parseClientMessage(json(signal)), { ok: true, value: signal });
  });

  test('the join challenge text binds the nonce and the topic', () => {
    assert.equal(joinChallengeText('N'.repeat(43), TOPIC), `meshdrop/v1/join\n${'N'.repeat(43)}\n${TOPIC}`);
    assert.notEqual(joinChallengeText('a', TOPIC), joinChallengeText('b', TOPIC));
  });

  test('drops extra fields such as a forged "from"', () => {
    const parsed = parseClientMessage(json({ type: 'signal', topic: TOPIC, to: PEER, data: 'hi', from: PEER2, extra: 1 }));
    assert.deepEqual(parsed, { ok: true, value: { type: 'signal', topic: TOPIC, to: PEER, data: 'hi' } });
  });

  test('invalid JSON', () => {
    for (const raw of ['', '{', 'nope', '{"type":"join",}', "{'type':'join'}"]) rejects(parseClientMessage(raw), 'bad-json');
  });

  test('arrays and non-objects', () => {
    for (const raw of ['[]', '[{"type":"join"}]', 'null', '42', '"join"', 'true']) rejects(parseClientMessage(raw), 'bad-message');
  });

  test('unknown or missing type', () => {
    for (const v of [{ type: 'welcome', topic: TOPIC }, { type: 'JOIN', topic: TOPIC }, { topic: TOPIC }, { type: 7 }]) {
      rejects(parseClientMessage(json(v)), 'bad-message');
    }
    // The echoed type is truncated: a huge bogus type never makes a huge error.
    const parsed = parseClientMessage(json({ type: 'x'.repeat(5000) }));
    rejects(parsed, 'bad-message');
    if (!parsed.ok) assert.ok(parsed.error.length < 100);
  });

  test('bad topic', () => {
    for (const topic of [undefined, '', 'A'.repeat(64), 'a'.repeat(63), 'room-name', 123]) {
      rejects(parseClientMessage(json({ type: 'join', topic })), 'bad-message');
      rejects(parseClientMessage(json({ type: 'leave', topic })), 'bad-message');
      rejects(parseClientMessage(json({ type: 'signal', topic, to: PEER, data: 'x' })), 'bad-message');
    }
  });

  test('bad peer id', () => {
    for (const to of [undefined, '', 'short', 'a'.repeat(17), 'has space here!!', 12]) {
      rejects(parseClientMessage(json({ type: 'signal', topic: TOPIC, to, data: 'x' })), 'bad-message');
    }
  });

  test('bad or oversize data', () => {
    for (const data of [undefined, '', 5, { sdp: 'x' }, 'x'.repeat(MAX_SIGNAL_DATA + 1)]) {
      rejects(parseClientMessage(json({ type: 'signal', topic: TOPIC, to: PEER, data })), 'bad-message');
    }
  });

  test('oversize frame is rejected before parsing', () => {
    const raw = json({ type: 'join', topic: TOPIC, pad: ' '.repeat(MAX_FRAME_BYTES) });
    assert.ok(raw.length > MAX_FRAME_BYTES);
    rejects(parseClientMessage(raw), 'too-large');
    rejects(parseClientMessage('x'.repeat(MAX_FRAME_BYTES + 1)), 'too-large'); // not even JSON
  });
});

describe('parseRelayMessage', () => {
  test('valid welcome, peer-joined, peer-left, signal and error', () => {
    const valid = [
      { type: 'welcome', topic: TOPIC, self: PEER, peers: [], size: 1 },
      { type: 'welcome', topic: TOPIC, self: PEER, peers: [PEER2], size: 2 },
      { type: 'welcome', topic: TOPIC, self: PEER, peers: [PEER2], size: MAX_PEERS_PER_ROOM },
      { type: 'peer-joined', topic: TOPIC, peer: PEER2 },
      { type: 'peer-left', topic: TOPIC, peer: PEER2 },
      { type: 'signal', topic: TOPIC, from: PEER2, data: '{"sdp":"v=0"}' },
      { type: 'error', code: 'room-full', message: 'full' },
      { type: 'error', code: 'too-many-identities', message: 'mint fewer keys' },
      { type: 'challenge', nonce: 'N'.repeat(43) },
    ];
    for (const m of valid) assert.deepEqual(parseRelayMessage(json(m)), { ok: true, value: m });
  });

  test('round-trips through encodeMessage', () => {
    const m = { type: 'signal', topic: TOPIC, from: PEER, data: 'd' } as const;
    assert.deepEqual(parseRelayMessage(encodeMessage(m)), { ok: true, value: m });
  });

  test('error messages are truncated to 200 characters', () => {
    const parsed = parseRelayMessage(json({ type: 'error', code: 'bad-json', message: 'm'.repeat(1000) }));
    assert.ok(parsed.ok && parsed.value.type === 'error' && parsed.value.message.length === 200);
  });

  test('invalid JSON, non-objects, unknown type, oversize frame', () => {
    rejects(parseRelayMessage('{'), 'bad-json');
    rejects(parseRelayMessage('[]'), 'bad-message');
    rejects(parseRelayMessage('null'), 'bad-message');
    rejects(parseRelayMessage(json({ type: 'join', topic: TOPIC })), 'bad-message'); // a client message
    rejects(parseRelayMessage(json({ type: 'challenge', nonce: 'short' })), 'bad-message');
    rejects(parseRelayMessage(json({ type: 'challenge' })), 'bad-message');
    rejects(parseRelayMessage('x'.repeat(MAX_FRAME_BYTES + 1)), 'too-large');
  });

  test('bad fields', () => {
    const invalid = [
      { type: 'welcome', topic: 'nope', self: PEER, peers: [], size: 1 },
      { type: 'welcome', topic: TOPIC, self: 'nope', peers: [], size: 1 },
      { type: 'welcome', topic: TOPIC, self: PEER, peers: 'x', size: 2 },
      { type: 'welcome', topic: TOPIC, self: PEER, peers: ['bad'], size: 2 },
      { type: 'welcome', topic: TOPIC, self: PEER, peers: Array(MAX_WELCOME_PEERS + 1).fill(PEER2), size: MAX_PEERS_PER_ROOM },
      { type: 'peer-joined', topic: TOPIC, peer: 'bad' },
      { type: 'peer-left', topic: 'bad', peer: PEER },
      { type: 'signal', topic: TOPIC, from: 'bad', data: 'x' },
      { type: 'signal', topic: TOPIC, from: PEER, data: '' },
      { type: 'signal', topic: TOPIC, from: PEER, data: 'x'.repeat(MAX_SIGNAL_DATA + 1) },
      { type: 'error', code: 'made-up', message: 'x' },
      { type: 'error', code: 'room-full' },
    ];
    for (const m of invalid) rejects(parseRelayMessage(json(m)), 'bad-message');
  });

  test('a welcome\'s size counts the list and the joiner, up to the room cap', () => {
    const list = Array.from({ length: 3 }, (_, i) => `${'p'.repeat(15)}${i}`);
    const welcome = (size: unknown) => parseRelayMessage(json({ type: 'welcome', topic: TOPIC, self: PEER, peers: list, size }));
    for (const size of [4, 5, 33, MAX_PEERS_PER_ROOM]) {
      const r = welcome(size);
      assert.ok(r.ok && r.value.type === 'welcome' && r.value.size === size, `size ${size}`);
    }
    // Fewer than the list plus us, over the cap, not a whole number, not a number, or missing.
    for (const size of [3, 0, -4, MAX_PEERS_PER_ROOM + 1, 4.5, 1e309, '4', null, [4], { valueOf: 4 }, undefined]) {
      rejects(welcome(size), 'bad-message');
    }
  });
});
