import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { HASH_BYTES, MAX_FILE_SIZE, MAX_PIECES, MAX_PIECE_SIZE } from '../../src/core/manifest/manifest.ts';
import { MAX_NAME_BYTES } from '../../src/core/names.ts';
import type { Result } from '../../src/core/result.ts';
import { PieceAssembler } from '../../src/core/wire/assembler.ts';
import {
  DATA_CHUNK, HASHES_PER_PART, MANIFEST_PIECE, MAX_FRAME_BYTES, MAX_JSON_BYTES, RejectReason,
  MAX_PRUNE_CANDIDATES, WIRE_VERSION, decodeFrame, encodeFrame, type WireErrorCode, type WireMessage,
} from '../../src/core/wire/frames.ts';
import { checkHello, makeHello, type Fingerprints } from '../../src/app/hello.ts';
import { peerIdFromPublicKey, verifySignature } from '../../src/core/crypto/identity.ts';
import { mulberry32 } from './helpers/random.ts';
import { newTestIdentity } from './helpers/signed-join.ts';

/**
 * The wire decoder is the first code to touch a hostile peer's bytes. Besides
 * round trips and one test per rejection rule, it is fed seeded garbage and
 * mutated valid frames: it must never throw.
 */


const ID = Buffer.from(randomBytes(HASH_BYTES)).toString('hex');
const ID_END = 1 + HASH_BYTES;
const CODES: readonly WireErrorCode[] = ['ERR_FRAME_EMPTY', 'ERR_FRAME_TOO_LARGE', 'ERR_FRAME_TYPE', 'ERR_FRAME_LENGTH', 'ERR_FRAME_FIELD'];

const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const concat = (...parts: (Uint8Array | number[])[]): Uint8Array => new Uint8Array(Buffer.concat(parts.map((p) => Uint8Array.from(p))));
const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const u16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];
const idBytes = (): Uint8Array => new Uint8Array(Buffer.from(ID, 'hex'));
/** A MANIFEST_PART's u64 size field: two big-endian u32 halves. */
const u64 = (n: number): number[] => [...u32(Math.floor(n / 2 ** 32)), ...u32(n % 2 ** 32)];
/** base64url of a 32-byte key and a 64-byte signature, as HELLO carries them (checked against the link by app/hello.ts). */
const KEY = Buffer.from(randomBytes(32)).toString('base64url');
const SIG = Buffer.from(randomBytes(64)).toString('base64url');
const hello = (name: string, version = WIRE_VERSION): WireMessage => ({ type: 'hello', version, name, key: KEY, sig: SIG });

function roundTrip(m: WireMessage): void {
  assert.deepEqual(decodeFrame(encodeFrame(m)), { ok: true, value: m });
}

function rejects(frame: Uint8Array, code: WireErrorCode, why = ''): void {
  const r = decodeFrame(frame);
  assert.equal(r.ok, false, `${why}: expected ${code}, got ${JSON.stringify(r).slice(0, 200)}`);
  if (!r.ok) {
    assert.equal(r.code, code, why);
    assert.equal(typeof r.error, 'string');
  }
}

function decoded(frame: Uint8Array): WireMessage {
  const r = decodeFrame(frame);
  if (!r.ok) assert.fail(`expected a frame, got ${r.code}: ${r.error}`);
  return r.value;
}

const announcement = {
  v: 1,
  origin: 'AbCdEfGh_-012345',
  key: KEY,
  seq: 1_700_000_000_000,
  kind: 'add',
  file: { id: ID, name: 'holiday photos.zip', size: 123_456, mime: 'application/zip' },
  hops: 6,
  sig: SIG,
};

/** At least one valid message of every type: the round-trip set and the fuzz seed corpus. */
const VALID: [string, WireMessage][] = [
  ['hello', hello('Amber Otter')],
  ['hello with a non-ASCII name of exactly MAX_NAME_BYTES', hello('é'.repeat(MAX_NAME_BYTES / 2), 7)],
  ['hello with an empty name', hello('')],
  ['gossip', { type: 'gossip', json: announcement }],
  ['catalogue', { type: 'catalogue', json: [announcement, { ...announcement, kind: 'remove' }] }],
  ['empty catalogue', { type: 'catalogue', json: [] }],
  ['audience', { type: 'audience', json: [announcement] }],
  ['ihave', { type: 'ihave', json: [`${'A'.repeat(16)}:${'0'.repeat(64)}:1`] }],
  ['iwant', { type: 'iwant', json: [] }],
  ['presence', { type: 'presence', json: { v: 1, kind: 'here' } }],
  ['mesh-signal', { type: 'mesh-signal', json: { id: 'x', src: 'A'.repeat(16), dst: 'B'.repeat(16), hops: 6, data: '1.abc', key: KEY, sig: SIG } }],
  ['query', { type: 'query', json: { id: 'Q'.repeat(16), text: 'beach 2024', hops: 3 } }],
  ['query-hit', { type: 'query-hit', json: { id: 'Q'.repeat(16), hits: [announcement] } }],
  ['prune', { type: 'prune', candidates: ['AbCdEfGh_-012345', 'A'.repeat(16)] }],
  ['prune without candidates', { type: 'prune', candidates: [] }],
  ['want-manifest', { type: 'want-manifest', fileId: ID }],
  ['manifest-part with one hash', { type: 'manifest-part', fileId: ID, part: 0, parts: 1, size: 1000, hashes: bytes(HASH_BYTES) }],
  ['manifest-part of an empty file', { type: 'manifest-part', fileId: ID, part: 0, parts: 1, size: 0, hashes: new Uint8Array(0) }],
  ['manifest-part with a size past 4 GiB (both u32 halves)', { type: 'manifest-part', fileId: ID, part: 1, parts: 2, size: 5 * 2 ** 30 + 7, hashes: bytes(HASH_BYTES) }],
  ['manifest-part of the largest file', { type: 'manifest-part', fileId: ID, part: 0, parts: 4, size: MAX_FILE_SIZE, hashes: bytes(HASH_BYTES) }],
  ['last manifest-part of four, full', { type: 'manifest-part', fileId: ID, part: 3, parts: 4, size: 4 * 2 ** 30, hashes: bytes(HASHES_PER_PART * HASH_BYTES) }],
  ['request piece 0', { type: 'request', fileId: ID, piece: 0 }],
  ['request the last possible piece', { type: 'request', fileId: ID, piece: MAX_PIECES - 1 }],
  ['cancel', { type: 'cancel', fileId: ID, piece: 17 }],
  ['reject a piece', { type: 'reject', fileId: ID, piece: 5, reason: RejectReason.busy }],
  ['reject the manifest (MANIFEST_PIECE)', { type: 'reject', fileId: ID, piece: MANIFEST_PIECE, reason: RejectReason.notFound }],
  ['data with a full 64 KiB chunk', { type: 'data', fileId: ID, piece: 2, offset: 0, bytes: bytes(DATA_CHUNK) }],
  ['data with a short last chunk', { type: 'data', fileId: ID, piece: MAX_PIECES - 1, offset: 3 * DATA_CHUNK, bytes: bytes(1234) }],
  ['data ending exactly at 4 MiB', { type: 'data', fileId: ID, piece: 0, offset: MAX_PIECE_SIZE - DATA_CHUNK, bytes: bytes(DATA_CHUNK) }],
  ['have', { type: 'have', fileId: ID, piece: 4000 }],
  ['bitfield of one byte', { type: 'bitfield', fileId: ID, bits: Uint8Array.from([0b1010_0000]) }],
  ['bitfield for 4,096 pieces', { type: 'bitfield', fileId: ID, bits: bytes(MAX_PIECES / 8) }],
  ['draft-hashes, one hash', { type: 'draft-hashes', fileId: ID, size: 1000, first: 0, sig: bytes(64), hashes: bytes(HASH_BYTES) }],
  ['draft-hashes, the last full range of the largest file', { type: 'draft-hashes', fileId: ID, size: MAX_FILE_SIZE, first: MAX_PIECES - HASHES_PER_PART, sig: bytes(64), hashes: bytes(HASHES_PER_PART * HASH_BYTES) }],
];
const VALID_MESSAGES = VALID.map(([, m]) => m);

describe('encodeFrame / decodeFrame round trip', () => {
  for (const [label, m] of VALID) test(label, () => roundTrip(m));

  test('covers every message type', () => {
    const types = new Set(VALID_MESSAGES.map((m) => m.type));
    assert.equal(types.size, 20);
  });

  test('frames carry their documented layout', () => {
    assert.deepEqual(encodeFrame({ type: 'want-manifest', fileId: ID }), concat([0x03], idBytes()));
    assert.deepEqual(encodeFrame({ type: 'mesh-signal', json: { id: 'x' } }), concat([0x11], [...Buffer.from('{"id":"x"}')]));
    assert.deepEqual(encodeFrame({ type: 'query', json: { id: 'x' } }), concat([0x15], [...Buffer.from('{"id":"x"}')]));
    assert.deepEqual(encodeFrame({ type: 'query-hit', json: { id: 'x' } }), concat([0x16], [...Buffer.from('{"id":"x"}')]));
    assert.deepEqual(encodeFrame({ type: 'audience', json: [] }), concat([0x13], [...Buffer.from('[]')]));
    assert.deepEqual(encodeFrame({ type: 'request', fileId: ID, piece: 0x0304 }), concat([0x05], idBytes(), [0, 0, 3, 4]));
    assert.deepEqual(encodeFrame({ type: 'reject', fileId: ID, piece: MANIFEST_PIECE, reason: 2 }), concat([0x07], idBytes(), [0xff, 0xff, 0xff, 0xff, 2]));
    assert.deepEqual(
      encodeFrame({ type: 'data', fileId: ID, piece: 9, offset: DATA_CHUNK, bytes: Uint8Array.from([7, 8]) }),
      concat([0x08], idBytes(), u32(9), u32(DATA_CHUNK), [7, 8]),
    );
    assert.deepEqual(encodeFrame(hello('x', 1)), concat([0x01, 0x01], json({ name: 'x', key: KEY, sig: SIG })));
    assert.deepEqual(
      encodeFrame({ type: 'manifest-part', fileId: ID, part: 1, parts: 2, size: 2 ** 32 + 5, hashes: Uint8Array.from([9]) }),
      concat([0x04], idBytes(), u16(1), u16(2), [0, 0, 0, 1, 0, 0, 0, 5], [9]),
    );
  });

  test('every frame that fits the biggest data chunk fits MAX_FRAME_BYTES', () => {
    for (const m of VALID_MESSAGES) assert.ok(encodeFrame(m).length <= MAX_FRAME_BYTES, m.type);
  });

  test('decodes a frame that is a view into a larger buffer', () => {
    const frame = encodeFrame({ type: 'data', fileId: ID, piece: 3, offset: DATA_CHUNK, bytes: Uint8Array.from([1, 2, 3]) });
    const host = new Uint8Array(frame.length + 11);
    host.set(frame, 7);
    const view = host.subarray(7, 7 + frame.length);
    assert.deepEqual(decoded(view), { type: 'data', fileId: ID, piece: 3, offset: DATA_CHUNK, bytes: Uint8Array.from([1, 2, 3]) });
  });

  test('encoding our own malformed messages is a programming error and throws', () => {
    assert.throws(() => encodeFrame({ type: 'request', fileId: 'not-hex', piece: 1 }));
    assert.throws(() => encodeFrame({ type: 'want-manifest', fileId: ID.slice(2) }));
    assert.throws(() => encodeFrame({ type: 'gossip', json: 'x'.repeat(MAX_JSON_BYTES) }));
  });
});

describe('decodeFrame rejections', () => {
  test('an empty frame', () => rejects(new Uint8Array(0), 'ERR_FRAME_EMPTY'));

  test('a PRUNE that is not at most MAX_PRUNE_CANDIDATES peer ids', () => {
    const prune = (body: unknown) => concat([0x10], new TextEncoder().encode(JSON.stringify(body)));
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `${'A'.repeat(14)}${String(i).padStart(2, '0')}`);
    assert.equal(decoded(prune({ candidates: ids(MAX_PRUNE_CANDIDATES) })).type, 'prune');
    rejects(prune({ candidates: ids(MAX_PRUNE_CANDIDATES + 1) }), 'ERR_FRAME_FIELD', 'too many');
    for (const bad of [null, [], {}, { candidates: 'x' }, { candidates: ['short'] }, { candidates: [1] }, { candidates: ['A'.repeat(16) + '!'] }]) {
      rejects(prune(bad), 'ERR_FRAME_FIELD', JSON.stringify(bad));
    }
    rejects(Uint8Array.from([0x10, 0x7b]), 'ERR_FRAME_FIELD', 'truncated JSON');
  });

  test('unknown type bytes', () => {
    for (const type of [0x00, 0x14, 0x7f, 0x80, 0xff]) {
      rejects(concat([type], idBytes(), u32(0)), 'ERR_FRAME_TYPE', `type ${type}`);
      rejects(Uint8Array.from([type]), 'ERR_FRAME_TYPE', `bare type ${type}`);
    }
  });

  test('every fixed-size frame truncated or extended by one byte', () => {
    const fixed = VALID_MESSAGES.filter((m) => ['want-manifest', 'request', 'cancel', 'have', 'reject'].includes(m.type));
    assert.equal(new Set(fixed.map((m) => m.type)).size, 5);
    for (const m of fixed) {
      const frame = encodeFrame(m);
      rejects(frame.subarray(0, frame.length - 1), 'ERR_FRAME_LENGTH', `${m.type} truncated`);
      rejects(concat(frame, [0]), 'ERR_FRAME_LENGTH', `${m.type} extended`);
    }
  });

  test('file frames cut inside the file id', () => {
    for (const type of [0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a]) {
      for (const length of [1, 2, ID_END - 1]) rejects(concat([type], idBytes()).subarray(0, length), 'ERR_FRAME_LENGTH', `type ${type}`);
    }
  });

  test('variable frames below their minimum or above their maximum', () => {
    rejects(concat([0x04], idBytes(), u16(0), u16(1)), 'ERR_FRAME_LENGTH', 'manifest part without its size');
    rejects(concat([0x04], idBytes(), u16(0), u16(1), u32(0), [0, 0, 1]), 'ERR_FRAME_LENGTH', 'manifest part with a cut size');
    rejects(concat([0x04], idBytes(), u16(0), u16(1), u64(1000), bytes((HASHES_PER_PART + 1) * HASH_BYTES)), 'ERR_FRAME_LENGTH', 'manifest part of 1,025 hashes');
    rejects(concat([0x08], idBytes(), u32(0), u32(0)), 'ERR_FRAME_LENGTH', 'data without bytes');
    rejects(concat([0x0a], idBytes()), 'ERR_FRAME_LENGTH', 'empty bitfield');
    rejects(concat([0x0a], idBytes(), bytes(MAX_PIECES / 8 + 1)), 'ERR_FRAME_LENGTH', 'bitfield for 4,104 pieces');
    rejects(Uint8Array.from([0x01]), 'ERR_FRAME_LENGTH', 'hello without a version');
  });

  test('a frame larger than MAX_FRAME_BYTES, whatever its type', () => {
    const data = encodeFrame({ type: 'data', fileId: ID, piece: 0, offset: 0, bytes: bytes(DATA_CHUNK + 1) });
    assert.equal(data.length, MAX_FRAME_BYTES + 1);
    rejects(data, 'ERR_FRAME_TOO_LARGE', 'data');
    for (const type of [0x01, 0x02, 0x0b, 0x00, 0xff]) rejects(concat([type], new Uint8Array(MAX_FRAME_BYTES)), 'ERR_FRAME_TOO_LARGE', `type ${type}`);
    assert.equal(decodeFrame(data.subarray(0, MAX_FRAME_BYTES)).ok, true);
  });

  test('a JSON body over MAX_JSON_BYTES inside an allowed frame', () => {
    const big = json({ name: 'x', pad: 'y'.repeat(MAX_JSON_BYTES) });
    rejects(concat([0x02], big), 'ERR_FRAME_TOO_LARGE', 'gossip');
    rejects(concat([0x0b], big), 'ERR_FRAME_TOO_LARGE', 'catalogue');
    rejects(concat([0x01, 1], big), 'ERR_FRAME_TOO_LARGE', 'hello');
  });

  test('data with a misaligned offset', () => {
    for (const offset of [1, DATA_CHUNK - 1, DATA_CHUNK + 1, 1000, 0xffffffff]) {
      rejects(concat([0x08], idBytes(), u32(0), u32(offset), [1]), 'ERR_FRAME_FIELD', `offset ${offset}`);
    }
  });

  test('data that runs past the end of the largest piece', () => {
    rejects(concat([0x08], idBytes(), u32(0), u32(MAX_PIECE_SIZE), [1]), 'ERR_FRAME_FIELD', 'offset at 4 MiB');
    rejects(concat([0x08], idBytes(), u32(0), u32(MAX_PIECE_SIZE - DATA_CHUNK), bytes(DATA_CHUNK + 1)), 'ERR_FRAME_TOO_LARGE');
    rejects(concat([0x08], idBytes(), u32(0), u32(0xffff0000), [1]), 'ERR_FRAME_FIELD', 'offset near 4 GiB');
  });

  test('piece numbers at or past MAX_PIECES', () => {
    for (const piece of [MAX_PIECES, MAX_PIECES + 1, 0x7fffffff, 0xffffffff]) {
      rejects(concat([0x08], idBytes(), u32(piece), u32(0), [1]), 'ERR_FRAME_FIELD', `data piece ${piece}`);
      for (const type of [0x05, 0x06, 0x09]) rejects(concat([type], idBytes(), u32(piece)), 'ERR_FRAME_FIELD', `type ${type} piece ${piece}`);
    }
    for (const piece of [MAX_PIECES, 0xfffffffe]) rejects(concat([0x07], idBytes(), u32(piece), [1]), 'ERR_FRAME_FIELD', `reject ${piece}`);
  });

  test('manifest parts with bad part numbers or a ragged hash list', () => {
    const part = (p: number, n: number, hashBytes: number) => concat([0x04], idBytes(), u16(p), u16(n), u64(1000), bytes(hashBytes));
    rejects(part(0, 0, HASH_BYTES), 'ERR_FRAME_FIELD', 'parts = 0');
    rejects(part(1, 1, HASH_BYTES), 'ERR_FRAME_FIELD', 'part = parts');
    rejects(part(5, 4, HASH_BYTES), 'ERR_FRAME_FIELD', 'part > parts');
    rejects(part(0, MAX_PIECES / HASHES_PER_PART + 1, HASH_BYTES), 'ERR_FRAME_FIELD', 'more parts than a manifest can have');
    rejects(part(0xffff, 0xffff, HASH_BYTES), 'ERR_FRAME_FIELD', 'parts = 65535');
    for (const n of [HASH_BYTES + 1, 2 * HASH_BYTES - 1, 3 * HASH_BYTES + 5]) rejects(part(0, 1, n), 'ERR_FRAME_FIELD', `${n} hash bytes`);
  });

  test('manifest parts claiming a file larger than MAX_FILE_SIZE', () => {
    const sized = (size: number[]) => concat([0x04], idBytes(), u16(0), u16(1), size, bytes(HASH_BYTES));
    assert.equal(decodeFrame(sized(u64(MAX_FILE_SIZE))).ok, true, 'the largest file is fine');
    rejects(sized(u64(MAX_FILE_SIZE + 1)), 'ERR_FRAME_FIELD', 'one byte over');
    rejects(sized([0, 0, 0, 0x10, 0, 0, 0, 0]), 'ERR_FRAME_FIELD', '64 GiB');
    rejects(sized([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 'ERR_FRAME_FIELD', '2^64 - 1 (not even a safe integer)');
  });

  test('hello with a body that is not UTF-8, not JSON, or has no valid name', () => {
    const hello = (body: Uint8Array | number[]) => concat([0x01, WIRE_VERSION], body);
    rejects(hello([0xff, 0xfe, 0x7b]), 'ERR_FRAME_FIELD', 'not UTF-8');
    rejects(hello([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]), 'ERR_FRAME_FIELD', 'invalid UTF-8 inside JSON');
    rejects(hello([0xed, 0xa0, 0x80]), 'ERR_FRAME_FIELD', 'UTF-8-encoded surrogate');
    for (const text of ['', '{', 'name', "{'name':'x'}", '{"name":"x",}']) {
      rejects(hello(new TextEncoder().encode(text)), 'ERR_FRAME_FIELD', `not JSON: ${text}`);
    }
    rejects(hello(json({ name: 'x'.repeat(MAX_NAME_BYTES + 1), key: KEY, sig: SIG })), 'ERR_FRAME_FIELD', 'name too long');
    rejects(hello(json({ name: 'é'.repeat(MAX_NAME_BYTES / 2) + 'x', key: KEY, sig: SIG })), 'ERR_FRAME_FIELD', 'name one UTF-8 byte too long');
    for (const name of [42, null, ['x'], { toString: 'x' }, undefined]) {
      rejects(hello(json({ name, key: KEY, sig: SIG })), 'ERR_FRAME_FIELD', `name ${JSON.stringify(name)}`);
    }
    for (const body of [{}, null, 'x', ['x'], 7]) rejects(hello(json(body)), 'ERR_FRAME_FIELD', `body ${JSON.stringify(body)}`);
  });

  test('hello without a well-formed identity key and signature', () => {
    const hello = (fields: Record<string, unknown>) => concat([0x01, WIRE_VERSION], json({ name: 'Amber Otter', key: KEY, sig: SIG, ...fields }));
    assert.equal(decodeFrame(hello({})).ok, true, 'the base frame is valid');
    const badKeys = [undefined, null, 42, '', KEY.slice(1), KEY + 'A', `${KEY.slice(0, -1)}=`, `${KEY.slice(0, -1)}+`, `${KEY.slice(0, -1)}/`, SIG, [KEY]];
    for (const key of badKeys) rejects(hello({ key }), 'ERR_FRAME_FIELD', `key ${JSON.stringify(key)}`);
    const badSigs = [undefined, null, 42, '', SIG.slice(1), SIG + 'A', `${SIG.slice(0, -1)}=`, `${SIG.slice(0, -1)} `, KEY, { sig: SIG }];
    for (const sig of badSigs) rejects(hello({ sig }), 'ERR_FRAME_FIELD', `sig ${JSON.stringify(sig)}`);
  });

  test('gossip and catalogue with invalid JSON or UTF-8', () => {
    for (const type of [0x02, 0x0b]) {
      for (const text of ['', '{', '{"id":', 'undefined', 'NaN', '[1,]']) {
        rejects(concat([type], new TextEncoder().encode(text)), 'ERR_FRAME_FIELD', `type ${type}: ${text}`);
      }
      rejects(concat([type], [0x22, 0xff, 0x22]), 'ERR_FRAME_FIELD', `type ${type}: not UTF-8`);
    }
  });

  test('gossip JSON that parses is passed on for the gossip layer to validate', () => {
    assert.deepEqual(decoded(concat([0x02], json(null))), { type: 'gossip', json: null });
    assert.deepEqual(decoded(concat([0x0b], json({ not: 'a list' }))), { type: 'catalogue', json: { not: 'a list' } });
  });
});

describe('HELLO binds the link to the identity (app/hello.ts)', () => {
  const TOPIC = 'topic-of-this-room';
  /** What each end of one link sees: its own certificate is `local`. */
  const aSees: Fingerprints = { local: 'AA:11', remote: 'BB:22' };
  const bSees: Fingerprints = { local: 'BB:22', remote: 'AA:11' };
  type Hello = Extract<WireMessage, { type: 'hello' }>;

  /** A's HELLO as B receives it: through the encoder and the decoder. */
  async function helloOnTheWire(...args: Parameters<typeof makeHello>): Promise<Hello> {
    const m = decoded(encodeFrame(await makeHello(...args)));
    assert.equal(m.type, 'hello');
    return m as Hello;
  }

  async function refused(m: Hello, peer: string, fps: Fingerprints | null, code: string, why: string): Promise<void> {
    const r = await checkHello(m, peer, TOPIC, fps, verifySignature, peerIdFromPublicKey);
    assert.equal(r.ok, false, `${why}: accepted`);
    if (!r.ok) assert.equal(r.code, code, why);
  }

  test('an honest HELLO is accepted and yields the key the peer id derives from', async () => {
    const alice = newTestIdentity();
    const m = await helloOnTheWire(alice, 'Alice', TOPIC, aSees);
    const r = await checkHello(m, alice.id, TOPIC, bSees, verifySignature, peerIdFromPublicKey);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.deepEqual(r.value, alice.publicKey);
  });

  test('a key other than the one the peer was admitted with is refused', async () => {
    const alice = newTestIdentity();
    const mallory = newTestIdentity();
    const m = await helloOnTheWire(mallory, 'Alice', TOPIC, aSees); // a valid HELLO, but for Mallory's identity
    await refused(m, alice.id, bSees, 'ERR_IDENTITY', 'Mallory\'s key on Alice\'s link');
  });

  test('a signature that is not by the key, or not over this link, is refused', async () => {
    const alice = newTestIdentity();
    const mallory = newTestIdentity();
    const honest = await helloOnTheWire(alice, 'Alice', TOPIC, aSees);
    const byMallory = await helloOnTheWire(mallory, 'Alice', TOPIC, aSees);
    await refused({ ...honest, sig: byMallory.sig }, alice.id, bSees, 'ERR_IDENTITY', 'Alice\'s key, Mallory\'s signature');
    const flipped = Buffer.from(honest.sig, 'base64url');
    flipped[0]! ^= 1;
    await refused({ ...honest, sig: flipped.toString('base64url') }, alice.id, bSees, 'ERR_IDENTITY', 'one bit flipped');
    // Someone in the middle ends DTLS with its own certificate: B sees another remote fingerprint.
    await refused(honest, alice.id, { local: 'BB:22', remote: 'EE:99' }, 'ERR_IDENTITY', 'a relayed HELLO (man in the middle)');
    await refused(honest, alice.id, { local: 'CC:33', remote: 'AA:11' }, 'ERR_IDENTITY', 'replayed onto a link with another receiver');
    await refused(honest, alice.id, null, 'ERR_IDENTITY', 'a link without fingerprints');
    const otherRoom = await helloOnTheWire(alice, 'Alice', 'another-room', aSees);
    await refused(otherRoom, alice.id, bSees, 'ERR_IDENTITY', 'signed for another room');
  });

  test('another wire version, or a key or signature that is not base64url, is refused without a throw', async () => {
    const alice = newTestIdentity();
    const honest = await helloOnTheWire(alice, 'Alice', TOPIC, aSees);
    await refused({ ...honest, version: WIRE_VERSION + 1 }, alice.id, bSees, 'ERR_VERSION', 'a newer version');
    await refused({ ...honest, version: 1 }, alice.id, bSees, 'ERR_VERSION', 'version 1 (no identity)');
    await refused({ ...honest, key: '!'.repeat(43) }, alice.id, bSees, 'ERR_FRAME_FIELD', 'key not base64url');
    await refused({ ...honest, sig: '' }, alice.id, bSees, 'ERR_IDENTITY', 'empty signature');
  });
});

describe('decodeFrame under fuzzing', () => {
  function checkNeverThrows(frame: Uint8Array, why: string): void {
    let r: Result<WireMessage, WireErrorCode>;
    try {
      r = decodeFrame(frame);
    } catch (e) {
      assert.fail(`${why}: decodeFrame threw ${String(e)} on ${Buffer.from(frame).toString('hex').slice(0, 200)}`);
    }
    assert.equal(typeof r.ok, 'boolean', why);
    if (!r.ok) {
      assert.ok(CODES.includes(r.code), `${why}: unknown code ${r.code}`);
      assert.equal(typeof r.error, 'string', why);
      return;
    }
    assert.ok(frame.length <= MAX_FRAME_BYTES, why);
    // Binary frames have exactly one encoding: what decodes must re-encode to the same bytes.
    if (frame[0]! >= 0x03 && frame[0]! <= 0x0a && Buffer.compare(encodeFrame(r.value), frame) !== 0) {
      assert.fail(`${why}: ${r.value.type} does not re-encode to the bytes it was decoded from`);
    }
  }

  test('20,000 random byte arrays', () => {
    const seed = 0x5eed_0001;
    const random = mulberry32(seed);
    const int = (n: number) => Math.floor(random() * n);
    for (let i = 0; i < 20_000; i++) {
      const frame = new Uint8Array(int(301));
      for (let j = 0; j < frame.length; j++) frame[j] = int(256);
      if (frame.length > 0) frame[0] = int(13);
      checkNeverThrows(frame, `seed ${seed} case ${i}`);
    }
  });

  test('20,000 mutations of valid frames', () => {
    const seed = 0x5eed_0002;
    const random = mulberry32(seed);
    const int = (n: number) => Math.floor(random() * n);
    const corpus = VALID_MESSAGES.map((m) => encodeFrame(m)).filter((f) => f.length <= 4096);
    assert.ok(corpus.length >= 15);
    for (let i = 0; i < 20_000; i++) {
      let frame: number[] = [...corpus[int(corpus.length)]!];
      for (let k = 1 + int(3); k > 0; k--) {
        const at = int(frame.length + 1);
        switch (int(5)) {
          case 0: // flip a bit
            if (frame.length > 0) frame[at % frame.length]! ^= 1 << int(8);
            break;
          case 1: // insert a byte
            frame.splice(at, 0, int(256));
            break;
          case 2: // delete a byte
            frame.splice(at, 1);
            break;
          case 3: // truncate
            frame = frame.slice(0, at);
            break;
          default: // overwrite a byte, often the type byte
            if (frame.length > 0) frame[int(2) === 0 ? 0 : at % frame.length] = int(256);
        }
      }
      checkNeverThrows(Uint8Array.from(frame), `seed ${seed} case ${i}`);
    }
  });
});

describe('PieceAssembler', () => {
  const FILE = 'ab'.repeat(HASH_BYTES);
  const OTHER_FILE = 'cd'.repeat(HASH_BYTES);

  /** A piece of 3 full chunks and a short one, as [offset, bytes] pairs. */
  function chunked(length: number): { piece: Uint8Array; chunks: [number, Uint8Array][] } {
    const piece = bytes(length);
    const chunks: [number, Uint8Array][] = [];
    for (let off = 0; off < length; off += DATA_CHUNK) chunks.push([off, piece.subarray(off, Math.min(off + DATA_CHUNK, length))]);
    return { piece, chunks };
  }

  function ok<T>(r: Result<T>): T {
    if (!r.ok) assert.fail(`expected ok, got ${r.code}: ${r.error}`);
    return r.value;
  }

  function fails(r: Result<unknown>, code: string): void {
    assert.equal(r.ok, false, `expected ${code}`);
    if (!r.ok) assert.equal(r.code, code);
  }

  const LENGTH = 3 * DATA_CHUNK + 500;

  test('assembles a piece from in-order chunks', () => {
    const { piece, chunks } = chunked(LENGTH);
    const asm = new PieceAssembler();
    asm.expect(FILE, 4, LENGTH);
    assert.ok(asm.isExpected(FILE, 4));
    const results = chunks.map(([off, b]) => ok(asm.add(FILE, 4, off, b)));
    assert.deepEqual(results.slice(0, -1), [null, null, null]);
    assert.deepEqual(results.at(-1), piece);
    assert.equal(asm.size, 0);
    assert.equal(asm.isExpected(FILE, 4), false);
  });

  test('assembles a piece from out-of-order chunks', () => {
    const { piece, chunks } = chunked(LENGTH);
    for (const order of [[3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]]) {
      const asm = new PieceAssembler();
      asm.expect(FILE, 0, LENGTH);
      const results = order.map((i) => ok(asm.add(FILE, 0, chunks[i]![0], chunks[i]![1])));
      assert.deepEqual(results.slice(0, -1), [null, null, null]);
      assert.deepEqual(results.at(-1), piece, `order ${order.join(',')}`);
    }
  });

  test('keeps interleaved pieces of several files apart', () => {
    const a = chunked(2 * DATA_CHUNK);
    const b = chunked(DATA_CHUNK + 1);
    const asm = new PieceAssembler();
    asm.expect(FILE, 1, a.piece.length);
    asm.expect(OTHER_FILE, 1, b.piece.length);
    assert.equal(ok(asm.add(FILE, 1, ...a.chunks[1]!)), null);
    assert.equal(ok(asm.add(OTHER_FILE, 1, ...b.chunks[0]!)), null);
    assert.deepEqual(ok(asm.add(OTHER_FILE, 1, ...b.chunks[1]!)), b.piece);
    assert.deepEqual(ok(asm.add(FILE, 1, ...a.chunks[0]!)), a.piece);
  });

  test('decoded DATA frames reassemble into the original piece', () => {
    const { piece, chunks } = chunked(LENGTH);
    const asm = new PieceAssembler();
    asm.expect(FILE, 9, LENGTH);
    let whole: Uint8Array | null = null;
    for (const [offset, b] of [...chunks].reverse()) {
      const m = decoded(encodeFrame({ type: 'data', fileId: FILE, piece: 9, offset, bytes: b }));
      assert.equal(m.type, 'data');
      if (m.type === 'data') whole = ok(asm.add(m.fileId, m.piece, m.offset, m.bytes));
    }
    assert.deepEqual(whole, piece);
  });

  test('unsolicited data: never expected, another piece, another file, or already complete', () => {
    const asm = new PieceAssembler();
    fails(asm.add(FILE, 0, 0, bytes(10)), 'ERR_UNSOLICITED');
    asm.expect(FILE, 0, 10);
    fails(asm.add(FILE, 1, 0, bytes(10)), 'ERR_UNSOLICITED');
    fails(asm.add(OTHER_FILE, 0, 0, bytes(10)), 'ERR_UNSOLICITED');
    assert.equal(ok(asm.add(FILE, 0, 0, bytes(10)))?.length, 10);
    fails(asm.add(FILE, 0, 0, bytes(10)), 'ERR_UNSOLICITED');
  });

  test('cancel then data is unsolicited', () => {
    const { chunks } = chunked(LENGTH);
    const asm = new PieceAssembler();
    asm.expect(FILE, 2, LENGTH);
    assert.equal(ok(asm.add(FILE, 2, ...chunks[0]!)), null);
    asm.cancel(FILE, 2);
    assert.equal(asm.size, 0);
    fails(asm.add(FILE, 2, ...chunks[1]!), 'ERR_UNSOLICITED');
  });

  test('a duplicate chunk (a cancelled request\'s frames still in flight) is ignored, and the piece still completes', () => {
    const { chunks, piece } = chunked(LENGTH);
    const asm = new PieceAssembler();
    asm.expect(FILE, 0, LENGTH);
    assert.equal(ok(asm.add(FILE, 0, ...chunks[1]!)), null);
    assert.equal(ok(asm.add(FILE, 0, ...chunks[1]!)), null, 'the repeat changes nothing');
    let whole: Uint8Array | null = null;
    for (const [i, c] of chunks.entries()) if (i !== 1) whole = ok(asm.add(FILE, 0, ...c));
    assert.deepEqual(whole, piece);
  });

  test('keepalive is one byte, and nothing else', () => {
    assert.deepEqual(decodeFrame(encodeFrame({ type: 'keepalive' })), { ok: true, value: { type: 'keepalive' } });
    rejects(Uint8Array.from([0x0c, 0]), 'ERR_FRAME_LENGTH', 'keepalive with a body');
  });

  test('a chunk of the wrong length is a chunk error', () => {
    const asm = new PieceAssembler();
    asm.expect(FILE, 0, LENGTH);
    fails(asm.add(FILE, 0, 0, bytes(DATA_CHUNK - 1)), 'ERR_CHUNK');
    fails(asm.add(FILE, 0, 0, bytes(DATA_CHUNK + 1)), 'ERR_CHUNK');
    fails(asm.add(FILE, 0, 3 * DATA_CHUNK, bytes(499)), 'ERR_CHUNK');
    fails(asm.add(FILE, 0, 3 * DATA_CHUNK, bytes(501)), 'ERR_CHUNK');
    fails(asm.add(FILE, 0, 3 * DATA_CHUNK, bytes(DATA_CHUNK)), 'ERR_CHUNK');
    fails(asm.add(FILE, 0, 0, new Uint8Array(0)), 'ERR_CHUNK');
  });

  test('a misaligned or out-of-range offset is a chunk error', () => {
    const asm = new PieceAssembler();
    asm.expect(FILE, 0, LENGTH);
    fails(asm.add(FILE, 0, 1, bytes(DATA_CHUNK)), 'ERR_CHUNK');
    fails(asm.add(FILE, 0, DATA_CHUNK / 2, bytes(DATA_CHUNK)), 'ERR_CHUNK');
    fails(asm.add(FILE, 0, 4 * DATA_CHUNK, bytes(1)), 'ERR_CHUNK');
    fails(asm.add(FILE, 0, 64 * DATA_CHUNK, bytes(DATA_CHUNK)), 'ERR_CHUNK');
    assert.ok(asm.isExpected(FILE, 0), 'a bad chunk does not complete or forget the piece');
  });

  test('a recycled piece buffer carries the next piece whole, and is lent to one piece at a time', () => {
    const asm = new PieceAssembler();
    const fill = (piece: number, data: Uint8Array) => {
      asm.expect(FILE, piece, data.length);
      let out: Uint8Array | null = null;
      for (let off = 0; off < data.length; off += DATA_CHUNK) out = ok(asm.add(FILE, piece, off, data.subarray(off, off + DATA_CHUNK)));
      return out!;
    };
    const first = bytes(LENGTH);
    const a = fill(0, first);
    assert.deepEqual(a, first);
    asm.recycle(a);
    asm.recycle(a); // twice: still lent out once
    const second = bytes(LENGTH);
    asm.expect(FILE, 1, LENGTH);
    asm.expect(FILE, 2, LENGTH);
    let b: Uint8Array | null = null;
    let c: Uint8Array | null = null;
    for (let off = 0; off < LENGTH; off += DATA_CHUNK) {
      b = ok(asm.add(FILE, 1, off, second.subarray(off, off + DATA_CHUNK)));
      c = ok(asm.add(FILE, 2, off, first.subarray(off, off + DATA_CHUNK)));
    }
    assert.notEqual(b!.buffer, c!.buffer, 'two pieces never share a buffer');
    assert.deepEqual(b, second);
    assert.deepEqual(c, first);
  });

  test('only a whole piece it gave out is recycled: not one still being filled, nor someone else\'s bytes', () => {
    const asm = new PieceAssembler();
    const { piece, chunks } = chunked(LENGTH);
    asm.recycle(piece); // never lent: ignored
    asm.expect(FILE, 3, LENGTH);
    const results = chunks.map(([off, b]) => ok(asm.add(FILE, 3, off, b)));
    assert.deepEqual(results.at(-1), piece);
    assert.notEqual(results.at(-1)!.buffer, piece.buffer);
    const other = new PieceAssembler();
    other.recycle(results.at(-1)!); // another peer's assembler did not lend it
    other.expect(FILE, 4, LENGTH);
    const more = chunked(LENGTH);
    const got = more.chunks.map(([off, b]) => ok(other.add(FILE, 4, off, b))).at(-1)!;
    assert.notEqual(got.buffer, results.at(-1)!.buffer, 'a piece still in use is not handed out again');
    assert.deepEqual(results.at(-1), piece, 'and keeps its bytes');
  });
});
