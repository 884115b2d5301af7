import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileMatches, isEmptyQuery, parseQuery, search, searchEntry, type Searchable } from '../../src/core/search.ts';

const file = (name: string, extra: Partial<Searchable> = {}): Searchable => ({ name, mime: '', ...extra });
const names = (files: Searchable[], text: string, chips: Parameters<typeof parseQuery>[1] = []) =>
  search(files.map((f) => searchEntry(f.name, f)), parseQuery(text, chips));

const ROOM = [
  file('beach.jpg', { path: 'holiday/2024', people: ['Alice'] }),
  file('Café menu.pdf', { people: ['Bob', null] }),
  file('clip.mp4', { mime: 'video/mp4', people: ['Alice', 'Bob'] }),
  file('backup.tar.gz', { otherNames: ['old-disk.tgz'] }),
  file('firmware.bin'),
];

test('every word must occur in the name, path, other names or holders, in any case and without accents', () => {
  assert.deepEqual(names(ROOM, 'BEACH'), ['beach.jpg']);
  assert.deepEqual(names(ROOM, 'holiday 2024'), ['beach.jpg']);
  assert.deepEqual(names(ROOM, 'holiday clip'), []);
  assert.deepEqual(names(ROOM, 'cafe'), ['Café menu.pdf']);
  assert.deepEqual(names(ROOM, 'old-disk'), ['backup.tar.gz']);
});

test('a person finds what someone holds by their name', () => {
  assert.deepEqual(names(ROOM, 'alice'), ['beach.jpg', 'clip.mp4']);
  assert.deepEqual(names(ROOM, 'bob alice'), ['clip.mp4']);
});

test('kinds: type: words, chips and the words people use for them', () => {
  assert.deepEqual(names(ROOM, 'type:image'), ['beach.jpg']);
  assert.deepEqual(names(ROOM, 'type:videos'), ['clip.mp4']);
  assert.deepEqual(names(ROOM, 'photos'), ['beach.jpg']);
  assert.deepEqual(names(ROOM, '', ['document', 'archive']), ['Café menu.pdf', 'backup.tar.gz']);
  assert.deepEqual(names(ROOM, 'alice', ['image']), ['beach.jpg']);
  // An unknown kind stays a word, which no file here holds.
  assert.deepEqual(names(ROOM, 'type:spreadsheet'), []);
});

test('an empty query (only spaces) matches everything, in order', () => {
  assert.ok(isEmptyQuery(parseQuery('   ')));
  assert.equal(names(ROOM, '  ').length, ROOM.length);
  assert.ok(!isEmptyQuery(parseQuery('', ['image'])));
});

test('one file matches without an index, by the same rules', () => {
  assert.ok(fileMatches(ROOM[0]!, parseQuery('Holiday Alice')));
  assert.ok(!fileMatches(ROOM[4]!, parseQuery('type:archive')));
});

test('a thousand files are searched from their entries, not re-read', () => {
  const many = Array.from({ length: 1000 }, (_, i) => file(`photo-${String(i).padStart(4, '0')}.jpg`));
  const entries = many.map((f) => searchEntry(f.name, f));
  assert.equal(search(entries, parseQuery('photo-00')).length, 100);
  assert.deepEqual(search(entries, parseQuery('photo-0042')), ['photo-0042.jpg']);
});
