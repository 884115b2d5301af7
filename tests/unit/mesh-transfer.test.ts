import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedMesh } from '../../src/core/mesh/bounded.ts';
import { boundsFor, GOOD_RTT_MS, linkQuality, POOR_RTT_MS } from '../../src/core/mesh/degree.ts';
import { MAX_TRANSFER_LINKS, planTransfers } from '../../src/core/mesh/transfer.ts';
import { mulberry32 } from './helpers/random.ts';

/** The pure pieces the peer manager added to the mesh rules: transfer plans, spending the budget, link quality. */
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `h${from + i}`);

test('planTransfers: up to MAX_TRANSFER_LINKS unlinked, usable holders; closes links to peers no longer wanted', () => {
  const wanted = new Set(ids(10));
  const linked = new Set(['h0', 'h1']);
  const plan = planTransfers({ wanted, dialled: new Set(), linked: (p) => linked.has(p), usable: (p) => p !== 'h2' }, mulberry32(1));
  assert.equal(plan.open.length, MAX_TRANSFER_LINKS);
  assert.ok(plan.open.every((p) => !['h0', 'h1', 'h2'].includes(p)));
  assert.deepEqual(plan.close, []);
  const dialled = new Set(['h5', 'x1', 'x2']);
  const next = planTransfers({ wanted, dialled, linked: (p) => dialled.has(p), usable: () => true }, mulberry32(1));
  assert.deepEqual(next.close.sort(), ['x1', 'x2']);
  assert.equal(next.open.length, MAX_TRANSFER_LINKS - 1, 'h5 stays and counts');
  assert.deepEqual(planTransfers({ wanted: new Set(), dialled: new Set(['h1']), linked: () => true, usable: () => true }, mulberry32(1)),
    { open: [], close: ['h1'] });
});

test('BoundedMesh.spend counts a construction only while more than the reserve remains; plan leaves `others` alone', () => {
  const m = new BoundedMesh({ self: 's', bounds: boundsFor('normal'), budget: 5 });
  assert.ok(m.spend(3));
  assert.ok(m.spend(3));
  assert.equal(m.spend(3), false);
  assert.ok(m.spend());
  assert.deepEqual(m.usage(), { created: 3, remaining: 2 });
  const n = new BoundedMesh({ self: 's', bounds: boundsFor('normal') });
  const room = ids(20);
  n.learn(room, mulberry32(2));
  const others = new Set(ids(14)); // transfer links or links being pruned
  const view = { self: 's', present: new Set(room), links: new Map(), others, banned: new Set<string>() };
  const connects = n.plan(view, 0, mulberry32(3)).flatMap((a) => (a.kind === 'connect' ? [a.peer] : []));
  assert.deepEqual(connects.sort(), ids(6, 14), 'only peers we hold no connection to');
});

test('linkQuality: the median round trip decides, a lost path makes it poor, nothing measured is unknown', () => {
  assert.equal(linkQuality([], 0), undefined);
  assert.equal(linkQuality([20, 40, 900], 0), 'good');
  assert.equal(linkQuality([20, 40, 900], 1), 'poor');
  assert.equal(linkQuality([GOOD_RTT_MS + 1], 0), undefined);
  assert.equal(linkQuality([POOR_RTT_MS, POOR_RTT_MS + 5, 10], 0), 'poor');
});
