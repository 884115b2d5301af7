import type { WireMessage } from '../../../../src/core/wire/frames.ts';
import { meta } from '../gossip-keys.ts';
import type { SimPeer, World } from './world.ts';

/** One announcement followed through the room: who got it, after how many hops and how long, and how many copies arrived. */
export class Tracked {
  readonly reached = new Map<string, { hops: number; ms: number }>();
  copies = 0;
  readonly origin: string;
  readonly fileId: string;
  seq = 0;
  readonly t0: number;
  /** Peers in the room when it was said: the ones timed (later joiners get it by catalogue sync on joining). */
  readonly present: ReadonlySet<string>;

  private constructor(readonly world: World, origin: SimPeer, n: number) {
    this.origin = origin.id;
    this.fileId = meta(n).id;
    this.t0 = world.clock.now();
    this.present = new Set(world.alive);
    this.reached.set(origin.id, { hops: 0, ms: 0 });
  }

  static async announce(world: World, origin: SimPeer, n: number): Promise<Tracked> {
    const t = new Tracked(world, origin, n);
    await origin.gossip.announce('add', meta(n));
    t.seq = origin.gossip.catalogue.latest(origin.id, t.fileId)!.seq;
    return t;
  }

  /** Counts copies of this statement in a frame about to be handled. */
  delivered(m: WireMessage): void {
    const items = m.type === 'gossip' ? [m.json] : m.type === 'catalogue' && Array.isArray(m.json) ? m.json : [];
    for (const item of items as { origin?: string; seq?: number; file?: { id?: string } }[]) {
      if (item.origin === this.origin && item.seq === this.seq && item.file?.id === this.fileId) this.copies++;
    }
  }

  /** After a frame was handled: did `to` just learn it? */
  handled(to: SimPeer, from: string): void {
    if (this.reached.has(to.id) || (to.gossip.catalogue.latest(this.origin, this.fileId)?.seq ?? -1) < this.seq) return;
    this.reached.set(to.id, { hops: (this.reached.get(from)?.hops ?? 0) + 1, ms: this.world.clock.now() - this.t0 });
  }

  report(): Coverage {
    const alive = [...this.world.alive];
    const got = alive.filter((id) => this.reached.has(id) && id !== this.origin);
    const others = alive.length - 1;
    const timed = got.filter((id) => this.present.has(id));
    const times = timed.map((id) => this.reached.get(id)!.ms).sort((a, b) => a - b);
    const hops = timed.map((id) => this.reached.get(id)!.hops);
    const pct = (p: number) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] ?? NaN;
    const received = [...this.reached.keys()].filter((id) => id !== this.origin).length;
    const missed = alive.filter((id) => !this.reached.has(id));
    return {
      peers: others, coverage: got.length / others,
      missedWithBudget: missed.filter((id) => this.world.peers.get(id)!.mesh.usage().remaining > 0).length,
      msP50: pct(50), msP90: pct(90), msP99: pct(99), msMax: times.at(-1) ?? NaN,
      hopsMean: hops.reduce((a, b) => a + b, 0) / Math.max(1, hops.length), hopsMax: Math.max(0, ...hops),
      duplicateRatio: this.copies / Math.max(1, received),
    };
  }
}

export interface Coverage {
  /** Live peers besides the origin when measured. */
  peers: number;
  coverage: number;
  /** Live peers that did not hear it although they could still make connections (only a spent budget excuses a miss). */
  missedWithBudget: number;
  msP50: number;
  msP90: number;
  msP99: number;
  msMax: number;
  hopsMean: number;
  hopsMax: number;
  /** Copies received per peer reached (1 is ideal). */
  duplicateRatio: number;
}

export interface Degrees {
  min: number;
  max: number;
  mean: number;
  histogram: Record<number, number>;
  byRole: Record<string, { peers: number; mean: number; min: number; max: number }>;
}

export function degrees(world: World): Degrees {
  const histogram: Record<number, number> = {};
  const byRole: Degrees['byRole'] = {};
  const all: number[] = [];
  for (const id of world.alive) {
    const peer = world.peers.get(id)!;
    const d = world.openDegree(peer);
    all.push(d);
    histogram[d] = (histogram[d] ?? 0) + 1;
    const r = (byRole[peer.role ?? 'none'] ??= { peers: 0, mean: 0, min: Infinity, max: 0 });
    r.mean = (r.mean * r.peers + d) / (r.peers + 1);
    r.peers++;
    r.min = Math.min(r.min, d);
    r.max = Math.max(r.max, d);
  }
  return { min: Math.min(...all), max: Math.max(...all), mean: all.reduce((a, b) => a + b, 0) / all.length, histogram, byRole };
}

/** Share of live peers in the largest connected component of open links. */
export function largestComponent(world: World): number {
  const seen = new Set<string>();
  let best = 0;
  for (const start of world.alive) {
    if (seen.has(start)) continue;
    seen.add(start);
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      for (const [next, state] of world.peers.get(queue[i]!)!.links) {
        if (state === 'open' && world.alive.has(next) && !seen.has(next)) seen.add(next), queue.push(next);
      }
    }
    best = Math.max(best, queue.length);
  }
  return best / world.alive.size;
}

/** Connections constructed per peer (each peer ever in the room), against its budget. */
export function connectionsCreated(world: World): { mean: number; max: number; maxRemaining0: number } {
  const created = [...world.peers.values()].map((p) => p.mesh.usage());
  return {
    mean: created.reduce((a, u) => a + u.created, 0) / created.length,
    max: Math.max(...created.map((u) => u.created)),
    maxRemaining0: created.filter((u) => u.remaining < 0).length,
  };
}
