import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { safeFileName } from '../../src/core/filename.ts';
import { MAX_DISPLAY_NAME, cleanDisplayName, randomDisplayName } from '../../src/core/names.ts';
import { MAX_ROOM_NAME, newRoomSecret, parseRoomFragment, roomFragmentForName } from '../../src/core/room.ts';

const random = (b: Uint8Array): Uint8Array => {
  b.set(randomBytes(b.length));
  return b;
};
const filledWith = (byte: number) => (b: Uint8Array): Uint8Array => b.fill(byte);

describe('newRoomSecret', () => {
  test('is 22 base64url characters carrying 128 random bits', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const secret = newRoomSecret(random);
      assert.match(secret, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(Buffer.from(secret, 'base64url').length, 16);
      seen.add(secret);
    }
    assert.equal(seen.size, 1000);
  });

  test('encodes exactly the random bytes, with URL-safe characters', () => {
    const bytes = Uint8Array.from([0xfb, 0xff, 0xbf, ...Array(13).fill(0x01)]);
    const secret = newRoomSecret((b) => (b.set(bytes), b));
    assert.deepEqual(new Uint8Array(Buffer.from(secret, 'base64url')), bytes);
    assert.equal(secret.slice(0, 4), '-_-_', 'base64 "+/+/" in its URL-safe form');
    assert.equal(newRoomSecret(filledWith(0xff)).length, 22);
  });

  test('parses back as the same, unnamed room', () => {
    const secret = newRoomSecret(random);
    assert.deepEqual(parseRoomFragment(`#${secret}`), { secret, named: false });
  });
});

describe('parseRoomFragment', () => {
  const SECRET = 'AbCdEfGhIjKlMnOpQrSt_-';

  test('a secret is kept exactly, with or without the #', () => {
    assert.deepEqual(parseRoomFragment(`#${SECRET}`), { secret: SECRET, named: false });
    assert.deepEqual(parseRoomFragment(SECRET), { secret: SECRET, named: false });
  });

  test('a typed name is a named room, lowercased', () => {
    assert.deepEqual(parseRoomFragment('#My-Family'), { secret: 'my-family', named: true });
    assert.deepEqual(parseRoomFragment('#caf%C3%A9'), { secret: 'café', named: true });
    assert.deepEqual(parseRoomFragment('#CAF%C3%89'), { secret: 'café', named: true });
    assert.deepEqual(parseRoomFragment(`#${SECRET}x`), { secret: SECRET.toLowerCase() + 'x', named: true }, '23 characters is a name');
  });

  test('no fragment, or only whitespace, is the landing page', () => {
    for (const hash of ['', '#', '#%20%20', '#   ', '#%09']) assert.equal(parseRoomFragment(hash), null, JSON.stringify(hash));
  });

  test('a malformed %-escape is not a room', () => {
    for (const hash of ['#%E0%A4%A', '#%', '#abc%zz', '#%C3']) assert.equal(parseRoomFragment(hash), null, hash);
  });

  test('surrounding whitespace is trimmed', () => {
    assert.deepEqual(parseRoomFragment('#%20%20Family%20'), { secret: 'family', named: true });
    assert.deepEqual(parseRoomFragment(`#%20${SECRET}%20`), { secret: SECRET, named: false });
  });

  test('names longer than MAX_ROOM_NAME characters (after decoding) are refused', () => {
    assert.deepEqual(parseRoomFragment(`#${'a'.repeat(MAX_ROOM_NAME)}`), { secret: 'a'.repeat(MAX_ROOM_NAME), named: true });
    assert.equal(parseRoomFragment(`#${'a'.repeat(MAX_ROOM_NAME + 1)}`), null);
    assert.deepEqual(parseRoomFragment(`#${'%41'.repeat(MAX_ROOM_NAME)}`), { secret: 'a'.repeat(MAX_ROOM_NAME), named: true });
  });
});

describe('named rooms with the name: marker', () => {
  const KEY_LIKE = 'abcdefghijklmnopqrstuv'; // 22 letters: the shape of a random key

  test('#name:<anything> is a named room, trimmed and lowercased', () => {
    assert.deepEqual(parseRoomFragment(`#name:${KEY_LIKE}`), { secret: KEY_LIKE, named: true });
    assert.deepEqual(parseRoomFragment('#name:AbCdEfGhIjKlMnOpQrSt_-'), { secret: 'abcdefghijklmnopqrst_-', named: true });
    assert.deepEqual(parseRoomFragment('#name:%20Book%20Club%20'), { secret: 'book club', named: true });
    assert.deepEqual(parseRoomFragment('#NAME:Family'), { secret: 'family', named: true }, 'the marker is read case-insensitively');
    assert.deepEqual(parseRoomFragment('#name%3Afamily'), { secret: 'family', named: true }, 'an encoded colon is the same marker');
    assert.deepEqual(parseRoomFragment('#name:name:x'), { secret: 'name:x', named: true }, 'only the first marker is one');
    assert.deepEqual(parseRoomFragment('#name:caf%C3%A9'), { secret: 'café', named: true });
  });

  test('#name: with nothing after it, or too long a name, is not a room', () => {
    for (const hash of ['#name:', '#name:%20%20', `#name:${'a'.repeat(MAX_ROOM_NAME + 1)}`]) assert.equal(parseRoomFragment(hash), null, hash);
    assert.deepEqual(parseRoomFragment(`#name:${'a'.repeat(MAX_ROOM_NAME)}`), { secret: 'a'.repeat(MAX_ROOM_NAME), named: true });
  });

  test('the same name typed composed or decomposed is the same room', () => {
    const composed = parseRoomFragment(`#${encodeURIComponent('Caf\u00e9')}`);
    const decomposed = parseRoomFragment(`#${encodeURIComponent('Cafe\u0301')}`);
    assert.deepEqual(decomposed, composed);
    assert.deepEqual(composed, { secret: 'caf\u00e9', named: true });
  });
});

describe('roomFragmentForName (the Join box)', () => {
  const join = (typed: string) => parseRoomFragment(`#${roomFragmentForName(typed)}`);

  test('an ordinary name is the plain encoded name', () => {
    assert.equal(roomFragmentForName('my-family'), 'my-family');
    assert.equal(roomFragmentForName('  Book Club '), 'Book%20Club');
    assert.equal(roomFragmentForName('café'), 'caf%C3%A9');
    assert.equal(roomFragmentForName('a#b?c'), 'a%23b%3Fc');
    assert.equal(roomFragmentForName('100%'), '100%25');
  });

  test('a blank name has no fragment', () => {
    for (const typed of ['', '   ', '\t\n']) assert.equal(roomFragmentForName(typed), '', JSON.stringify(typed));
  });

  test('a typed name shaped like a random key gets the marker and stays a (stretched, lowercased) name', () => {
    for (const typed of ['abcdefghijklmnopqrstuv', 'ABCDEFGHIJKLMNOPQRSTUV', 'our_family-photos-2024', '0123456789012345678901', ' abcdefghijklmnopqrstuv ']) {
      const fragment = roomFragmentForName(typed);
      assert.ok(fragment.startsWith('name:'), typed);
      assert.deepEqual(join(typed), { secret: typed.trim().toLowerCase(), named: true }, typed);
    }
  });

  test('21 or 23 such characters need no marker: they could never be a key', () => {
    assert.equal(roomFragmentForName('abcdefghijklmnopqrstu'), 'abcdefghijklmnopqrstu');
    assert.equal(roomFragmentForName('abcdefghijklmnopqrstuvw'), 'abcdefghijklmnopqrstuvw');
  });

  test('"share" is the share picker\'s fragment, so a room typed as "share" gets the marker', () => {
    assert.equal(roomFragmentForName('share'), 'name:share');
    assert.equal(roomFragmentForName(' Share '), 'name:Share');
    assert.deepEqual(join('share'), { secret: 'share', named: true });
    assert.equal(roomFragmentForName('shared'), 'shared');
  });

  test('a name that starts with the marker keeps it as part of the name', () => {
    assert.equal(roomFragmentForName('name:x'), 'name:name%3Ax');
    assert.deepEqual(join('name:x'), { secret: 'name:x', named: true });
    assert.deepEqual(join('Name:X'), { secret: 'name:x', named: true });
    assert.deepEqual(join('name:'), { secret: 'name:', named: true });
  });

  test('every typed name comes back as the named room of that name', () => {
    const names = ['my-family', 'Book Club', 'café', 'Ünïcödé 名前', '%41%42', 'a%zz', '#hash', 'a/b?c=d&e', 'x'.repeat(MAX_ROOM_NAME), '👩‍👩‍👧‍👦', 'AbCdEfGhIjKlMnOpQrSt_-'];
    for (const typed of names) assert.deepEqual(join(typed), { secret: typed.normalize('NFC').toLowerCase(), named: true }, typed);
  });

  test('a started room (random key) is still not named', () => {
    const secret = newRoomSecret(random);
    assert.deepEqual(parseRoomFragment(`#${secret}`), { secret, named: false });
  });
});

describe('display names', () => {
  test('randomDisplayName picks an adjective and an animal', () => {
    assert.equal(randomDisplayName(() => 0), 'Amber Otter');
    assert.equal(randomDisplayName(() => 0.999999), 'Zesty Yak');
    assert.match(randomDisplayName(Math.random), /^[A-Z][a-z]+ [A-Z][a-z]+$/);
  });

  test('cleanDisplayName removes control, zero-width and bidi override characters', () => {
    assert.equal(cleanDisplayName('Amber\u202eOtter'), 'AmberOtter');
    assert.equal(cleanDisplayName('a\u0000b\u0007c\nd\u001fe\u007ff\u0085g\u009fh'), 'abcdefgh');
    assert.equal(cleanDisplayName('x\u200by\u200cz\u200d\u200e\u200f'), 'xyz');
    assert.equal(cleanDisplayName('\u202a\u202b\u202c\u202dname'), 'name');
  });

  // FAILS today: the bidi isolates U+2066-U+2069 (LRI, RLI, FSI, PDI) reorder
  // text just like U+202A-U+202E; safeFileName strips them, cleanDisplayName does not.
  test('cleanDisplayName removes the bidi isolates U+2066-U+2069', () => {
    assert.equal(cleanDisplayName('\u2067Alice\u2069 \u2066Bob\u2068'), 'Alice Bob');
  });

  test('cleanDisplayName trims and bounds the length', () => {
    assert.equal(cleanDisplayName('  Amber Otter \t'), 'Amber Otter');
    assert.equal(cleanDisplayName('x'.repeat(100)).length, MAX_DISPLAY_NAME);
    assert.equal(cleanDisplayName(`\u202e${'y'.repeat(MAX_DISPLAY_NAME)}`), 'y'.repeat(MAX_DISPLAY_NAME));
    assert.equal(cleanDisplayName(''), '');
    assert.equal(cleanDisplayName('\u0000\u202e  '), '');
  });

  test('cleanDisplayName keeps ordinary non-ASCII names', () => {
    assert.equal(cleanDisplayName('Zoë Ångström 李'), 'Zoë Ångström 李');
  });
});

describe('safeFileName', () => {
  test('keeps ordinary names', () => {
    for (const name of ['report.pdf', 'my file (1).txt', 'photo.JPG', 'Zoë.png', 'archive.tar.gz']) assert.equal(safeFileName(name), name);
  });

  test('keeps only the basename of any path', () => {
    assert.equal(safeFileName('../../etc/passwd'), 'passwd');
    assert.equal(safeFileName('a\\b\\c.txt'), 'c.txt');
    assert.equal(safeFileName('C:\\Windows\\system32\\evil.dll'), 'evil.dll');
    assert.equal(safeFileName('a/b\\..\\c/d.txt'), 'd.txt');
    assert.equal(safeFileName('dir/'), 'download');
  });

  test('prefixes Windows-reserved device names', () => {
    assert.equal(safeFileName('CON'), '_CON');
    assert.equal(safeFileName('con.txt'), '_con.txt');
    for (const name of ['prn', 'AUX', 'nul.tar.gz', 'com1', 'COM9.log', 'lpt3.txt', 'con.']) assert.ok(safeFileName(name).startsWith('_'), name);
    for (const name of ['console.txt', 'icon.png', 'com10', 'nullable.js']) assert.equal(safeFileName(name), name);
  });

  test('removes control and bidi characters', () => {
    assert.equal(safeFileName('a\u0000b\nc\u001f.txt'), 'abc.txt');
    assert.equal(safeFileName('invoice\u202egpj.exe'), 'invoicegpj.exe');
    assert.equal(safeFileName('\u2066x\u2067y\u2068z\u2069\u200b.txt'), 'xyz.txt');
    assert.equal(safeFileName('\u007f\u009f'), 'download');
  });

  test('replaces characters Windows forbids', () => {
    assert.equal(safeFileName('<>:"|?*'), '_______');
    assert.equal(safeFileName('what?: "a" <b>.txt'), 'what__ _a_ _b_.txt');
  });

  test('strips leading dots and trailing dots and spaces', () => {
    assert.equal(safeFileName('...'), 'download');
    assert.equal(safeFileName('..'), 'download');
    assert.equal(safeFileName('.bashrc'), 'bashrc');
    assert.equal(safeFileName('notes.txt. . '), 'notes.txt');
    assert.equal(safeFileName('  spaced.txt  '), 'spaced.txt');
  });

  test('an empty name becomes "download"', () => {
    assert.equal(safeFileName(''), 'download');
    assert.equal(safeFileName('   '), 'download');
  });

  test('a very long name is cut to 200 characters, keeping its extension', () => {
    const long = safeFileName(`${'a'.repeat(300)}.txt`);
    assert.equal(long.length, 200);
    assert.ok(long.endsWith('.txt'));
    assert.equal(safeFileName(`${'b'.repeat(500)}.tar.gz`).slice(-3), '.gz');
    const noExt = safeFileName('c'.repeat(300));
    assert.equal(noExt, 'c'.repeat(200));
    const hugeExt = safeFileName(`d.${'e'.repeat(300)}`);
    assert.ok(hugeExt.length <= 200);
    assert.equal(safeFileName(`${'f'.repeat(200)}`).length, 200);
  });
});
