import assert from 'node:assert/strict';
import { hkdfSync, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { fromBase64Url, toBase64Url } from '../../src/core/bytes.ts';
import { NAMED_ROOM_ITERATIONS, deriveRoomKeys } from '../../src/core/crypto/room-keys.ts';
import { newRoomSecret, parseRoomFragment, type Room } from '../../src/core/room.ts';

/**
 * Room keys: the topic the relay sees and the key that seals signalling are
 * both derived one-way from the secret in the URL fragment. Checked against
 * Node's own HKDF and PBKDF2, and by trying to forge, alter and re-address.
 */
const rnd = (n: number) => new Uint8Array(randomBytes(n));
const hex = (b: ArrayBuffer) => Buffer.from(b).toString('hex');
const expectedTopic = (ikm: Uint8Array | string) => hex(hkdfSync('sha256', ikm, 'meshdrop/v1', 'meshdrop/v1/topic', 32));
const random = (): Room => ({ secret: newRoomSecret((b) => b.fill(0).map(() => Math.floor(Math.random() * 256))), named: false });

describe('room keys', () => {
  test('a secret room topic is HKDF-SHA256 of the secret: 64 hex, the same for everyone, never the secret', async () => {
    const room = random();
    const keys = await deriveRoomKeys(room, rnd);
    assert.match(keys.topic, /^[0-9a-f]{64}$/);
    assert.equal(keys.topic, expectedTopic(room.secret));
    assert.equal((await deriveRoomKeys({ ...room }, rnd)).topic, keys.topic);
    assert.ok(!keys.topic.includes(Buffer.from(room.secret, 'base64url').toString('hex')));
  });

  test('a named room goes through PBKDF2 with many iterations first; names differing in case meet', async () => {
    assert.ok(NAMED_ROOM_ITERATIONS >= 100_000);
    const room = parseRoomFragment('#Book-Club')!;
    const stretched = pbkdf2Sync('book-club', 'meshdrop/v1/named-room', NAMED_ROOM_ITERATIONS, 32, 'sha256');
    const keys = await deriveRoomKeys(room, rnd);
    assert.equal(keys.topic, expectedTopic(stretched));
    assert.equal((await deriveRoomKeys(parseRoomFragment('#book-CLUB')!, rnd)).topic, keys.topic);
    assert.notEqual(keys.topic, expectedTopic('book-club'), 'not a fast hash of a guessable name');
  });

  test('different rooms get different topics', async () => {
    const topics = await Promise.all([...Array(20)].map(async () => (await deriveRoomKeys(random(), rnd)).topic));
    assert.equal(new Set(topics).size, 20);
  });

  test('sealed messages open only with the same key and the same (topic, from, to)', async () => {
    const room = random();
    const a = await deriveRoomKeys(room, rnd);
    const b = await deriveRoomKeys(room, rnd);
    const other = await deriveRoomKeys(random(), rnd);
    const sdp = JSON.stringify({ type: 'offer', sdp: 'v=0\r\na=fingerprint:sha-256 AB:CD' });
    const sealed = await a.seal('t|alice|bob', sdp);
    assert.ok(!sealed.includes('fingerprint') && !sealed.includes('offer'));
    assert.notEqual(await a.seal('t|alice|bob', sdp), sealed, 'a fresh IV every time');
    assert.equal(await b.open('t|alice|bob', sealed), sdp);
    assert.equal(await b.open('t|mallory|bob', sealed), null, 'the relay cannot re-attribute it');
    assert.equal(await b.open('t|alice|carol', sealed), null, 'nor re-address it');
    assert.equal(await other.open('t|alice|bob', sealed), null, 'another room cannot read it');
    const bytes = fromBase64Url(sealed)!;
    for (const i of [0, 12, bytes.length - 1]) {
      const tampered = bytes.slice();
      tampered[i]! ^= 1;
      assert.equal(await b.open('t|alice|bob', toBase64Url(tampered)), null, `a flipped bit at ${i} is caught`);
    }
    for (const junk of ['', 'not base64!', toBase64Url(bytes.subarray(0, 20)), 'A'.repeat(5000)]) {
      assert.equal(await b.open('t|alice|bob', junk), null);
    }
  });
});
