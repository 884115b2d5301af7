import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONNECTION_BUDGET } from '../../src/core/mesh/bounded.ts';
import { fmtCov, fmtDeg, runFullMesh, runMeshSim, type SimReport } from '../unit/helpers/mesh-sim/scenario.ts';

/**
 * `npm run bench:mesh`: the bounded-degree gossip mesh in a large room, on
 * virtual time in one Node process, driving the real mesh rules and the real
 * gossip (see tests/unit/helpers/mesh-sim/). Then today's full mesh at sizes
 * where it is feasible, for comparison, and its extrapolation.
 * MESH_PEERS (default 1000), MESH_SEEDS (default 1,2,3), MESH_CHURN_S (120).
 * Results also go to test-results/mesh-sim.json.
 */
const peers = Number(process.env.MESH_PEERS ?? 1000);
const seeds = (process.env.MESH_SEEDS ?? '1,2,3').split(',').map(Number);
const churnSeconds = Number(process.env.MESH_CHURN_S ?? 120);

const runs: { seed: number; wallMs: number; report: SimReport }[] = [];
for (const seed of seeds) {
  console.log(`\nbounded mesh, ${peers} peers, seed ${seed}`);
  const started = Date.now();
  const report = await runMeshSim({ peers, seed, churnSeconds, healSeconds: 30 }, (line) => console.log(`  ${line}`));
  const wallMs = Date.now() - started;
  runs.push({ seed, wallMs, report });
  const c = report.connections;
  console.log(`  connections created per peer: mean ${c.mean.toFixed(1)}, max ${c.max} (budget ${CONNECTION_BUDGET}, over budget: ${c.maxRemaining0})`);
  console.log(`  roles after settling: ${Object.entries(report.settled.degrees.byRole).map(([r, d]) => `${r} ${d.peers} peers, degree ${d.min}..${d.max} mean ${d.mean.toFixed(1)}`).join('; ')}`);
  console.log(`  degree histogram after settling: ${JSON.stringify(report.settled.degrees.histogram)}`);
  const f = report.frames;
  console.log(`  frames: ${Object.entries(f).map(([t, x]) => `${t} ${x.count} (${(x.bytes / 1024).toFixed(0)} KiB)`).join(', ')}; ${report.perPeerFramesPerSecond.toFixed(2)} frames/peer/s`);
  console.log(`  bans ${report.bans.length}, handler errors ${report.clockErrors}, ${report.virtualSeconds.toFixed(0)} virtual s in ${(wallMs / 1000).toFixed(1)} s`);
}

console.log('\nfull mesh (today), same gossip code');
const full: { n: number; mode: string; report: Awaited<ReturnType<typeof runFullMesh>> }[] = [];
for (const n of [50, 100, 200]) {
  for (const mode of ['direct', 'flood'] as const) {
    const report = await runFullMesh(n, 1, mode);
    full.push({ n, mode, report });
    console.log(`  ${n} peers, ${mode}: ${report.linksPerPeer} links per peer, ${fmtCov(report.coverage)}`);
  }
}
console.log(`  extrapolated to ${peers}: ${peers - 1} links per peer (over Chromium's ~500 constructions per tab); ` +
  `direct: origin uploads ${peers - 1} copies; flood: ~${peers - 1} copies per peer, ~${((peers * (peers - 1)) / 1e6).toFixed(1)} M frames per announcement`);
console.log(`  bounded mesh at ${peers}: settled degree ${runs.map((r) => fmtDeg(r.report.settled.degrees)).join(' | ')}`);

mkdirSync('test-results', { recursive: true });
writeFileSync(join('test-results', 'mesh-sim.json'), JSON.stringify({ peers, runs, full }, null, 1));
