import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FileView } from '../../src/app/state.ts';
import { sameRow, type FileIntents } from '../../src/ui/FileRow.tsx';
import type { Selection } from '../../src/ui/SelectionBar.tsx';
import { sameData } from '../../src/ui/skip-unchanged.ts';

/**
 * A file row skips a render only when nothing it shows changed. The state is
 * rebuilt on every read, so "unchanged" means equal by value: a row must skip
 * a fresh copy of the same file, and must never skip a change it would show.
 */
function view(over: Partial<FileView> = {}): FileView {
  return {
    meta: { id: 'f1', name: 'film.mp4', size: 1000, mime: 'video/mp4', path: 'holiday' },
    otherNames: ['clip.mp4'],
    holders: [{ id: 'p1', name: 'Bob', self: false, share: 0.5 }, { id: 'me', name: 'Ann', self: true, share: 1 }],
    status: 'downloading', sharedByMe: false, repairing: false, bytesDone: 400, speed: 100, secondsLeft: 6, sources: 1,
    error: null, saveReady: false, preparing: false, fetchedBy: null, audience: null,
    ...over,
  };
}

const noop = () => undefined;
const intents: FileIntents = { download: noop, cancel: noop, save: noop, read: async () => null, pause: noop, resume: noop, remove: noop, stopSharing: noop, widen: noop };

function selection(...ticked: string[]): Selection {
  const ids = new Set(ticked);
  return { ids, has: (id) => ids.has(id), toggle: noop, setAll: noop, clear: noop };
}

/** A row's props; `sel` null: a list without ticking (no selection at all). */
const row = (file: FileView, sel: Selection | null = selection(), i: FileIntents = intents) => ({ file, intents: i, selection: sel ?? undefined });

test('a fresh copy of the same file, with the same tick, skips the render', () => {
  assert.ok(sameRow(row(view()), row(structuredClone(view()))));
  assert.ok(sameRow(row(view(), selection('f1', 'f2')), row(view(), selection('f1'))), 'another row was unticked');
  assert.ok(sameRow(row(view(), null), row(view(), null)));
});

const changes: [string, Partial<FileView>][] = [
  ['progress', { bytesDone: 401 }],
  ['speed', { speed: 101 }],
  ['time left now unknown', { secondsLeft: null }],
  ['status', { status: 'complete' }],
  ['an error', { error: 'Stopped' }],
  ['the name', { meta: { id: 'f1', name: 'film (1).mp4', size: 1000, mime: 'video/mp4', path: 'holiday' } }],
  ['the folder gone', { meta: { id: 'f1', name: 'film.mp4', size: 1000, mime: 'video/mp4' } }],
  ["a holder's share", { holders: [{ id: 'p1', name: 'Bob', self: false, share: 0.51 }, { id: 'me', name: 'Ann', self: true, share: 1 }] }],
  ['a holder left', { holders: [{ id: 'me', name: 'Ann', self: true, share: 1 }] }],
  ['other names', { otherNames: [] }],
  ['save ready', { saveReady: true }],
  ['the rule that fetched it', { fetchedBy: 'Every new image' }],
  ['who it is shared with', { audience: { others: [{ id: 'p1', name: 'Bob' }] } }],
];
for (const [what, over] of changes) {
  test(`a change of ${what} renders the row`, () => {
    assert.equal(sameRow(row(view()), row(view(over))), false);
  });
}

test("a change of this row's tick, of having a selection, or of intents renders the row", () => {
  assert.equal(sameRow(row(view(), selection()), row(view(), selection('f1'))), false);
  assert.equal(sameRow(row(view(), selection()), row(view(), null)), false);
  assert.equal(sameRow(row(view()), row(view(), selection(), { ...intents })), false);
});

test('sameData: plain data by value, anything else only by identity', () => {
  assert.ok(sameData({ a: [1, { b: null }], c: 'x' }, { c: 'x', a: [1, { b: null }] }));
  assert.ok(sameData(NaN, NaN));
  assert.equal(sameData({ a: 1 }, { a: 1, b: undefined }), false, 'a key more is a change');
  assert.equal(sameData([1, 2], { 0: 1, 1: 2 }), false);
  assert.equal(sameData(null, {}), false);
  assert.equal(sameData(new Uint8Array([1]), new Uint8Array([1])), false);
  const bytes = new Uint8Array([1]);
  assert.ok(sameData({ bytes }, { bytes }));
  assert.equal(sameData(new Map(), new Map()), false);
  assert.equal(sameData(noop, () => undefined), false);
});
