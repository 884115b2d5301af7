import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FileView } from '../../src/app/state.ts';
import { sameRow, type FileIntents } from '../../src/ui/FileRow.tsx';
import type { Selection } from '../../src/ui/SelectionBar.tsx';
import { sameProps } from '../../src/ui/skip-unchanged.ts';

/**
 * A file row skips a render only when nothing it shows changed: the same
 * view of its file (the state keeps an unchanged view's object), the same
 * intents, the same tick. It must never skip a change it would show.
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

test('the same view, with the same tick, skips the render', () => {
  const file = view();
  assert.ok(sameRow(row(file), row(file)));
  assert.ok(sameRow(row(file, selection('f1', 'f2')), row(file, selection('f1'))), 'another row was unticked');
  assert.ok(sameRow(row(file, null), row(file, null)));
});

test('a new view of the file renders the row (the state gives one only when it changed: view-reuse.test.ts)', () => {
  assert.equal(sameRow(row(view()), row(view({ bytesDone: 401 }))), false);
});

test("a change of this row's tick, of having a selection, or of intents renders the row", () => {
  assert.equal(sameRow(row(view(), selection()), row(view(), selection('f1'))), false);
  assert.equal(sameRow(row(view(), selection()), row(view(), null)), false);
  assert.equal(sameRow(row(view()), row(view(), selection(), { ...intents })), false);
});

test('sameProps: the same keys holding the same values, by identity', () => {
  const people = [{ id: 'p1' }];
  assert.ok(sameProps({ people, n: 1, f: noop }, { people, n: 1, f: noop }));
  assert.equal(sameProps({ people }, { people: [{ id: 'p1' }] }), false, 'an equal copy is not the same');
  assert.equal(sameProps({ n: 1 }, { n: 1, m: undefined }), false);
  assert.equal(sameProps<{ n?: number; m?: number }>({ n: 1 }, { m: 1 }), false);
});
