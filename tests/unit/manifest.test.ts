import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { sha256 } from '../../src/core/hash.ts';
import {
  HASH_BYTES, MAX_FILE_SIZE, MAX_PIECES, MAX_PIECE_SIZE, MIN_PIECE_SIZE, buildManifest, checkFileSize,
  pieceCountFor, pieceLength, pieceRange, pieceSizeFor, verifyManifest, verifyPiece, type Manifest,
} from '../../src/core/manifest/manifest.ts';
import type { Result } from '../../src/core/result.ts';

/**
 * Manifests are what make an untrusted peer's bytes trustworthy: these tests
 * hash real random files with node:crypto independently of the code under
 * test, then tamper with every part a hostile peer controls.
 */
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const nodeSha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

interface SharedFile {
  bytes: Uint8Array;
  pieces: Uint8Array[];
  hashes: Uint8Array[];
  /** Hex SHA-256 of the size line and the concatenated piece hashes, computed with node:crypto. */
  expectedId: string;
}

/** A random file cut into pieces the way the sharer does, hashed with node:crypto. */
function sharedFile(size: number): SharedFile {
  const bytes = new Uint8Array(randomBytes(size));
  const pieceSize = pieceSizeFor(size);
  const pieces: Uint8Array[] = [];
  for (let start = 0; start < size; start += pieceSize) pieces.push(bytes.subarray(start, Math.min(start + pieceSize, size)));
  const hashes = pieces.map((p) => new Uint8Array(nodeSha256(p)));
  const expectedId = nodeSha256(Buffer.concat([Buffer.from(`meshdrop/v2/file\n${size}\n`), ...hashes])).toString('hex');
  return { bytes, pieces, hashes, expectedId };
}

function unwrap<T>(r: Result<T>): T {
  if (!r.ok) assert.fail(`expected ok, got ${r.code}: ${r.error}`);
  return r.value;
}

function rejects<T>(r: Result<T>, code: string): void {
  assert.equal(r.ok, false, `expected rejection with ${code}, got ${JSON.stringify(r)}`);
  if (!r.ok) assert.equal(r.code, code);
}

const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

// 3 full pieces and a short 1,000-byte last one.
const SIZE = 3 * MIN_PIECE_SIZE + 1000;
const file = sharedFile(SIZE);

describe('sha256 (hash.ts)', () => {
  test('matches node:crypto, including the empty input and padding boundaries', async () => {
    const inputs: Uint8Array[] = [
      new Uint8Array(0),
      new TextEncoder().encode('abc'),
      new Uint8Array([0]),
      ...[55, 56, 63, 64, 65, 119, 120, 128].map((n) => new Uint8Array(randomBytes(n))),
      new Uint8Array(randomBytes(MiB + 3)),
    ];
    for (const input of inputs) {
      assert.equal(Buffer.from(await sha256(input)).toString('hex'), nodeSha256(input).toString('hex'), `length ${input.length}`);
    }
  });

  test('the known vectors for "" and "abc"', async () => {
    assert.equal(Buffer.from(await sha256(new Uint8Array(0))).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(
      Buffer.from(await sha256(new TextEncoder().encode('abc'))).toString('hex'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  test('hashes only the bytes of a subarray view, not its whole buffer', async () => {
    const whole = new Uint8Array(randomBytes(1000));
    const view = whole.subarray(100, 300);
    assert.deepEqual(Buffer.from(await sha256(view)), nodeSha256(Buffer.from(whole.slice(100, 300))));
  });
});

describe('pieceSizeFor', () => {
  test('is 256 KiB for small files', () => {
    for (const size of [0, 1, MIN_PIECE_SIZE, 100 * MiB]) assert.equal(pieceSizeFor(size), 256 * KiB);
  });

  test('doubles exactly at the 4,096-piece boundaries', () => {
    const cases: [number, number][] = [
      [GiB, 256 * KiB],
      [GiB + 1, 512 * KiB],
      [2 * GiB, 512 * KiB],
      [2 * GiB + 1, MiB],
      [4 * GiB, MiB],
      [4 * GiB + 1, 2 * MiB],
      [8 * GiB, 2 * MiB],
      [8 * GiB + 1, 4 * MiB],
      [16 * GiB, 4 * MiB],
    ];
    for (const [size, expected] of cases) assert.equal(pieceSizeFor(size), expected, `size ${size}`);
    assert.equal(MAX_FILE_SIZE, 16 * GiB);
  });

  test('is capped at 4 MiB even past the largest shareable file', () => {
    assert.equal(pieceSizeFor(16 * GiB + 1), MAX_PIECE_SIZE);
    assert.equal(pieceSizeFor(1024 * GiB), MAX_PIECE_SIZE);
  });

  test('is the smallest power of two that fits every shareable size in 4,096 pieces', () => {
    const sizes = [...Array(200)].map((_, i) => Math.floor((i / 199) * MAX_FILE_SIZE));
    for (const size of sizes) {
      const pieceSize = pieceSizeFor(size);
      assert.ok(pieceSize >= MIN_PIECE_SIZE && pieceSize <= MAX_PIECE_SIZE, `size ${size}`);
      assert.equal(Math.log2(pieceSize) % 1, 0, `power of two for size ${size}`);
      assert.ok(pieceCountFor(size) <= MAX_PIECES, `size ${size}`);
      if (pieceSize > MIN_PIECE_SIZE) assert.ok(Math.ceil(size / (pieceSize / 2)) > MAX_PIECES, `half would fit, size ${size}`);
    }
  });
});

describe('checkFileSize, pieceRange, pieceLength', () => {
  test('accepts whole byte counts up to 16 GiB', () => {
    for (const size of [0, 1, MAX_FILE_SIZE]) assert.equal(unwrap(checkFileSize(size)), size);
  });

  test('rejects negative, fractional, non-finite and oversized sizes', () => {
    for (const size of [-1, 1.5, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 2]) rejects(checkFileSize(size), 'bad-size');
    rejects(checkFileSize(MAX_FILE_SIZE + 1), 'too-large');
  });

  test('the last piece is short and ranges tile the file', () => {
    const m = { size: SIZE, pieceSize: MIN_PIECE_SIZE };
    assert.deepEqual(pieceRange(m, 0), { start: 0, end: MIN_PIECE_SIZE });
    assert.deepEqual(pieceRange(m, 3), { start: 3 * MIN_PIECE_SIZE, end: SIZE });
    assert.equal(pieceLength(m, 3), 1000);
    let total = 0;
    for (let i = 0; i < pieceCountFor(SIZE); i++) total += pieceLength(m, i);
    assert.equal(total, SIZE);
  });
});

describe('buildManifest', () => {
  test('its id is the SHA-256 of the concatenated piece hashes', async () => {
    assert.equal(file.pieces.length, 4);
    const m = unwrap(await buildManifest(SIZE, file.hashes, sha256));
    assert.equal(m.id, file.expectedId);
    assert.match(m.id, /^[0-9a-f]{64}$/);
    assert.equal(m.size, SIZE);
    assert.equal(m.pieceSize, MIN_PIECE_SIZE);
    assert.equal(m.pieceCount, 4);
    assert.deepEqual(m.hashes, concat(file.hashes));
  });

  test('a file of exact whole pieces has no short last piece', async () => {
    const exact = sharedFile(2 * MIN_PIECE_SIZE);
    const m = unwrap(await buildManifest(2 * MIN_PIECE_SIZE, exact.hashes, sha256));
    assert.equal(m.pieceCount, 2);
    assert.equal(m.id, exact.expectedId);
    assert.equal(pieceLength(m, 1), MIN_PIECE_SIZE);
  });

  test('an empty file has no pieces and the id of its size line alone', async () => {
    const m = unwrap(await buildManifest(0, [], sha256));
    assert.equal(m.pieceCount, 0);
    assert.equal(m.id, nodeSha256(Buffer.from('meshdrop/v2/file\n0\n')).toString('hex'));
  });

  test('refuses the wrong number of hashes and impossible sizes', async () => {
    rejects(await buildManifest(SIZE, file.hashes.slice(0, 3), sha256), 'bad-manifest');
    rejects(await buildManifest(SIZE, [...file.hashes, file.hashes[0]!], sha256), 'bad-manifest');
    rejects(await buildManifest(-1, file.hashes, sha256), 'bad-size');
    rejects(await buildManifest(MAX_FILE_SIZE + 1, file.hashes, sha256), 'too-large');
  });
});

describe('verifyManifest', () => {
  const hashes = concat(file.hashes);

  test('accepts the genuine hashes for the announced id and size', async () => {
    const m = unwrap(await verifyManifest(file.expectedId, SIZE, hashes, sha256));
    assert.deepEqual(m, { id: file.expectedId, size: SIZE, pieceSize: MIN_PIECE_SIZE, pieceCount: 4, hashes });
  });

  test('rejects one flipped bit anywhere in any hash', async () => {
    for (let bit = 0; bit < hashes.length * 8; bit++) {
      const tampered = hashes.slice();
      tampered[bit >> 3]! ^= 0x80 >> (bit & 7);
      rejects(await verifyManifest(file.expectedId, SIZE, tampered, sha256), 'bad-manifest');
    }
  });

  test('rejects a missing hash, an extra hash and a partial hash', async () => {
    rejects(await verifyManifest(file.expectedId, SIZE, hashes.subarray(0, hashes.length - HASH_BYTES), sha256), 'bad-manifest');
    rejects(await verifyManifest(file.expectedId, SIZE, concat([hashes, file.hashes[0]!]), sha256), 'bad-manifest');
    rejects(await verifyManifest(file.expectedId, SIZE, hashes.subarray(0, hashes.length - 1), sha256), 'bad-manifest');
    rejects(await verifyManifest(file.expectedId, SIZE, new Uint8Array(0), sha256), 'bad-manifest');
  });

  test('rejects the right hashes with a size that is not the sharer\'s (the size is inside the id)', async () => {
    // Same piece count and piece size, so only the id can tell: a liar's size never verifies.
    rejects(await verifyManifest(file.expectedId, SIZE - 1, hashes, sha256), 'bad-manifest');
    rejects(await verifyManifest(file.expectedId, SIZE + 1, hashes, sha256), 'bad-manifest');
  });

  test('rejects hashes in the wrong order', async () => {
    const swapped = concat([file.hashes[1]!, file.hashes[0]!, file.hashes[2]!, file.hashes[3]!]);
    rejects(await verifyManifest(file.expectedId, SIZE, swapped, sha256), 'bad-manifest');
  });

  test('rejects a wrong file id and ids that are not a SHA-256 in hex', async () => {
    const wrong = nodeSha256(new Uint8Array([1])).toString('hex');
    rejects(await verifyManifest(wrong, SIZE, hashes, sha256), 'bad-manifest');
    const notIds = ['', 'z'.repeat(64), `${file.expectedId.slice(0, 63)}g`, file.expectedId.slice(0, 62), `${file.expectedId}00`, `${file.expectedId}0`];
    for (const id of notIds) rejects(await verifyManifest(id, SIZE, hashes, sha256), 'bad-manifest');
  });

  test('rejects negative, NaN, fractional and oversized sizes', async () => {
    for (const size of [-1, NaN, 0.5, Infinity]) rejects(await verifyManifest(file.expectedId, size, hashes, sha256), 'bad-size');
    rejects(await verifyManifest(file.expectedId, MAX_FILE_SIZE + 1, hashes, sha256), 'too-large');
  });

  test('rejects a size that implies a different piece count', async () => {
    for (const size of [3 * MIN_PIECE_SIZE, 4 * MIN_PIECE_SIZE + 1, 0]) {
      rejects(await verifyManifest(file.expectedId, size, hashes, sha256), 'bad-manifest');
    }
  });

});

describe('verifyPiece', () => {
  let manifest: Manifest;
  before(async () => {
    manifest = unwrap(await buildManifest(SIZE, file.hashes, sha256));
  });

  test('accepts every genuine piece, including the short last one', async () => {
    for (let i = 0; i < file.pieces.length; i++) assert.equal(await verifyPiece(manifest, i, file.pieces[i]!, sha256), true, `piece ${i}`);
    assert.equal(file.pieces[3]!.length, 1000);
  });

  test('reassembled pieces hash to the original file', async () => {
    assert.deepEqual(nodeSha256(concat(file.pieces)), nodeSha256(file.bytes));
  });

  test('rejects a tampered piece', async () => {
    for (const i of [0, 3]) {
      for (const at of [0, file.pieces[i]!.length - 1]) {
        const tampered = file.pieces[i]!.slice();
        tampered[at]! ^= 0x01;
        assert.equal(await verifyPiece(manifest, i, tampered, sha256), false, `piece ${i} byte ${at}`);
      }
    }
  });

  test('rejects a piece of the wrong length or at the wrong index', async () => {
    const full = file.pieces[0]!;
    assert.equal(await verifyPiece(manifest, 0, full.subarray(0, full.length - 1), sha256), false);
    assert.equal(await verifyPiece(manifest, 0, concat([full, new Uint8Array(1)]), sha256), false);
    const paddedLast = concat([file.pieces[3]!, new Uint8Array(MIN_PIECE_SIZE - 1000)]);
    assert.equal(await verifyPiece(manifest, 3, paddedLast, sha256), false);
    assert.equal(await verifyPiece(manifest, 1, file.pieces[2]!, sha256), false);
    assert.equal(await verifyPiece(manifest, 0, new Uint8Array(0), sha256), false);
  });

  test('rejects out-of-range and non-integer indexes', async () => {
    for (const index of [-1, 4, 5, MAX_PIECES, NaN, 0.5, 1.5]) {
      const data = index === 4 || index === 5 ? file.pieces[3]! : file.pieces[0]!;
      assert.equal(await verifyPiece(manifest, index, data, sha256), false, `index ${index}`);
    }
  });
});
