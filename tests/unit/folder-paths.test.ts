import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { utf8 } from '../../src/core/bytes.ts';
import {
  folderPathForSharing, MAX_FOLDER_DEPTH, MAX_FOLDER_PATH, MAX_FOLDER_SEGMENT, parseFolderPath,
} from '../../src/core/folder-path.ts';
import { parseAnnouncement, signedBytes, SIGNING_CONTEXT, verifyAnnouncement, type Announcement } from '../../src/core/gossip/announcement.ts';
import { Catalogue } from '../../src/core/gossip/catalogue.ts';
import { idOf, makeKey, meta, signed, verify, type TestKey } from './helpers/gossip-keys.ts';

/** Folder paths are hostile input: one canonical form, produced by sharers and insisted on by every parser. */

const BAD_PATHS: [unknown, string][] = [
  [42, 'not a string'], [null, 'null'], ['', 'empty'], ['/etc', 'absolute'], ['photos/', 'trailing slash'],
  ['a//b', 'empty part'], ['..', 'parent'], ['a/../b', 'parent inside'], ['.', 'dot'], ['a/./b', 'dot inside'],
  ['a\\b', 'backslash'], ['C:\\Windows', 'windows absolute'], ['a/b\u0000c', 'NUL'], ['a\nb', 'newline'],
  ['a/\u202Egpj.exe', 'bidi override'], ['\u200B', 'only invisible'], [' a', 'leading space'], ['a ', 'trailing space'],
  ['a  b', 'double space (not canonical)'], [Array(MAX_FOLDER_DEPTH + 1).fill('d').join('/'), 'too deep'],
  ['x'.repeat(MAX_FOLDER_SEGMENT + 1), 'part too long'], [Array(40).fill('abcde').join('/').slice(0, MAX_FOLDER_PATH + 1), 'path too long'],
];

describe('parseFolderPath', () => {
  test('accepts canonical paths, any script', () => {
    for (const p of ['photos', 'photos/2024', 'Fotos/Urlaub am Meer', '写真/東京', 'a/b/c', Array(MAX_FOLDER_DEPTH).fill('d').join('/'), 'x'.repeat(MAX_FOLDER_SEGMENT)]) {
      assert.deepEqual(parseFolderPath(p), { ok: true, value: p }, p);
    }
  });

  test('rejects every non-canonical or dangerous path with an error value', () => {
    for (const [p, why] of BAD_PATHS) {
      const r = parseFolderPath(p);
      assert.equal(r.ok, false, `accepted ${why}`);
      if (!r.ok) assert.equal(r.code, 'bad-path', why);
    }
  });
});

describe('folderPathForSharing', () => {
  test('splits a relative path into the folder path and the name', () => {
    assert.deepEqual(folderPathForSharing('photos/2024/a.jpg', 'a.jpg'), { path: 'photos/2024', name: 'a.jpg', changed: false });
    assert.deepEqual(folderPathForSharing('', 'loose.txt'), { path: undefined, name: 'loose.txt', changed: false });
    assert.deepEqual(folderPathForSharing('a.txt', 'a.txt'), { path: undefined, name: 'a.txt', changed: false });
    assert.deepEqual(folderPathForSharing('top\\sub\\b.txt', 'b.txt'), { path: 'top/sub', name: 'b.txt', changed: false });
  });

  test('cleans folder names and says so', () => {
    assert.deepEqual(folderPathForSharing('../../etc/passwd', 'passwd'), { path: '_/_/etc', name: 'passwd', changed: true });
    assert.deepEqual(folderPathForSharing('a\u202E b/c.txt', 'c.txt'), { path: 'a b', name: 'c.txt', changed: true });
    assert.equal(folderPathForSharing(`${'x'.repeat(100)}/f`, 'f').path, 'x'.repeat(MAX_FOLDER_SEGMENT));
  });

  test('folds folders beyond the depth and length bounds into the deepest that fits', () => {
    const deep = folderPathForSharing(`${Array(30).fill('d').join('/')}/f.txt`, 'f.txt');
    assert.equal(deep.path, Array(MAX_FOLDER_DEPTH).fill('d').join('/'));
    assert.equal(deep.changed, true);
    const long = folderPathForSharing(`${Array(10).fill('y'.repeat(40)).join('/')}/f.txt`, 'f.txt');
    assert.ok(long.path!.length <= MAX_FOLDER_PATH && long.changed);
  });

  test('whatever the input, what a sharer announces passes every parser', () => {
    let x = 7;
    const pick = (s: string) => s[(x = (x * 1103515245 + 12345) >>> 0) % s.length]!;
    const alphabet = 'ab./\\ \u0000\u202E\u200B漢😀"\n:';
    for (let i = 0; i < 2000; i++) {
      const raw = Array.from({ length: (x % 90) + 1 }, () => pick(alphabet)).join('');
      const { path } = folderPathForSharing(raw, 'f');
      if (path !== undefined) assert.ok(parseFolderPath(path).ok, JSON.stringify({ raw, path }));
    }
  });
});

describe('folder paths in announcements', () => {
  let alice: TestKey;
  let withPath: Announcement;
  before(async () => {
    alice = await makeKey();
    withPath = await signed(alice, meta(1, { path: 'photos/2024' }), 5);
  });

  test('a path travels signed, and a forwarded copy keeps it', async () => {
    const parsed = parseAnnouncement(JSON.parse(JSON.stringify(withPath)));
    assert.ok(parsed.ok);
    assert.equal(parsed.value.file.path, 'photos/2024');
    assert.ok((await verifyAnnouncement(parsed.value, verify, idOf)).ok);
  });

  test('moving a file to another folder breaks the signature', async () => {
    for (const path of ['photos', undefined]) {
      const moved = { ...withPath, file: { ...withPath.file, path } };
      const r = await verifyAnnouncement(moved, verify, idOf);
      assert.equal(r.ok, false, `path ${path}`);
    }
  });

  test('a file outside any folder signs the same bytes as before folders existed', () => {
    const m = meta(2);
    const bytes = signedBytes({ origin: 'o', key: 'k', seq: 1, kind: 'add', file: m });
    assert.deepEqual(bytes, utf8(JSON.stringify([SIGNING_CONTEXT, 1, 'o', 'k', 1, 'add', m.id, m.name, m.size, m.mime])));
  });

  test('a bad path from a peer is refused as a bad announcement, never thrown', () => {
    for (const [path, why] of BAD_PATHS) {
      const r = parseAnnouncement({ ...withPath, file: { ...withPath.file, path } });
      assert.equal(r.ok, false, `accepted ${why}`);
      if (!r.ok) assert.equal(r.code, 'bad-announcement', why);
    }
  });

  test('the catalogue tells apart the same bytes under two folders', async () => {
    const bob = await makeKey();
    const c = new Catalogue();
    c.apply(withPath);
    c.apply(await signed(bob, meta(1, { path: 'backup' }), 1));
    assert.deepEqual(c.metas(meta(1).id).map((m) => m.path).sort(), ['backup', 'photos/2024']);
  });
});
