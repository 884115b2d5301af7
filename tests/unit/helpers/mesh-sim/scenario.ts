import { HEARTBEAT_MS } from '../../../../src/core/gossip/lazy.ts';
import { D_LOW } from '../../../../src/core/mesh/degree.ts';
import { mulberry32 } from '../random.ts';
import { Tracked, connectionsCreated, degrees, largestComponent, type Coverage, type Degrees } from './measure.ts';
import { World, type SimPeer } from './world.ts';

/**
 * The large-room run, phase by phase, on virtual time:
 *   build   `peers` join over peers/20 seconds (a third of them were already
 *           in the room for up to 20 minutes, so super-peers exist);
 *   settle  30 s, then degrees and one announcement's spread;
 *   churn   `churnSeconds` of peers leaving (mean stay 5 min) and as many
 *           joining, with an announcement made at its start;
 *   leave   30 % leave at once; each second, the largest component and
 *           the share of peers back at D_LOW or more; an announcement made
 *           one second after the leave.
 * Origins are pinned (someone sharing stays to serve). Everything is
 * deterministic from `seed`.
 */
export interface SimOptions {
  peers: number;
  seed: number;
  churnSeconds: number;
  healSeconds: number;
  budget?: number;
}

export interface HealPoint {
  second: number;
  largestComponent: number;
  atLeastLow: number;
  minDegree: number;
}

export interface SimReport {
  options: SimOptions;
  settled: { degrees: Degrees; coverage: Coverage };
  churn: { left: number; joined: number; coverage: Coverage; degrees: Degrees };
  leave: { left: number; heal: HealPoint[]; coverage: Coverage; degrees: Degrees };
  connections: ReturnType<typeof connectionsCreated>;
  frames: Record<string, { count: number; bytes: number }>;
  perPeerFramesPerSecond: number;
  bans: string[];
  clockErrors: number;
  virtualSeconds: number;
}

export async function runMeshSim(options: SimOptions, log: (line: string) => void = () => undefined): Promise<SimReport> {
  const random = mulberry32(options.seed);
  const world = new World(random, { budget: options.budget });
  const frames: SimReport['frames'] = {};
  const tracks: Tracked[] = [];
  world.onDeliver = (_to, _from, m) => {
    const f = (frames[m.type] ??= { count: 0, bytes: 0 });
    f.count++;
    f.bytes += JSON.stringify('json' in m ? m.json : '').length + 1;
    for (const t of tracks) t.delivered(m);
  };
  world.onHandled = (to, from) => tracks.forEach((t) => t.handled(to, from));
  world.clock.every(HEARTBEAT_MS, () => world.heartbeat());
  const secs = (s: number) => world.clock.run(world.clock.now() + s * 1000);
  const track = async (origin: SimPeer) => {
    origin.pinned = true;
    const t = await Tracked.announce(world, origin, tracks.length + 1);
    tracks.push(t);
    return t;
  };

  const joinSeconds = Math.ceil(options.peers / 20);
  for (let s = 0; s < joinSeconds; s++) {
    for (let i = 0; i < 20 && world.peers.size < options.peers; i++) world.join(random() < 1 / 3 ? random() * 20 * 60_000 : 0);
    await secs(1);
  }
  await secs(30);
  const first = await track(pick(world, random));
  await secs(20);
  const settled = { degrees: degrees(world), coverage: first.report() };
  log(`settled: ${world.alive.size} peers, degree ${fmtDeg(settled.degrees)}, ${fmtCov(settled.coverage)}`);

  const churnTrack = await track(pick(world, random));
  let left = 0;
  let joined = 0;
  for (let s = 0; s < options.churnSeconds; s++) {
    for (const id of [...world.alive]) {
      const p = world.peers.get(id)!;
      if (!p.pinned && random() < 1 / 300) world.leave(p), left++;
    }
    while (world.alive.size < options.peers) world.join(), joined++;
    await secs(1);
  }
  await secs(10);
  const churn = { left, joined, coverage: churnTrack.report(), degrees: degrees(world) };
  log(`churn: ${left} left, ${joined} joined, degree ${fmtDeg(churn.degrees)}, ${fmtCov(churn.coverage)}`);

  const leaving = [...world.alive].map((id) => world.peers.get(id)!).filter((p) => !p.pinned);
  const gone = leaving.filter(() => random() < 0.3);
  for (const p of gone) world.leave(p);
  const heal: HealPoint[] = [];
  const leaveTrack = await track(pick(world, random));
  for (let s = 1; s <= options.healSeconds; s++) {
    const d = [...world.alive].map((id) => world.openDegree(world.peers.get(id)!));
    heal.push({ second: s - 1, largestComponent: largestComponent(world), atLeastLow: d.filter((x) => x >= D_LOW).length / d.length, minDegree: Math.min(...d) });
    await secs(1);
  }
  const leave = { left: gone.length, heal, coverage: leaveTrack.report(), degrees: degrees(world) };
  log(`30% leave: ${gone.length} left, ${fmtCov(leave.coverage)}`);
  log(`  heal (s: largest component / at least D_LOW): ${heal.filter((h) => h.second % 3 === 0).map((h) => `${h.second}: ${pc(h.largestComponent)}/${pc(h.atLeastLow)}`).join(', ')}`);

  const seconds = world.clock.now() / 1000;
  const totalFrames = Object.values(frames).reduce((a, f) => a + f.count, 0);
  return {
    options, settled, churn, leave, connections: connectionsCreated(world), frames,
    perPeerFramesPerSecond: totalFrames / seconds / options.peers,
    bans: world.bans, clockErrors: world.clock.errors.length, virtualSeconds: seconds,
  };
}

/**
 * Today's behaviour for comparison: a full mesh of n peers and the same real
 * gossip. direct: the origin is linked to everyone, so it sends with one hop
 * and nobody forwards (rules.ts originHops). flood: the origin misses one
 * link, so it sends with MAX_HOPS and every peer forwards to all its others.
 */
export async function runFullMesh(n: number, seed: number, mode: 'direct' | 'flood'): Promise<{ coverage: Coverage; linksPerPeer: number }> {
  const random = mulberry32(seed);
  const world = new World(random, { planner: false });
  const peers = Array.from({ length: n }, () => world.join());
  world.linkAll();
  const tracks: Tracked[] = [];
  world.onDeliver = (_to, _from, m) => tracks.forEach((t) => t.delivered(m));
  world.onHandled = (to, from) => tracks.forEach((t) => t.handled(to, from));
  if (mode === 'flood') world.cut(peers[0]!, peers[1]!);
  tracks.push(await Tracked.announce(world, peers[0]!, 1));
  await world.clock.run(30_000);
  return { coverage: tracks[0]!.report(), linksPerPeer: n - 1 };
}

const pick = (world: World, random: () => number): SimPeer => {
  const ids = [...world.alive];
  return world.peers.get(ids[Math.floor(random() * ids.length)]!)!;
};

const pc = (x: number) => `${(x * 100).toFixed(0)}%`;
export const fmtDeg = (d: Degrees) => `${d.min}..${d.max} mean ${d.mean.toFixed(1)}`;
export const fmtCov = (c: Coverage) =>
  `coverage ${(c.coverage * 100).toFixed(1)}% of ${c.peers}, p50/p90/p99/max ${c.msP50.toFixed(0)}/${c.msP90.toFixed(0)}/${c.msP99.toFixed(0)}/${c.msMax.toFixed(0)} ms, ` +
  `hops mean ${c.hopsMean.toFixed(1)} max ${c.hopsMax}, copies/peer ${c.duplicateRatio.toFixed(2)}`;
