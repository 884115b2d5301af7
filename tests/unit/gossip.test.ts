import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { fromBase64Url, toBase64Url, utf8 } from '../../src/core/bytes.ts';
import {
  MAX_ANNOUNCEMENT_BYTES, MAX_FILE_NAME, MAX_HOPS, MAX_MIME, parseAnnouncement, signedBytes, verifyAnnouncement, type Announcement,
} from '../../src/core/gossip/announcement.ts';
import { packByBytes } from '../../src/core/gossip/pack.ts';
import { MAX_FOLDER_DEPTH, MAX_FOLDER_PATH, MAX_FOLDER_SEGMENT } from '../../src/core/folder-path.ts';
import { MAX_AUDIENCE } from '../../src/core/gossip/audience.ts';
import { MAX_FILE_SIZE } from '../../src/core/manifest/manifest.ts';
import { MAX_JSON_BYTES } from '../../src/core/wire/frames.ts';
import { fileId, idOf, makeKey, meta, signed, verify, type TestKey } from './helpers/gossip-keys.ts';

let alice: TestKey;
let bob: TestKey;
let valid: Announcement;
before(async () => {
  [alice, bob] = await Promise.all([makeKey(), makeKey()]);
  valid = await signed(alice, { id: 'f'.repeat(64), name: 'notes.txt', size: 42, mime: 'text/plain' }, 1_700_000_000_000, 'add', 3);
});

describe('parseAnnouncement', () => {
  type Fields = Record<string, unknown>;
  const withField = (field: string, value: unknown): Fields => ({ ...valid, [field]: value });
  const withFile = (field: string, value: unknown): Fields => ({ ...valid, file: { ...valid.file, [field]: value } });
  const without = (field: string): Fields => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field));

  function rejects(v: unknown, why: string): void {
    const r = parseAnnouncement(v);
    assert.equal(r.ok, false, `accepted ${why}`);
    if (!r.ok) assert.equal(r.code, 'bad-announcement', why);
  }

  test('accepts a valid announcement and keeps only known fields', () => {
    assert.deepEqual(parseAnnouncement(JSON.parse(JSON.stringify(valid))), { ok: true, value: valid });
    const noisy = { ...valid, extra: 'x', file: { ...valid.file, owner: '/etc/passwd' } };
    assert.deepEqual(parseAnnouncement(noisy), { ok: true, value: valid });
  });

  test('accepts the edges of every range', () => {
    for (const v of [
      withField('hops', 0), withField('hops', MAX_HOPS), withField('kind', 'remove'), withField('seq', 0),
      withField('seq', Number.MAX_SAFE_INTEGER), withFile('name', 'n'.repeat(MAX_FILE_NAME)), withFile('mime', 'm'.repeat(MAX_MIME)),
      withFile('mime', ''), withFile('size', 0), withFile('size', MAX_FILE_SIZE),
    ]) {
      assert.equal(parseAnnouncement(v).ok, true, JSON.stringify(v).slice(0, 120));
    }
  });

  test('rejects non-objects', () => {
    for (const v of [null, undefined, [], [valid], 'x', 42, true, JSON.stringify(valid)]) rejects(v, `${JSON.stringify(v)}`.slice(0, 60));
  });

  test('rejects a missing or unknown version', () => {
    for (const v of [undefined, 0, 2, '1', null]) rejects(withField('v', v), `v ${String(v)}`);
    rejects(without('v'), 'missing v');
  });

  test('rejects a bad origin', () => {
    for (const origin of [undefined, null, 1, '', 'a'.repeat(15), 'a'.repeat(17), 'abcdefgh+/012345', 'abcdefgh 1234567']) {
      rejects(withField('origin', origin), `origin ${String(origin)}`);
    }
  });

  test('rejects a key or signature that is not canonical base64url of the right length', () => {
    const key = valid.key;
    const sig = valid.sig;
    for (const k of [undefined, 7, '', key.slice(1), `${key}A`, `${key.slice(0, -1)}+`, `${key}=`, toBase64Url(new Uint8Array(33))]) {
      rejects(withField('key', k), `key ${String(k)}`);
    }
    // 43 characters carry 258 bits: with a spare bit set, another spelling decodes to the same 32 bytes.
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sloppyKey = key.slice(0, -1) + ALPHABET[ALPHABET.indexOf(key.at(-1)!) ^ 1];
    assert.deepEqual(fromBase64Url(sloppyKey), fromBase64Url(key), 'same bytes, other spelling');
    rejects(withField('key', sloppyKey), 'non-canonical key');
    for (const s of [undefined, '', sig.slice(2), `${sig}AA`, toBase64Url(new Uint8Array(63))]) rejects(withField('sig', s), `sig ${String(s)}`);
  });

  test('rejects a seq that is negative, fractional or unsafe', () => {
    for (const seq of [-1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1, '5', null, undefined]) rejects(withField('seq', seq), `seq ${String(seq)}`);
  });

  test('rejects hops out of range or not a whole number', () => {
    for (const hops of [-1, MAX_HOPS + 1, 1000, 1.5, NaN, Infinity, '3', null, undefined]) rejects(withField('hops', hops), `hops ${String(hops)}`);
  });

  test('rejects an unknown kind', () => {
    for (const kind of ['added', 'ADD', '', null, 1, undefined]) rejects(withField('kind', kind), `kind ${String(kind)}`);
  });

  test('rejects a bad file', () => {
    for (const file of [undefined, null, 'x', 42, []]) rejects(withField('file', file), `file ${JSON.stringify(file)}`);
    for (const id of [undefined, 1, '', 'f'.repeat(63), 'f'.repeat(65), 'F'.repeat(64), 'x'.repeat(64)]) rejects(withFile('id', id), `file id ${String(id)}`);
    for (const name of ['', 'n'.repeat(MAX_FILE_NAME + 1), undefined, null, 5, ['a']]) rejects(withFile('name', name), `name ${String(name).slice(0, 20)}`);
    for (const size of [-1, 1.5, NaN, Infinity, MAX_FILE_SIZE + 1, '42', null, undefined]) rejects(withFile('size', size), `size ${String(size)}`);
    for (const mime of ['m'.repeat(MAX_MIME + 1), undefined, null, 0]) rejects(withFile('mime', mime), `mime ${String(mime).slice(0, 20)}`);
  });
});

describe('announcement size bound', () => {
  const worstStrings = {
    'control characters (\\u00XX, 6 bytes each)': '\u0001',
    'lone surrogates (\\udXXX, 6 bytes each)': '\ud800',
    '4-byte UTF-8 characters (2 code units each)': '😀',
    'CJK (3 bytes each)': '漢',
    'quotes (2 bytes each)': '"',
  };
  // A path must be canonical (no controls, no lone surrogates), so its worst is 3 UTF-8 bytes per code unit: as
  // many '漢' as the bounds allow, with the fewest '/' between (each part at most MAX_FOLDER_SEGMENT).
  const parts: string[] = [];
  for (let left = MAX_FOLDER_PATH; left > 0; left -= MAX_FOLDER_SEGMENT + 1) parts.push('漢'.repeat(Math.min(MAX_FOLDER_SEGMENT, left)));
  const worstPath = parts.join('/');
  test('the worst folder path is a canonical one at the bounds', () => {
    assert.ok(worstPath.length === MAX_FOLDER_PATH && parts.length <= MAX_FOLDER_DEPTH);
  });
  for (const [what, unit] of Object.entries(worstStrings)) {
    test(`any accepted announcement fits in MAX_ANNOUNCEMENT_BYTES: ${what}`, () => {
      const fill = (units: number) => unit.repeat(Math.floor(units / unit.length));
      // The most of everything: a `was`, and an audience of MAX_AUDIENCE ids with the origin among them.
      const audience = [...Array.from({ length: MAX_AUDIENCE - 1 }, (_, i) => `z${String(i).padStart(15, '0')}`), valid.origin].sort();
      const worst = {
        ...valid, seq: Number.MAX_SAFE_INTEGER, hops: MAX_HOPS, kind: 'add', was: 'e'.repeat(64),
        file: { id: 'f'.repeat(64), name: fill(MAX_FILE_NAME), size: MAX_FILE_SIZE, mime: fill(MAX_MIME), path: worstPath, audience },
      };
      const parsed = parseAnnouncement(worst);
      assert.ok(parsed.ok, 'the worst case is accepted');
      const bytes = utf8(JSON.stringify(parsed.value)).length;
      assert.ok(bytes <= MAX_ANNOUNCEMENT_BYTES, `${bytes} bytes > ${MAX_ANNOUNCEMENT_BYTES}`);
    });
  }

  test('a catalogue frame always has room for several announcements', () => {
    // "[" a "," b ... "]": the array wrapper costs 2 bytes plus a comma between items.
    assert.ok(2 + 6 * MAX_ANNOUNCEMENT_BYTES + 5 <= MAX_JSON_BYTES);
  });
});

describe('signatures', () => {
  test('a signed announcement verifies; the origin must be its key\'s id', async () => {
    assert.equal(valid.origin, idOf(fromBase64Url(valid.key)!));
    assert.deepEqual(await verifyAnnouncement(valid, verify, idOf), { ok: true, value: valid });
    const wrongOrigin = await verifyAnnouncement({ ...valid, origin: bob.id }, verify, idOf);
    assert.equal(wrongOrigin.ok ? 'ok' : wrongOrigin.code, 'bad-origin');
  });

  test('forwarders may change hops, and only hops', async () => {
    assert.equal((await verifyAnnouncement({ ...valid, hops: 0 }, verify, idOf)).ok, true);
    const tampered: Announcement[] = [
      { ...valid, seq: valid.seq + 1 }, { ...valid, kind: 'remove' },
      { ...valid, file: { ...valid.file, size: 43 } }, { ...valid, file: { ...valid.file, name: 'notes.txt ' } },
      { ...valid, file: { ...valid.file, mime: 'text/html' } }, { ...valid, file: { ...valid.file, id: fileId(5) } },
      { ...valid, key: toBase64Url(bob.publicKey), origin: bob.id }, // Alice's signature, passed off as Bob's
    ];
    for (const a of tampered) {
      const r = await verifyAnnouncement(a, verify, idOf);
      assert.equal(r.ok ? 'ok' : r.code, 'bad-signature', JSON.stringify(a).slice(0, 100));
    }
  });

  test('signedBytes is a fixed-order array with a context string, without hops or sig', () => {
    const text = new TextDecoder().decode(signedBytes(valid));
    assert.deepEqual(JSON.parse(text), ['meshdrop/v1/announce', 1, valid.origin, valid.key, valid.seq, 'add', valid.file.id, 'notes.txt', 42, 'text/plain']);
    const forwarded: Announcement = { ...valid, hops: 0 };
    assert.deepEqual(signedBytes(forwarded), signedBytes(valid));
  });

  test('a verifier that throws is a failure to verify, not proof against the sender', async () => {
    const r = await verifyAnnouncement(valid, async () => {
      throw new Error('no Ed25519 here');
    }, idOf);
    assert.equal(r.ok ? 'ok' : r.code, 'verify-failed');
  });
});

describe('packByBytes', () => {
  const size = (chunk: unknown[]) => utf8(JSON.stringify(chunk)).length;

  test('every chunk fits, order is kept and nothing is lost', () => {
    const items = Array.from({ length: 500 }, (_, i) => ({ n: i, name: '漢字'.repeat(i % 97), pad: 'x'.repeat((i * 37) % 300) }));
    // The largest item is ~900 bytes.
    for (const max of [1000, 4096, MAX_JSON_BYTES]) {
      const chunks = packByBytes(items, max);
      for (const c of chunks) assert.ok(size(c) <= max, `${size(c)} > ${max}`);
      assert.deepEqual(chunks.flat(), items);
    }
  });

  test('chunks are full: each would overflow with the next item', () => {
    const items = Array.from({ length: 100 }, (_, i) => 'é'.repeat(i));
    const chunks = packByBytes(items, 1000);
    for (let i = 0; i + 1 < chunks.length; i++) assert.ok(size([...chunks[i]!, chunks[i + 1]![0]]) > 1000);
  });

  test('an item exactly filling the limit gets a chunk of its own; a bigger one is left out and reported', () => {
    const exact = 'a'.repeat(96); // ["aaa…"] is 100 bytes
    const tooBig = 'b'.repeat(97);
    const left: unknown[] = [];
    assert.deepEqual(packByBytes(['x', exact, tooBig, 'y'], 100, (item) => left.push(item)), [['x'], [exact], ['y']]);
    assert.deepEqual(left, [tooBig]);
    assert.deepEqual(packByBytes([], 100), []);
  });
});
