import { RoomGossip } from '../../../../src/app/room-gossip.ts';
import { sha256 } from '../../../../src/core/hash.ts';
import { BoundedMesh } from '../../../../src/core/mesh/bounded.ts';
import { boundsFor, jittered, roleOf, type PeerTraits, type Role } from '../../../../src/core/mesh/degree.ts';
import type { LinkState, MeshView } from '../../../../src/core/mesh/mesh.ts';
import { decodeFrame, encodeFrame, type WireMessage } from '../../../../src/core/wire/frames.ts';
import { CONNECT_TIMEOUT_MS } from '../../../../src/net/peer-manager.ts';
import { fakeVerify, idOf, makeFakeKey, type TestKey } from '../gossip-keys.ts';
import { createClock, type SimClock } from '../sim/clock.ts';

/**
 * A room of many peers in one process, driving the REAL mesh rules
 * (core/mesh/bounded.ts) and the REAL gossip (app/room-gossip.ts, frames
 * encoded and decoded by the real codec) over in-memory links, on a fake
 * clock. What is modelled, and only this: a relay that forwards signals and
 * tells everyone who left (as signaling/ does today) and hands a joiner or a
 * peer short of candidates a random sample of the room (as issue 10 asks of
 * it); a connection that takes CONNECT_MS to open; a refusal that comes back
 * as fast as a signal; link latency; a departed peer's links noticed after
 * DETECT_MS. Membership for gossip (members()) is the relay's list.
 */
export const SIGNAL_MS = 60;
export const CONNECT_MS = 400;
export const DETECT_MS = 3_000;
const LATENCY_MS = [15, 80] as const;

export interface SimPeer {
  id: string;
  n: number;
  key: TestKey;
  mesh: BoundedMesh;
  gossip: RoomGossip;
  links: Map<string, LinkState>;
  joinedAt: number;
  traits: { mains: boolean; goodLink: boolean };
  role: Role | null;
  alive: boolean;
  /** Stays whatever the churn does (someone sharing a file stays to serve it). */
  pinned: boolean;
}

export type Delivery = (to: SimPeer, from: string, m: WireMessage) => void;

export class World {
  readonly clock: SimClock = createClock();
  readonly peers = new Map<string, SimPeer>();
  readonly alive = new Set<string>();
  readonly bans: string[] = [];
  /** Called before each frame is handled (for the measurements). */
  onDeliver: Delivery = () => undefined;
  onHandled: Delivery = () => undefined;
  private count = 0;
  private attempts = new Map<string, number>();

  /** planner false: peers are linked by hand (linkAll), for the full-mesh comparison. */
  constructor(readonly random: () => number, readonly opts: { budget?: number; planner?: boolean } = {}) {}

  /** Today's full mesh, every pair linked, without the planner: the comparison the bounded mesh is measured against. */
  linkAll(): void {
    for (const a of this.alive) for (const b of this.alive) if (a !== b) this.peers.get(a)!.links.set(b, 'open');
  }

  /** Cuts one link both ways (no notice to the mesh rules). */
  cut(a: SimPeer, b: SimPeer): void {
    a.links.delete(b.id);
    b.links.delete(a.id);
  }

  join(pastUptimeMs = 0, traits = this.drawTraits()): SimPeer {
    const key = makeFakeKey(++this.count);
    const peer: SimPeer = {
      id: key.id, n: this.count, key, links: new Map(), joinedAt: this.clock.now() - pastUptimeMs, traits, role: null, alive: true, pinned: false,
      mesh: new BoundedMesh({ self: key.id, bounds: boundsFor('normal'), budget: this.opts.budget }),
      gossip: undefined!,
    };
    peer.gossip = this.gossipFor(peer);
    this.peers.set(peer.id, peer);
    this.alive.add(peer.id);
    peer.mesh.learn(this.relaySample(peer.id), this.random);
    this.updateRole(peer);
    this.maintain(peer);
    return peer;
  }

  leave(peer: SimPeer): void {
    if (!peer.alive) return;
    peer.alive = false;
    this.alive.delete(peer.id);
    for (const other of peer.links.keys()) {
      this.clock.setTimeout(() => this.linkLost(this.peers.get(other)!, peer.id), DETECT_MS);
    }
    peer.links.clear();
    // The relay tells the room (signaling/ does so today): candidates and attempts go.
    for (const id of this.alive) {
      const p = this.peers.get(id)!;
      p.mesh.forget(peer.id);
      if (p.links.get(peer.id) === 'connecting') p.links.delete(peer.id);
    }
  }

  /** One heartbeat of every live peer, in random order: role, candidates, mesh plan, lazy gossip. */
  heartbeat(): void {
    const ids = [...this.alive];
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    for (const id of ids) {
      const peer = this.peers.get(id)!;
      if (!peer.alive) continue;
      this.updateRole(peer);
      if (peer.mesh.needsCandidates(peer.links, this.clock.now())) peer.mesh.learn(this.relaySample(peer.id), this.random);
      this.maintain(peer);
      peer.gossip.heartbeat();
    }
  }

  openDegree(peer: SimPeer): number {
    let n = 0;
    for (const [p, s] of peer.links) if (s === 'open' && this.alive.has(p)) n++; // a link to a departed peer is dead already
    return n;
  }

  private drawTraits(): SimPeer['traits'] {
    return { mains: this.random() < 0.55, goodLink: this.random() < 0.7 };
  }

  private traitsNow(peer: SimPeer): PeerTraits {
    return { uptimeMs: this.clock.now() - peer.joinedAt, onBattery: !peer.traits.mains, link: peer.traits.goodLink ? 'good' : 'poor' };
  }

  private updateRole(peer: SimPeer): void {
    const role = roleOf(this.traitsNow(peer));
    if (role === peer.role) return;
    peer.role = role;
    peer.mesh.setBounds(jittered(boundsFor(role), this.random));
  }

  private relaySample(self: string): string[] {
    const all = [...this.alive].filter((p) => p !== self);
    for (let i = 0; i < Math.min(30, all.length); i++) {
      const j = i + Math.floor(this.random() * (all.length - i));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all.slice(0, 30);
  }

  private view(peer: SimPeer): MeshView {
    return { self: peer.id, present: this.alive, links: peer.links, banned: new Set() };
  }

  private maintain(peer: SimPeer): void {
    if (this.opts.planner === false) return;
    const now = this.clock.now();
    for (const a of peer.mesh.plan(this.view(peer), now, this.random)) {
      if (a.kind === 'connect') this.connect(peer, a.peer);
      else this.prune(peer, a.peer);
    }
  }

  private connect(from: SimPeer, toId: string): void {
    from.links.set(toId, 'connecting');
    // This attempt's own timeout: a later attempt to the same peer must not be cut short by it.
    const attempt = (this.attempts.get(`${from.id}|${toId}`) ?? 0) + 1;
    this.attempts.set(`${from.id}|${toId}`, attempt);
    this.clock.setTimeout(() => {
      const to = this.peers.get(toId)!;
      if (!from.alive || from.links.get(toId) !== 'connecting') return;
      if (to.alive && to.links.has(from.id)) return this.openLater(from, to); // both reached out at once: one link
      if (to.alive && to.mesh.accept(this.view(to), from.id, this.clock.now(), this.random)) {
        to.links.set(from.id, 'connecting');
        return this.openLater(from, to);
      }
      // Refused (full, backing off) or gone: the answer comes back like any signal.
      this.clock.setTimeout(() => {
        if (from.links.get(toId) !== 'connecting') return;
        from.links.delete(toId);
        if (to.alive) from.mesh.pruned(toId, this.clock.now());
        else from.mesh.failed(toId, this.clock.now());
      }, SIGNAL_MS);
    }, SIGNAL_MS);
    this.clock.setTimeout(() => {
      if (from.links.get(toId) !== 'connecting' || this.attempts.get(`${from.id}|${toId}`) !== attempt) return;
      from.links.delete(toId);
      from.mesh.failed(toId, this.clock.now());
    }, CONNECT_TIMEOUT_MS);
  }

  private openLater(a: SimPeer, b: SimPeer): void {
    this.clock.setTimeout(() => {
      if (!a.alive || !b.alive || !a.links.has(b.id) || !b.links.has(a.id)) return;
      if (a.links.get(b.id) === 'open') return;
      a.links.set(b.id, 'open');
      b.links.set(a.id, 'open');
      a.mesh.opened(b.id);
      b.mesh.opened(a.id);
      a.gossip.syncTo(b.id);
      b.gossip.syncTo(a.id);
    }, CONNECT_MS);
  }

  private prune(from: SimPeer, toId: string): void {
    from.links.delete(toId);
    this.clock.setTimeout(() => {
      const to = this.peers.get(toId)!;
      if (!to.alive || !to.links.has(from.id)) return;
      to.links.delete(from.id);
      to.mesh.pruned(from.id, this.clock.now());
    }, SIGNAL_MS);
  }

  private linkLost(peer: SimPeer, gone: string): void {
    if (!peer.alive || !peer.links.has(gone)) return;
    peer.links.delete(gone);
    peer.mesh.failed(gone, this.clock.now());
    this.maintain(peer); // a lost neighbour is replaced at once, not at the next heartbeat
  }

  private gossipFor(peer: SimPeer): RoomGossip {
    return new RoomGossip({
      self: peer.key,
      verify: fakeVerify,
      idOf,
      sha256,
      neighbours: () => [...peer.links].filter(([, s]) => s === 'open').map(([p]) => p),
      linked: () => [...peer.links].filter(([, s]) => s === 'open').map(([p]) => p),
      members: () => this.alive,
      send: (to, m) => this.send(peer, to, m),
      now: () => this.clock.now(),
      wallClock: () => 1_700_000_000_000 + this.clock.now(),
      changed: () => undefined,
      ban: (who, code, detail) => this.bans.push(`${peer.id} banned ${who}: ${code} ${detail}`),
    });
  }

  private send(from: SimPeer, toId: string, m: WireMessage): void {
    const frame = encodeFrame(m);
    const [lo, hi] = LATENCY_MS;
    this.clock.setTimeout(() => {
      const to = this.peers.get(toId)!;
      if (!to.alive || to.links.get(from.id) !== 'open') return; // the link went meanwhile: lost in flight
      const decoded = decodeFrame(frame);
      if (!decoded.ok) throw new Error(decoded.error);
      this.onDeliver(to, from.id, decoded.value);
      const handled = this.dispatch(to, from.id, decoded.value);
      void handled.then(() => this.onHandled(to, from.id, decoded.value));
    }, lo + this.random() * (hi - lo));
  }

  private async dispatch(to: SimPeer, from: string, m: WireMessage): Promise<void> {
    if (m.type === 'gossip') return to.gossip.receive(from, m.json, true);
    if (m.type === 'catalogue') return to.gossip.receiveCatalogue(from, m.json);
    if (m.type === 'ihave') return to.gossip.receiveIhave(from, m.json);
    if (m.type === 'iwant') return to.gossip.receiveIwant(from, m.json);
    throw new Error(`unexpected frame ${m.type}`);
  }
}
