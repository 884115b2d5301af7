import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedMesh, FAIL_BACKOFF_MS } from '../../src/core/mesh/bounded.ts';
import { boundsFor } from '../../src/core/mesh/degree.ts';
import { ReachLog, type HeldForAudience, type ReachView } from '../../src/core/mesh/reach.ts';
import { MAX_REACH_DIALS, MAX_TRANSFER_LINKS, planTransfers } from '../../src/core/mesh/transfer.ts';
import { mulberry32 } from './helpers/random.ts';

/** Whom a holder of files shared with chosen people links to (core/mesh/reach.ts), and how the transfer plan paces it. */
interface World {
  files: HeldForAudience[];
  here: Set<string>;
  proven: Set<string>;
  since: Map<string, number>;
  whole: Set<string>;
}

const viewOf = (w: World): ReachView => ({
  self: 'alice', files: w.files, here: (p) => w.here.has(p), proven: (p) => w.proven.has(p), since: (p) => w.since.get(p),
  holdsWhole: (p, f) => w.whole.has(`${f} ${p}`),
});
const sorted = (s: Set<string>) => [...s].sort();

test('ReachLog: chosen people here and not linked are reached; once proven they are told and kept, not dialled again', () => {
  const w: World = {
    files: [{ fileId: 'f1', audience: ['alice', 'bob', 'dave', 'erin'] }],
    here: new Set(['bob', 'dave', 'carol']), proven: new Set(), since: new Map([['bob', 1], ['dave', 1]]), whole: new Set(),
  };
  const log = new ReachLog();
  let plan = log.plan(viewOf(w));
  assert.deepEqual(sorted(plan.reach), ['bob', 'dave'], 'Erin is absent (reached when present), Carol is not chosen, never ourselves');
  assert.deepEqual(sorted(plan.keep), []);
  w.proven.add('bob');
  plan = log.plan(viewOf(w));
  assert.deepEqual(sorted(plan.reach), ['dave']);
  assert.deepEqual(sorted(plan.keep), ['bob'], 'the link that told him stays: he may download over it');
  w.proven.delete('bob'); // the link closed (idle): told, so no redial
  plan = log.plan(viewOf(w));
  assert.deepEqual(sorted(plan.reach), ['dave']);
  w.here.add('erin'); // arrives later
  assert.deepEqual(sorted(log.plan(viewOf(w)).reach), ['dave', 'erin']);
  w.whole.add('f1 dave'); // Dave's own statement says he holds it whole: nothing to tell him
  assert.deepEqual(sorted(log.plan(viewOf(w)).reach), ['erin']);
});

test('ReachLog: a reload (a new presence since) or a wider audience makes a told person untold; a file no longer held is forgotten', () => {
  const w: World = {
    files: [{ fileId: 'f1', audience: ['alice', 'bob'] }], here: new Set(['bob', 'dave']), proven: new Set(['bob']), since: new Map(), whole: new Set(),
  };
  const log = new ReachLog();
  log.plan(viewOf(w)); // told before his presence was heard
  w.proven.clear();
  w.since.set('bob', 5);
  assert.deepEqual(sorted(log.plan(viewOf(w)).reach), [], 'the first presence heard is taken as the same page load');
  w.proven.add('bob');
  log.plan(viewOf(w));
  w.proven.clear();
  w.since.set('bob', 9); // he reloaded: his page forgot
  assert.deepEqual(sorted(log.plan(viewOf(w)).reach), ['bob']);
  w.proven.add('bob');
  log.plan(viewOf(w));
  w.proven.clear();
  w.files = [{ fileId: 'f1', audience: ['alice', 'bob', 'dave'] }]; // widened: a newer statement for him too
  assert.deepEqual(sorted(log.plan(viewOf(w)).reach), ['bob', 'dave']);
  w.files = [];
  assert.deepEqual(sorted(log.plan(viewOf(w)).reach), []);
  w.files = [{ fileId: 'f1', audience: ['alice', 'bob', 'dave'] }]; // held again (shared anew): told afresh
  assert.deepEqual(sorted(log.plan(viewOf(w)).reach), ['bob', 'dave']);
});

test('planTransfers: chosen people first, MAX_REACH_DIALS at a time, within MAX_TRANSFER_LINKS; told ones keep their links, never dialled', () => {
  const wanted = new Set(['h0', 'h1', 'h2', 'h3']);
  const reach = new Set(['r0', 'r1', 'r2']);
  const none = new Set<string>();
  const plan = planTransfers({ wanted, reach, dialled: none, linked: () => false, usable: () => true }, mulberry32(1));
  assert.equal(plan.open.filter((p) => reach.has(p)).length, MAX_REACH_DIALS);
  assert.equal(plan.open.length, MAX_TRANSFER_LINKS);
  // Two reach dials pending: no third, whatever the room; kept links count against the limit and stay.
  const dialled = new Set(['r0', 'r1', 'k0']);
  const next = planTransfers({ wanted, reach, keep: new Set(['k0']), dialled, linked: (p) => dialled.has(p), usable: () => true }, mulberry32(2));
  assert.deepEqual(next.close, []);
  assert.equal(next.open.length, MAX_TRANSFER_LINKS - 3);
  assert.ok(next.open.every((p) => wanted.has(p)));
  // Nobody wants k0 any more: closed. A peer backing off or linked already is not dialled.
  const after = planTransfers({ wanted: none, reach: new Set(['r5', 'r6']), dialled: new Set(['k0']), linked: (p) => p === 'r6', usable: (p) => p !== 'r5' }, mulberry32(3));
  assert.deepEqual(after, { open: [], close: ['k0'] });
  // Full of download links: chosen people wait (never over the limit).
  const full = new Set(['h0', 'h1', 'h2', 'h3']);
  assert.deepEqual(planTransfers({ wanted, reach, dialled: full, linked: (p) => full.has(p), usable: () => true }, mulberry32(4)).open, []);
});

test('BoundedMesh: a prune keeps the peer from the mesh for a minute but not from a transfer link; a failure from both', () => {
  const m = new BoundedMesh({ self: 's', bounds: boundsFor('normal') });
  m.pruned('p', 0);
  assert.equal(m.backedOff('p', 1_000), true);
  assert.equal(m.failing('p', 1_000), false, 'a chosen person or a holder we pruned is still dialled for a transfer');
  m.failed('p', 1_000);
  assert.equal(m.failing('p', 1_000 + FAIL_BACKOFF_MS - 1), true);
  assert.equal(m.failing('p', 1_000 + FAIL_BACKOFF_MS), false);
  assert.equal(m.backedOff('p', 1_000 + FAIL_BACKOFF_MS), true, 'the prune\'s minute still holds for the mesh');
});
