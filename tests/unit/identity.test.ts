import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import { peerIdFromDigest } from '../../signaling/protocol.ts';
import { verifyJoin } from '../../signaling/join-auth.ts';
import { joinChallengeText } from '../../signaling/protocol.ts';
import { toBase64Url, utf8 } from '../../src/core/bytes.ts';
import {
  PUBLIC_KEY_BYTES, SIGNATURE_BYTES, generateIdentity, identityFromSeed, openIdentity, peerIdFromPublicKey,
  verifySignature, verifySignatureSync, type StoredIdentity,
} from '../../src/core/crypto/identity.ts';
import { safetyNumber } from '../../src/core/crypto/safety-number.ts';
import { sha256 } from '../../src/core/hash.ts';
import { IDENTITY_STORE_KEY, loadOrCreateIdentity } from '../../src/app/identity-store.ts';
import { createMemoryStore } from '../../src/storage/memory-store.ts';

/**
 * Identities: Ed25519 through WebCrypto or noble, checked against Node's OpenSSL
 * (what the relay verifies with), persisted through the Store, and the safety number.
 */
const seed = (n: number) => new Uint8Array(32).fill(n);
const data = utf8('meshdrop test message');

/** A Node KeyObject for a raw public key, as the relay builds it. */
const nodeKey = (raw: Uint8Array) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(raw) }, format: 'jwk' });

describe('identity', () => {
  test('identityFromSeed is deterministic, and the relay (OpenSSL) accepts its signatures', async () => {
    const a = identityFromSeed(seed(1));
    const again = identityFromSeed(seed(1));
    assert.deepEqual(a.publicKey, again.publicKey);
    assert.equal(a.id, again.id);
    assert.notEqual(identityFromSeed(seed(2)).id, a.id);
    assert.equal(a.publicKey.length, PUBLIC_KEY_BYTES);
    const sig = await a.sign(data);
    assert.equal(sig.length, SIGNATURE_BYTES);
    assert.ok(verify(null, data, nodeKey(a.publicKey), sig));
    // RFC 8032 test 1 vector: secret 9d61b1..., public d75a98...
    const rfc = identityFromSeed(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'));
    assert.equal(Buffer.from(rfc.publicKey).toString('hex'), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    assert.throws(() => identityFromSeed(new Uint8Array(31)), /32 bytes/);
  });

  test('the peer id is peerIdFromDigest(SHA-256(public key)), as the relay derives it', () => {
    const a = identityFromSeed(seed(3));
    assert.equal(a.id, peerIdFromDigest(createHash('sha256').update(a.publicKey).digest()));
    assert.equal(peerIdFromPublicKey(a.publicKey), a.id);
    assert.match(a.id, /^[A-Za-z0-9_-]{16}$/);
    const nonce = randomBytes(32).toString('base64url');
    const topic = 'f'.repeat(64);
    return a.sign(utf8(joinChallengeText(nonce, topic))).then((sig) => {
      assert.deepEqual(verifyJoin(nonce, topic, toBase64Url(a.publicKey), toBase64Url(sig)), { ok: true, id: a.id });
      assert.equal(verifyJoin(nonce, 'e'.repeat(64), toBase64Url(a.publicKey), toBase64Url(sig)).ok, false);
    });
  });

  test('verifySignature and verifySignatureSync accept good signatures, refuse bad ones, never throw', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'));
    const sig = new Uint8Array(sign(null, data, privateKey));
    assert.equal(await verifySignature(raw, data, sig), true);
    assert.equal(verifySignatureSync(raw, data, sig), true);
    const flipped = sig.slice();
    flipped[5]! ^= 1;
    const junk: [unknown, unknown, unknown][] = [
      [raw, utf8('other message'), sig], [raw, data, flipped], [identityFromSeed(seed(4)).publicKey, data, sig],
      [raw.subarray(1), data, sig], [raw, data, sig.subarray(1)], [new Uint8Array(32).fill(0xff), data, sig],
      [null, data, sig], [raw, 'text', sig], ['key', data, sig], [raw, data, new Uint8Array(64)],
    ];
    for (const [k, d, s] of junk) {
      assert.equal(await verifySignature(k as Uint8Array, d as Uint8Array, s as Uint8Array), false);
      assert.equal(verifySignatureSync(k as Uint8Array, d as Uint8Array, s as Uint8Array), false);
    }
  });

  for (const preferWebCrypto of [true, false]) {
    test(`generateIdentity (${preferWebCrypto ? 'WebCrypto' : 'noble'}) survives a structured clone and signs`, async () => {
      const stored = await generateIdentity({ preferWebCrypto });
      assert.equal(stored.kind, preferWebCrypto ? 'webcrypto' : 'noble');
      if (stored.kind === 'webcrypto') assert.equal(stored.keys.privateKey.extractable, false, 'the private key never leaves');
      const identity = await openIdentity(structuredClone(stored));
      assert.deepEqual(identity.publicKey, stored.publicKey);
      const sig = await identity.sign(data);
      assert.ok(verify(null, data, nodeKey(identity.publicKey), sig));
      assert.equal(identity.id, peerIdFromPublicKey(stored.publicKey));
    });
  }

  test('openIdentity refuses what is not a usable identity, with a reason', async () => {
    const webcrypto = await generateIdentity();
    const noble = await generateIdentity({ preferWebCrypto: false });
    const other = await generateIdentity();
    const broken: [unknown, RegExp][] = [
      [null, /not an object/],
      [{ kind: 'noble', seed: seed(1) }, /public key/],
      [{ ...noble, seed: seed(9) }, /does not match/],
      [{ ...noble, seed: new Uint8Array(5) }, /seed/],
      [{ ...webcrypto, keys: { privateKey: 'x' } }, /private key/],
      [{ ...webcrypto, publicKey: other.publicKey }, /does not match/],
      [{ ...webcrypto, kind: 'rsa' }, /unknown kind/],
    ];
    for (const [stored, reason] of broken) await assert.rejects(openIdentity(stored as StoredIdentity), reason);
  });
});

describe('identity store', () => {
  test('creates once, then loads the same identity from the Store', async () => {
    const store = createMemoryStore();
    const kv = { get: (k: string) => store.getValue(k), set: (k: string, v: unknown) => store.setValue(k, v) };
    const first = await loadOrCreateIdentity(kv);
    assert.equal(first.created, true);
    assert.equal(first.replacedBroken, false);
    const second = await loadOrCreateIdentity(kv);
    assert.equal(second.created, false);
    assert.equal(second.identity.id, first.identity.id);
    assert.ok(verify(null, data, nodeKey(second.identity.publicKey), await second.identity.sign(data)));
  });

  test('a broken stored identity is replaced, and says so', async () => {
    const store = createMemoryStore();
    await store.setValue(IDENTITY_STORE_KEY, { kind: 'noble', seed: seed(1), publicKey: new Uint8Array(32) });
    const kv = { get: (k: string) => store.getValue(k), set: (k: string, v: unknown) => store.setValue(k, v) };
    const loaded = await loadOrCreateIdentity(kv);
    assert.equal(loaded.created, true);
    assert.equal(loaded.replacedBroken, true);
    assert.match(loaded.problem ?? '', /does not match/);
    assert.equal((await loadOrCreateIdentity(kv)).identity.id, loaded.identity.id, 'the replacement was stored');
  });

  test('memory store values are structured clones, like IndexedDB', async () => {
    const store = createMemoryStore();
    const value = { bytes: new Uint8Array([1, 2]) };
    await store.setValue('v', value);
    value.bytes[0] = 9;
    const got = (await store.getValue('v')) as typeof value;
    assert.deepEqual([...got.bytes], [1, 2]);
    got.bytes[1] = 7;
    assert.deepEqual([...((await store.getValue('v')) as typeof value).bytes], [1, 2]);
    assert.equal(await store.getValue('missing'), undefined);
    await assert.rejects(store.setValue('fn', () => 1), /could not be cloned/);
  });
});

describe('safety number', () => {
  test('the same for both sides and every session; 4 groups of 5 digits; differs per pair', async () => {
    const [a, b, c] = [seed(1), seed(2), seed(3)].map((s) => identityFromSeed(s).publicKey) as [Uint8Array, Uint8Array, Uint8Array];
    const ab = await safetyNumber(a, b, sha256);
    assert.match(ab, /^\d{5} \d{5} \d{5} \d{5}$/);
    assert.equal(await safetyNumber(b, a, sha256), ab);
    assert.equal(await safetyNumber(a.slice(), b.slice(), sha256), ab);
    assert.notEqual(await safetyNumber(a, c, sha256), ab);
    assert.notEqual(await safetyNumber(b, c, sha256), ab);
    // Derived under its own context string: not the leading digits of a bare hash of the keys.
    const bare = createHash('sha256').update(Buffer.concat([a, b].sort(Buffer.compare))).digest();
    let n = 0;
    for (const byte of bare.subarray(0, 5)) n = n * 256 + byte;
    assert.notEqual(ab.slice(0, 5), String(n % 100_000).padStart(5, '0'));
  });

  test('a fixed pair gives a fixed number (known answer)', async () => {
    const ab = await safetyNumber(new Uint8Array(32), new Uint8Array(32).fill(1), sha256);
    const digest = createHash('sha256').update(Buffer.concat([
      Buffer.from('meshdrop/v1/safety-number'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 1),
    ])).digest();
    const groups = [0, 1, 2, 3].map((g) => String(digest.readUIntBE(g * 5, 5) % 100_000).padStart(5, '0'));
    assert.equal(ab, groups.join(' '));
  });
});
