import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HEARTBEAT_MS } from '../../src/core/gossip/lazy.ts';
import { CONNECTION_BUDGET } from '../../src/core/mesh/bounded.ts';
import { D_HIGH, D_LOW } from '../../src/core/mesh/degree.ts';
import { mulberry32 } from './helpers/random.ts';
import { World } from './helpers/mesh-sim/world.ts';
import { fmtCov, runFullMesh, runMeshSim, type SimReport } from './helpers/mesh-sim/scenario.ts';

/**
 * The fast version of `npm run bench:mesh`: 200 peers through join, churn and
 * a 30 % mass leave, on the real mesh rules and the real gossip (see
 * helpers/mesh-sim/). The figures for 1,000 peers are in BENCHMARKS.md.
 */
const PEERS = 200;

function checkRun(r: SimReport): void {
  assert.deepEqual(r.bans, [], 'honest peers never ban each other');
  assert.equal(r.clockErrors, 0, 'no handler threw');
  for (const [phase, c] of [['settled', r.settled.coverage], ['churn', r.churn.coverage], ['leave', r.leave.coverage]] as const) {
    assert.equal(c.coverage, 1, `${phase}: every live peer learns the announcement (${fmtCov(c)})`);
    // Eager push copies an announcement once per link, minus the one it came by: bounded by the degree, not the room.
    assert.ok(c.duplicateRatio < D_HIGH / 2, `${phase}: ${c.duplicateRatio.toFixed(2)} copies per peer`);
  }
  for (const [phase, d] of [['settled', r.settled.degrees], ['churn', r.churn.degrees], ['leave', r.leave.degrees]] as const) {
    assert.ok(d.max <= D_HIGH, `${phase}: max degree ${d.max}`);
    assert.ok(d.min >= D_LOW, `${phase}: min degree ${d.min}`);
  }
  assert.ok(r.connections.max <= (r.options.budget ?? CONNECTION_BUDGET), `connections created: max ${r.connections.max}`);
  assert.equal(r.connections.maxRemaining0, 0);
}

describe('mesh simulation, 200 peers', () => {
  test('joins, churn and a 30 % mass leave: full coverage, bounded copies and degrees, the room heals', async () => {
    for (const seed of [1, 2]) {
      const r = await runMeshSim({ peers: PEERS, seed, churnSeconds: 60, healSeconds: 20 });
      checkRun(r);
      assert.ok(r.churn.left > 20 && r.churn.joined === r.churn.left, `seed ${seed}: churn happened (${r.churn.left})`);
      assert.ok(r.leave.left > 0.2 * PEERS, `seed ${seed}: ${r.leave.left} left at once`);
      assert.ok(r.leave.heal.every((h) => h.largestComponent === 1), `seed ${seed}: the room never split`);
      const healed = r.leave.heal.findIndex((h) => h.atLeastLow === 1);
      assert.ok(healed >= 0 && healed <= 10, `seed ${seed}: every peer back at D_LOW within 10 s (at ${healed} s)`);
      assert.ok(r.leave.heal.slice(healed).every((h) => h.minDegree >= D_LOW), `seed ${seed}: and stays there`);
    }
  });

  test('a budget nearly used up: never exceeded, and every peer with budget left hears everything', async () => {
    const r = await runMeshSim({ peers: PEERS, seed: 3, churnSeconds: 60, healSeconds: 20, budget: D_HIGH + 8 });
    assert.ok(r.connections.max === D_HIGH + 8, `someone used the whole budget (max ${r.connections.max})`);
    assert.deepEqual(r.bans, []);
    assert.equal(r.connections.maxRemaining0, 0);
    // A peer that spent its budget and then lost its neighbours stays cut off: that is the price of never exceeding it.
    // Nobody else may miss anything.
    for (const c of [r.settled.coverage, r.churn.coverage, r.leave.coverage]) {
      assert.equal(c.missedWithBudget, 0, fmtCov(c));
      assert.ok(c.coverage > 0.95, fmtCov(c));
    }
  });

  test('a room of D_HIGH + 1 joining one by one is a full mesh, as before', async () => {
    const world = new World(mulberry32(5));
    world.clock.every(HEARTBEAT_MS, () => world.heartbeat());
    for (let i = 0; i <= D_HIGH; i++) world.join();
    await world.clock.run(5_000);
    for (const id of world.alive) assert.equal(world.openDegree(world.peers.get(id)!), D_HIGH);
  });

  test('compared with flooding a full mesh: same coverage, copies per peer bounded instead of n - 1', async () => {
    const flood = await runFullMesh(60, 1, 'flood');
    assert.equal(flood.coverage.coverage, 1);
    assert.ok(flood.coverage.duplicateRatio > 50, `flood: ${flood.coverage.duplicateRatio}`);
    const direct = await runFullMesh(60, 1, 'direct');
    assert.equal(direct.coverage.duplicateRatio, 1, 'an origin linked to all sends one copy each and nobody forwards');
  });
});
