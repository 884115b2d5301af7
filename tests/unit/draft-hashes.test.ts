import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { concatBytes, toHex } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hash.ts';
import { checkRange, draftIdFor, DraftHashes, MAX_RANGE_HASHES, rangeSignedBytes } from '../../src/core/manifest/draft.ts';
import { HASH_BYTES, MAX_FILE_SIZE, MAX_PIECES, MIN_PIECE_SIZE } from '../../src/core/manifest/manifest.ts';
import { decodeFrame, encodeFrame } from '../../src/core/wire/frames.ts';
import { newTestIdentity } from './helpers/node-peer.ts';
import { verifySignature } from '../../src/core/crypto/identity.ts';

/**
 * Drafts' signed hash ranges (core/manifest/draft.ts) and their frame,
 * DRAFT_HASHES (0x12): malformed ranges are error values, a range is taken
 * only with the origin's signature, and a contradiction is caught.
 */
const ID = 'ab'.repeat(32);
const SIZE = 10 * MIN_PIECE_SIZE + 5; // 11 pieces
const hashesOf = (n: number) => new Uint8Array(randomBytes(n * HASH_BYTES));

function frameBytes(size: number, first: number, hashBytes: number, sigBytes = 64): Uint8Array {
  const head = new Uint8Array(1 + 32 + 12);
  head[0] = 0x12;
  head.set(Buffer.from(ID, 'hex'), 1);
  const v = new DataView(head.buffer);
  v.setUint32(33, Math.floor(size / 2 ** 32));
  v.setUint32(37, size % 2 ** 32);
  v.setUint32(41, first);
  return concatBytes([head, new Uint8Array(sigBytes), new Uint8Array(hashBytes)]);
}

describe('DRAFT_HASHES frame', () => {
  test('round trip keeps every field, the size past 4 GiB too', () => {
    const m = { type: 'draft-hashes' as const, fileId: ID, size: 5 * 2 ** 30 + 7, first: 3, sig: new Uint8Array(randomBytes(64)), hashes: hashesOf(2) };
    const d = decodeFrame(encodeFrame(m));
    assert.ok(d.ok);
    assert.deepEqual({ ...d.value }, { ...m });
  });

  test('malformed ranges are error values, never throws', () => {
    const cases: [string, Uint8Array][] = [
      ['no hashes', frameBytes(SIZE, 0, 0)],
      ['a partial hash', frameBytes(SIZE, 0, HASH_BYTES + 1)],
      ['past the pieces of its size', frameBytes(SIZE, 10, 2 * HASH_BYTES)],
      ['starting past the end', frameBytes(SIZE, 11, HASH_BYTES)],
      ['more than one frame of hashes', frameBytes(MAX_FILE_SIZE, 0, (MAX_RANGE_HASHES + 1) * HASH_BYTES)],
      ['a size past the largest file', frameBytes(MAX_FILE_SIZE + 1, 0, HASH_BYTES)],
      ['cut inside the signature', frameBytes(SIZE, 0, 0, 40)],
      ['an empty file has no pieces to hash', frameBytes(0, 0, HASH_BYTES)],
    ];
    for (const [what, bytes] of cases) {
      const d = decodeFrame(bytes);
      assert.equal(d.ok, false, what);
      assert.ok(!d.ok && ['ERR_FRAME_FIELD', 'ERR_FRAME_LENGTH'].includes(d.code), `${what}: ${!d.ok && d.code}`);
    }
    assert.ok(decodeFrame(frameBytes(SIZE, 10, HASH_BYTES)).ok, 'the last piece alone fits');
  });

  test('checkRange bounds a range by the file and by one frame', () => {
    assert.ok(checkRange(SIZE, 0, 11).ok);
    assert.equal(checkRange(SIZE, 0, 12).ok, false);
    assert.equal(checkRange(SIZE, -1, 1).ok, false);
    assert.equal(checkRange(MAX_FILE_SIZE, 0, MAX_RANGE_HASHES + 1).ok, false);
    assert.ok(checkRange(MAX_FILE_SIZE, MAX_PIECES - MAX_RANGE_HASHES, MAX_RANGE_HASHES).ok);
  });
});

describe('signed ranges', () => {
  const origin = newTestIdentity();
  const sign = async (first: number, hashes: Uint8Array) => ({ first, hashes, sig: await origin.sign(rangeSignedBytes(ID, SIZE, first, hashes)) });

  test('ranges signed by the origin fill the manifest; unsigned hashes stay unknown', async () => {
    const draft = new DraftHashes(ID, SIZE, origin.publicKey);
    const a = hashesOf(4);
    assert.deepEqual(await draft.add(await sign(0, a), verifySignature), { ok: true, value: 4 });
    assert.equal(draft.known.count, 4);
    assert.equal(toHex(draft.manifest.hashes.subarray(0, 4 * HASH_BYTES)), toHex(a));
    assert.equal(draft.known.get(4), false);
    // The same range again (a re-sent subscription) is fine.
    assert.ok((await draft.add(await sign(0, a), verifySignature)).ok);
  });

  test('a forged signature, another origin, another draft or size: bad-signature; nothing is taken', async () => {
    const draft = new DraftHashes(ID, SIZE, origin.publicKey);
    const h = hashesOf(2);
    const other = newTestIdentity();
    const forged = [
      { first: 0, hashes: h, sig: new Uint8Array(64) },
      { first: 0, hashes: h, sig: await other.sign(rangeSignedBytes(ID, SIZE, 0, h)) },
      { first: 0, hashes: h, sig: await origin.sign(rangeSignedBytes('cd'.repeat(32), SIZE, 0, h)) },
      { first: 0, hashes: h, sig: await origin.sign(rangeSignedBytes(ID, SIZE + 1, 0, h)) },
      { first: 1, hashes: h, sig: await origin.sign(rangeSignedBytes(ID, SIZE, 0, h)) },
    ];
    for (const r of forged) {
      const added = await draft.add(r, verifySignature);
      assert.ok(!added.ok && added.code === 'bad-signature');
    }
    assert.equal(draft.known.count, 0);
  });

  test('two signed hashes for one piece are equivocation; a range past the file is bad-range', async () => {
    const draft = new DraftHashes(ID, SIZE, origin.publicKey);
    assert.ok((await draft.add(await sign(0, hashesOf(3)), verifySignature)).ok);
    const again = await draft.add(await sign(2, hashesOf(1)), verifySignature);
    assert.ok(!again.ok && again.code === 'equivocation');
    const past = await draft.add(await sign(10, hashesOf(2)), verifySignature);
    assert.ok(!past.ok && past.code === 'bad-range');
    const throws = await draft.add(await sign(3, hashesOf(1)), async () => { throw new Error('no crypto'); });
    assert.ok(!throws.ok && throws.code === 'verify-failed');
  });

  test('a draft id is bound to its origin and nonce', async () => {
    const a = await draftIdFor('A'.repeat(16), '0'.repeat(32), sha256);
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.notEqual(a, await draftIdFor('B'.repeat(16), '0'.repeat(32), sha256));
    assert.notEqual(a, await draftIdFor('A'.repeat(16), '1'.repeat(32), sha256));
  });
});
