import { err, ok, type Result } from '../result.ts';

/**
 * Signalling through the mesh, when the relay is not there to carry it: a
 * MESH_SIGNAL frame (0x11, utf8 JSON { id, src, dst, hops, data, key, sig })
 * travels from neighbour to neighbour until it reaches `dst`. Pure: the caller
 * sends what this decides, and passes the clock in.
 *
 * - Routes, AODV style: every frame teaches us that `src` is reachable through
 *   the neighbour it came from (a reverse route). The first frame to a
 *   destination we have no route to floods to all neighbours, with a hop limit;
 *   the answer comes back along the reverse routes the flood left behind, and
 *   teaches the nodes on its way the route forward. Routes expire (links come
 *   and go) and the table is bounded.
 * - Duplicates: a flood reaches a node along several paths. (src, id) seen in
 *   the last SEEN_TTL_MS is dropped here, before it costs an unsealing or
 *   looks like a replay to the sealed layer.
 * - Budget: each neighbour may make us handle MESH_BYTES_PER_SECOND of these
 *   (a burst of MESH_BURST_BYTES); more is dropped and counted, never banned,
 *   since a busy honest forwarder looks the same.
 * - A frame that does not parse is proof of a broken or hostile peer: the
 *   caller bans, as for any malformed frame.
 *
 * Trust: forwarders are room members. They hold the room key, so they could
 * read the candidates in an offer they forward (the relay still learns
 * nothing: it never sees these). They cannot pass as anyone: `key` and `sig`
 * sign the frame with the sender's identity (checked at the destination, so a
 * forwarder cannot forge signals in another member's name), and the link the
 * signals make is bound to both identities by HELLO, which signs both DTLS
 * fingerprints.
 */
export interface MeshSignal {
  /** Random per message, chosen by `src`: (src, id) names it for duplicate suppression. */
  id: string;
  src: string;
  dst: string;
  /** Links the frame may still cross, this one included. */
  hops: number;
  /** The sealed signal, opaque here. */
  data: string;
  /** The sender's identity key and its signature over the frame (see signedText). */
  key: string;
  sig: string;
}

/** Enough for a bounded mesh of 256 (degree >= 4, diameter about 4) with room to spare. */
export const MESH_HOP_LIMIT = 6;
/** The same bound as the relay's MAX_SIGNAL_DATA (signaling/protocol.ts): the same sealed wires. */
export const MAX_MESH_SIGNAL_DATA = 12 * 1024;
export const ROUTE_TTL_MS = 60_000;
export const MAX_ROUTES = 1_024;
export const SEEN_TTL_MS = 60_000;
export const MAX_SEEN = 8_192;
/** A dialling burst is an offer and a dozen candidates of a few KiB, for a few links at once. */
export const MESH_BYTES_PER_SECOND = 32 * 1024;
export const MESH_BURST_BYTES = 128 * 1024;

const ID_RE = /^[A-Za-z0-9_-]{8,32}$/;
const PEER_ID_RE = /^[A-Za-z0-9_-]{16}$/;
const KEY_RE = /^[A-Za-z0-9_-]{43}$/;
const SIG_RE = /^[A-Za-z0-9_-]{86}$/;

/** What the sender signs: everything but `hops`, which forwarders change. */
export const signedText = (topic: string, m: Pick<MeshSignal, 'id' | 'src' | 'dst' | 'data'>): string =>
  `meshdrop/mesh-signal\n${topic}\n${m.id}\n${m.src}\n${m.dst}\n${m.data}`;

export function parseMeshSignal(json: unknown): Result<MeshSignal> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return err('ERR_FRAME_FIELD', 'mesh signal: not an object');
  const { id, src, dst, hops, data, key, sig } = json as Record<string, unknown>;
  const text = (v: unknown, re: RegExp) => typeof v === 'string' && re.test(v);
  if (!text(id, ID_RE)) return err('ERR_FRAME_FIELD', 'mesh signal: bad id');
  if (!text(src, PEER_ID_RE) || !text(dst, PEER_ID_RE)) return err('ERR_FRAME_FIELD', 'mesh signal: bad src or dst');
  if (typeof hops !== 'number' || !Number.isInteger(hops) || hops < 1 || hops > MESH_HOP_LIMIT) {
    return err('ERR_FRAME_FIELD', `mesh signal: hops must be 1..${MESH_HOP_LIMIT}`);
  }
  if (typeof data !== 'string' || data.length === 0 || data.length > MAX_MESH_SIGNAL_DATA) {
    return err('ERR_FRAME_FIELD', `mesh signal: data must be 1..${MAX_MESH_SIGNAL_DATA} characters`);
  }
  if (!text(key, KEY_RE) || !text(sig, SIG_RE)) return err('ERR_FRAME_FIELD', 'mesh signal: bad key or signature');
  return ok({ id, src, dst, hops, data, key, sig } as MeshSignal);
}

export type DropReason = 'duplicate' | 'own' | 'budget' | 'hop-limit' | 'no-neighbours';

export type RouteDecision =
  | { kind: 'deliver'; signal: MeshSignal }
  | { kind: 'forward'; to: string[]; signal: MeshSignal }
  | { kind: 'drop'; reason: DropReason };

export interface RouterStats {
  delivered: number;
  forwarded: number;
  flooded: number;
  dropped: Record<DropReason, number>;
}

/** The bytes a frame costs its forwarder, near enough: its data dominates, the rest is about 250 characters. */
const frameCost = (m: MeshSignal) => m.data.length + 256;

export class SignalRouter {
  private readonly routes = new Map<string, { via: string; expires: number }>();
  private readonly seen = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly counts: RouterStats = {
    delivered: 0, forwarded: 0, flooded: 0,
    dropped: { duplicate: 0, own: 0, budget: 0, 'hop-limit': 0, 'no-neighbours': 0 },
  };

  constructor(private readonly self: string) {}

  /** Our own signal to `signal.dst` (hops set here): where to send it. */
  send(signal: Omit<MeshSignal, 'hops' | 'src'>, neighbours: readonly string[], now: number): RouteDecision {
    const own: MeshSignal = { ...signal, src: this.self, hops: MESH_HOP_LIMIT };
    this.remember(own, now);
    return this.onward(own, '', neighbours, now);
  }

  /** A frame from neighbour `from`: malformed (an error value, for a ban), or what to do with it. */
  receive(from: string, json: unknown, neighbours: readonly string[], now: number): Result<RouteDecision> {
    const parsed = parseMeshSignal(json);
    if (!parsed.ok) return parsed;
    const m = parsed.value;
    if (!this.spend(from, frameCost(m), now)) return ok(this.drop('budget'));
    if (m.src === this.self) return ok(this.drop('own'));
    if (!this.remember(m, now)) return ok(this.drop('duplicate'));
    this.learn(m.src, from, now);
    if (m.dst === this.self) {
      this.counts.delivered++;
      return ok({ kind: 'deliver', signal: m });
    }
    if (m.hops <= 1) return ok(this.drop('hop-limit'));
    return ok(this.onward({ ...m, hops: m.hops - 1 }, from, neighbours, now));
  }

  /** A neighbour's link ended: routes through it are gone, and so is its budget. */
  neighbourGone(peer: string): void {
    this.buckets.delete(peer);
    for (const [dst, r] of this.routes) if (r.via === peer) this.routes.delete(dst);
  }

  /** The neighbour a frame to `dst` would go through, if a live route is known. */
  routeTo(dst: string, now: number): string | undefined {
    const r = this.routes.get(dst);
    if (r && r.expires > now) return r.via;
    if (r) this.routes.delete(dst);
    return undefined;
  }

  stats(): RouterStats {
    return { ...this.counts, dropped: { ...this.counts.dropped } };
  }

  /** The destination itself if it is a neighbour, else its route, else a flood (not back where it came from). */
  private onward(m: MeshSignal, from: string, neighbours: readonly string[], now: number): RouteDecision {
    const open = new Set(neighbours);
    if (open.has(m.dst)) return this.forward([m.dst], m);
    const via = this.routeTo(m.dst, now);
    if (via !== undefined && via !== from && open.has(via)) return this.forward([via], m);
    const to = neighbours.filter((n) => n !== from && n !== m.src);
    if (to.length === 0) return this.drop('no-neighbours');
    this.counts.flooded++;
    return this.forward(to, m);
  }

  private forward(to: string[], signal: MeshSignal): RouteDecision {
    this.counts.forwarded += to.length;
    return { kind: 'forward', to, signal };
  }

  private drop(reason: DropReason): RouteDecision {
    this.counts.dropped[reason]++;
    return { kind: 'drop', reason };
  }

  /** False if (src, id) was seen within SEEN_TTL_MS. Bounded: the oldest entries go first. */
  private remember(m: MeshSignal, now: number): boolean {
    const key = `${m.src}:${m.id}`;
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    this.seen.delete(key);
    this.seen.set(key, now + SEEN_TTL_MS);
    for (const [k, t] of this.seen) {
      if (this.seen.size <= MAX_SEEN && t > now) break; // insertion order is expiry order
      this.seen.delete(k);
    }
    return true;
  }

  private learn(dst: string, via: string, now: number): void {
    this.routes.delete(dst); // re-inserted last: the Map's order is the eviction order
    this.routes.set(dst, { via, expires: now + ROUTE_TTL_MS });
    if (this.routes.size > MAX_ROUTES) this.routes.delete(this.routes.keys().next().value!);
  }

  /** A token bucket of bytes per neighbour. */
  private spend(peer: string, bytes: number, now: number): boolean {
    const b = this.buckets.get(peer) ?? { tokens: MESH_BURST_BYTES, at: now };
    b.tokens = Math.min(MESH_BURST_BYTES, b.tokens + ((now - b.at) / 1000) * MESH_BYTES_PER_SECOND);
    b.at = now;
    this.buckets.set(peer, b);
    if (b.tokens < bytes) return false;
    b.tokens -= bytes;
    return true;
  }
}
