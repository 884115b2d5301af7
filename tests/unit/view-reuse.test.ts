import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { AppState, FileView, PeerView } from '../../src/app/state.ts';
import { keepUnchanged, sameData } from '../../src/app/view-reuse.ts';
import { createMemoryNetwork } from './helpers/memory-net.ts';
import { fileOf, testRelay, until } from './helpers/node-peer.ts';
import { mulberry32 } from './helpers/random.ts';

/**
 * The state is derived afresh on every read; the views that did not change
 * must come back as the same objects (the screen skips them by identity), and
 * a view that changed must never: a kept object would be a stale row.
 */
function file(id: string, over: Partial<FileView> = {}): FileView {
  return {
    meta: { id, name: `${id}.mp4`, size: 1000, mime: 'video/mp4', path: 'holiday' },
    otherNames: ['clip.mp4'],
    holders: [{ id: 'p1', name: 'Bob', self: false, share: 0.5 }, { id: 'me', name: 'Ann', self: true, share: 1 }],
    status: 'downloading', sharedByMe: false, repairing: false, bytesDone: 400, speed: 100, secondsLeft: 6, sources: 1,
    error: null, saveReady: false, preparing: false, fetchedBy: null, audience: null,
    ...over,
  };
}

function peer(id: string, over: Partial<PeerView> = {}): PeerView {
  return { id, name: id, link: 'open', via: 'direct', lost: false, safetyNumber: '1', verified: false, status: 'active', known: false, knownAs: null, ...over };
}

function state(files: FileView[], peers: PeerView[] = [peer('p1'), peer('p2')]): AppState {
  return {
    self: { id: 'me', name: 'Ann' }, relay: 'online', privacy: 'off', peers, known: [], blocked: [], files, elsewhere: [], imports: [],
    notices: [{ id: 1, kind: 'info', text: 'hello' }], linkWaits: [], rules: { list: [], waiting: 0 },
  };
}

test('sameData: plain data by value, anything else only by identity', () => {
  const noop = () => undefined;
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

test('a fresh copy of the same state is the last state itself', () => {
  const last = state([file('a'), file('b')]);
  assert.equal(keepUnchanged(last, structuredClone(last)), last);
  const next = state([file('a')]);
  assert.equal(keepUnchanged(null, next), next, 'nothing read before: the new state as it is');
});

const changes: [string, Partial<FileView>][] = [
  ['progress', { bytesDone: 401 }],
  ['speed', { speed: 101 }],
  ['time left now unknown', { secondsLeft: null }],
  ['status', { status: 'complete' }],
  ['an error', { error: 'Stopped' }],
  ['the name', { meta: { id: 'a', name: 'film (1).mp4', size: 1000, mime: 'video/mp4', path: 'holiday' } }],
  ['the folder gone', { meta: { id: 'a', name: 'a.mp4', size: 1000, mime: 'video/mp4' } }],
  ["a holder's share", { holders: [{ id: 'p1', name: 'Bob', self: false, share: 0.51 }, { id: 'me', name: 'Ann', self: true, share: 1 }] }],
  ['a holder left', { holders: [{ id: 'me', name: 'Ann', self: true, share: 1 }] }],
  ['other names', { otherNames: [] }],
  ['save ready', { saveReady: true }],
  ['the rule that fetched it', { fetchedBy: 'Every new image' }],
  ['who it is shared with', { audience: { others: [{ id: 'p1', name: 'Bob' }] } }],
];
for (const [what, over] of changes) {
  test(`a change of ${what} gives that file a new view; the rest keep theirs`, () => {
    const last = state([file('a'), file('b')]);
    const next = state([file('a', over), file('b')]);
    const kept = keepUnchanged(last, next);
    assert.ok(sameData(kept, next), 'what is shown is the new state');
    assert.notEqual(kept, last);
    assert.notEqual(kept.files, last.files);
    assert.notEqual(kept.files[0], last.files[0]);
    assert.equal(kept.files[1], last.files[1], 'the other file');
    assert.equal(kept.peers, last.peers);
    assert.equal(kept.notices, last.notices);
    assert.equal(kept.self, last.self);
  });
}

test('list items are matched by id: a file that moved, one that left, one that came', () => {
  const last = state([file('a'), file('b'), file('c')], [peer('p1'), peer('p2')]);
  const next = state([file('c'), file('d'), file('a', { bytesDone: 999 })], [peer('p2'), peer('p1', { link: 'none' })]);
  const kept = keepUnchanged(last, next);
  assert.ok(sameData(kept, next));
  assert.equal(kept.files[0], last.files[2], 'c moved to the front and kept its view');
  assert.equal(kept.files[1], next.files[1], 'd is new');
  assert.notEqual(kept.files[2], last.files[0], 'a changed');
  assert.equal(kept.files[2]!.holders, last.files[0]!.holders, "a's unchanged holders keep theirs");
  assert.equal(kept.peers[0], last.peers[1]);
  assert.notEqual(kept.peers[1], last.peers[0]);
});

test('neither state is changed, and the result always equals the new state (random edits)', () => {
  const random = mulberry32(11);
  let last = state([file('a'), file('b'), file('c')]);
  for (let round = 0; round < 300; round++) {
    const next = structuredClone(last);
    const edits = Math.floor(random() * 3);
    for (let i = 0; i < edits; i++) randomEdit(next, random);
    const before = structuredClone(next);
    const lastBefore = structuredClone(last);
    const kept = keepUnchanged(last, next);
    assert.ok(sameData(kept, next), `round ${round}`);
    assert.ok(sameData(next, before) && sameData(last, lastBefore), 'inputs untouched');
    if (edits === 0) assert.equal(kept, last);
    last = kept;
  }
});

function randomEdit(s: AppState, random: () => number): void {
  const f = s.files[Math.floor(random() * s.files.length)];
  const pick = Math.floor(random() * 5);
  if (pick === 0 && f) f.bytesDone += 1;
  else if (pick === 1 && f) f.holders = f.holders.slice(1);
  else if (pick === 2) s.files.reverse();
  else if (pick === 3) s.files.push(file(`x${Math.floor(random() * 1e6)}`));
  else s.peers = s.peers.length > 1 ? s.peers.slice(1) : [...s.peers, peer(`p${Math.floor(random() * 1e6)}`)];
}

const relay = testRelay();

test('the engine: a file that did not change keeps its view across reads, the downloaded one gets new ones', { timeout: 30_000 }, async () => {
  const net = createMemoryNetwork();
  const alice = await relay.start(net, { name: 'Alice', room: 'reuse' });
  const bob = await relay.start(net, { name: 'Bob', room: 'reuse' });
  await alice.engine.share([fileOf(new Uint8Array(randomBytes(600_000)), 'moving.bin'), fileOf(new Uint8Array(randomBytes(1000)), 'still.bin')]);
  const viewOf = (name: string) => bob.engine.getState().files.find((f) => f.meta.name === name);
  await until(bob.engine, () => viewOf('moving.bin')?.holders.length === 1 && viewOf('still.bin')?.holders.length === 1, 'both files listed');
  assert.equal(bob.engine.getState(), bob.engine.getState(), 'nothing changed between two reads');
  const still = viewOf('still.bin')!;
  const moving = viewOf('moving.bin')!;
  assert.equal(await bob.engine.download(moving.meta.id), true);
  await until(bob.engine, () => viewOf('moving.bin')!.status === 'complete', 'the download');
  assert.equal(viewOf('still.bin'), still, 'the file that did not move');
  assert.notEqual(viewOf('moving.bin'), moving);
});
