import { D_HIGH, type DegreeBounds } from './degree.ts';
import { planMesh, shouldAccept, type LinkState, type MeshAction, type MeshView } from './mesh.ts';

/**
 * The bounded-degree mesh for rooms larger than D_HIGH + 1 people, gossipsub
 * style: each peer keeps between `low` and `high` neighbours (see degree.ts),
 * reaches out to random passive candidates when below its target, prunes
 * random neighbours when above `high`, backs off before reconnecting to a
 * peer it pruned or failed to reach (below `low`, a pruned one is retried,
 * paced: NEEDY_RETRY_MS), and never constructs more peer
 * connections than its per-tab lifetime budget. Rooms up to D_HIGH + 1
 * people keep today's full mesh (planMesh / shouldAccept) unchanged, under
 * the same budget.
 *
 * Pure: clock and randomness are passed in. The connection count is owned
 * here: every connect action returned by plan() and every accept() that says
 * yes IS one RTCPeerConnection construction, counted at once, so a caller
 * cannot forget to count one.
 */

/**
 * Chromium allows about 500 RTCPeerConnection constructions per tab lifetime
 * (closed ones included) and then throws. Every construction of this tab
 * counts here (mesh links, transfer links, retries, replacements): stopping
 * at 400 leaves a margin, as the exact limit varies between versions.
 */
export const CONNECTION_BUDGET = 400;
/** With this few constructions left, a peer only repairs below `low` (no reaching for its target, no replacing). */
export const BUDGET_RESERVE = D_HIGH;
/**
 * Passive candidates kept to replace lost neighbours at once (HyParView's
 * passive view, gossipsub's peer exchange): a few dozen is enough to survive
 * a third of the room leaving and still find live ones.
 */
export const MAX_CANDIDATES = 30;
/** Below this many candidates, ask for a fresh sample (relay or neighbours). */
export const MIN_CANDIDATES = MAX_CANDIDATES / 2;
/** gossipsub's PruneBackoff: after a prune, neither side reconnects for a minute (stops graft/prune flapping). */
export const PRUNE_BACKOFF_MS = 60_000;
/** A failed attempt backs off this long, doubling per failure up to MAX_BACKOFF_MS: a dead candidate stops costing budget. */
export const FAIL_BACKOFF_MS = 5_000;
export const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * Above `high` a peer prunes ONE random open link per this interval until it is
 * back at its target (gossipsub prunes to D at once). When a full-mesh room
 * grows past D_HIGH + 1, every member is above `high` at the same moment, and
 * both ends of every link prune independently: pruning down to the target at
 * once left most tabs at 2-3 links, with the prune backoff then forbidding the
 * repair (16 real tabs took 85 s to settle). One at a time, everyone's prunes
 * land between each other's and overshoot by a link or so. Stopping at `high`
 * instead left every peer full, and stragglers and islands with nobody to take them.
 */
export const PRUNE_PACE_MS = 1_000;

/**
 * Below `low` with no candidate left that it is not backing off from, a peer
 * dials one it backs off from for a prune or a refusal (never a failure's:
 * that one may be dead) at most this often, as needy; the other side takes it
 * if it has room below its high bound and is not pruning (accept). In a room
 * of 15, a peer refused by everyone while they all pruned (the room had just
 * outgrown the full mesh), or pruned by both ends of most of its links, had
 * nobody else to dial and sat at one neighbour for the whole minute of
 * PRUNE_BACKOFF_MS. The pace, and one retry per candidate per backoff, bound
 * what refusals of such dials cost the budget: no more than backoffs running out.
 */
export const NEEDY_RETRY_MS = 1_000;

export type BoundedAction = MeshAction | { kind: 'prune'; peer: string };

export interface BoundedOptions {
  self: string;
  bounds: DegreeBounds;
  budget?: number;
  maxCandidates?: number;
}

/** A room is a full mesh while every other member fits within D_HIGH neighbours. Stops counting early: rooms may be large. */
export function isFullMeshRoom(view: MeshView): boolean {
  let others = 0;
  for (const p of view.present) if (p !== view.self && ++others > D_HIGH) return false;
  return true;
}

export class BoundedMesh {
  private pool: string[] = [];
  /** `until`: no mesh link before then (failures and prunes); `failedUntil`: no link at all (failures only). */
  private backoffs = new Map<string, { until: number; failures: number; failedUntil: number }>();
  private created = 0;
  private lastPrune = -Infinity;
  private lastRetry = -Infinity;
  /** When each damped candidate was last retried below low: once per PRUNE_BACKOFF_MS each. */
  private retried = new Map<string, number>();
  private pruning = false;
  private readonly budget: number;
  private readonly maxCandidates: number;

  constructor(private readonly opts: BoundedOptions) {
    this.budget = opts.budget ?? CONNECTION_BUDGET;
    this.maxCandidates = opts.maxCandidates ?? MAX_CANDIDATES;
  }

  get bounds(): DegreeBounds {
    return this.opts.bounds;
  }

  /** The super-peer rule changed our role (see degree.ts). */
  setBounds(bounds: DegreeBounds): void {
    this.opts.bounds = bounds;
  }

  /** Connections constructed so far, and how many may still be. */
  usage(): { created: number; remaining: number } {
    return { created: this.created, remaining: this.budget - this.created };
  }

  candidates(): readonly string[] {
    return this.pool;
  }

  /** Too few candidates we could reach out to now (not linked, not backing off): time to ask for a fresh sample. */
  needsCandidates(links: ReadonlyMap<string, LinkState>, now: number): boolean {
    let usable = 0;
    for (const p of this.pool) if (!links.has(p) && !this.backedOff(p, now)) usable++;
    return usable < Math.min(MIN_CANDIDATES, this.maxCandidates);
  }

  /** Room members heard of (relay sample, an offer, a neighbour): kept as a random sample of at most maxCandidates. */
  learn(peers: Iterable<string>, random: () => number): void {
    for (const p of peers) {
      if (p === this.opts.self || this.pool.includes(p)) continue;
      if (this.pool.length < this.maxCandidates) this.pool.push(p);
      else this.pool[Math.floor(random() * this.pool.length)] = p; // replacement keeps the sample fresh and random
    }
  }

  /** The peer left the room. Its backoff stays: a peer that comes straight back is still damped. */
  forget(peer: string): void {
    this.pool = this.pool.filter((p) => p !== peer);
    this.retried.delete(peer);
  }

  opened(peer: string): void {
    const b = this.backoffs.get(peer);
    if (b && b.failures > 0) this.backoffs.set(peer, { until: b.until, failures: 0, failedUntil: b.failedUntil });
  }

  /** An attempt failed or an open link broke while the peer may still be here: exponential backoff. */
  failed(peer: string, now: number): void {
    const failures = (this.backoffs.get(peer)?.failures ?? 0) + 1;
    const wait = Math.min(MAX_BACKOFF_MS, FAIL_BACKOFF_MS * 2 ** (failures - 1));
    this.backoffs.set(peer, { until: Math.max(now + wait, this.backoffs.get(peer)?.until ?? 0), failures, failedUntil: now + wait });
  }

  /** We pruned the peer or it pruned us: neither reconnects for PRUNE_BACKOFF_MS. */
  pruned(peer: string, now: number): void {
    const b = this.backoffs.get(peer);
    this.backoffs.set(peer, { until: Math.max(now + PRUNE_BACKOFF_MS, b?.until ?? 0), failures: b?.failures ?? 0, failedUntil: b?.failedUntil ?? 0 });
  }

  /** No mesh link to the peer now: a failure's backoff, or a prune's. */
  backedOff(peer: string, now: number): boolean {
    return (this.backoffs.get(peer)?.until ?? 0) > now;
  }

  /**
   * No link of any kind now: only failures count. A prune damps mesh churn;
   * a transfer link is no mesh link (core/mesh/transfer.ts), and a chosen
   * person or a file's holder we pruned a minute ago is still the one to reach.
   */
  failing(peer: string, now: number): boolean {
    return (this.backoffs.get(peer)?.failedUntil ?? 0) > now;
  }

  /** What to do now. Connects returned are counted against the budget. */
  plan(view: MeshView, now: number, random: () => number): BoundedAction[] {
    if (isFullMeshRoom(view)) return this.take(planMesh(view));
    const actions: BoundedAction[] = [];
    for (const peer of view.links.keys()) if (view.banned.has(peer)) actions.push({ kind: 'drop', peer, reason: 'banned' });
    const linked = [...view.links.keys()].filter((p) => !view.banned.has(p));
    const { low, target, high } = this.opts.bounds;
    // Above high, prune (paced) until back at the target: the room between target and high is what lets
    // a straggler or a newcomer in. Once started, pruning goes on below high until the target is reached.
    if (linked.length > high) this.pruning = true;
    if (linked.length <= target) this.pruning = false;
    if (this.pruning) {
      if (now - this.lastPrune < PRUNE_PACE_MS) return actions;
      const [peer] = sample(linked.filter((p) => view.links.get(p) === 'open'), 1, random);
      if (peer === undefined) return actions;
      this.lastPrune = now;
      this.pruned(peer, now);
      return [...actions, { kind: 'prune', peer }];
    }
    // With budget to spare, aim for the target; near the end of it, only repair below low.
    const spare = this.budget - this.created > BUDGET_RESERVE;
    const want = (spare ? target : linked.length < low ? low : 0) - linked.length;
    if (want <= 0) return actions;
    const free = (p: string) => !view.links.has(p) && !view.others?.has(p) && !view.banned.has(p);
    const picked = sample(this.pool.filter((p) => free(p) && !this.backedOff(p, now)), want, random);
    if (linked.length + picked.length < low) picked.push(...this.retryDamped(free, now, random));
    return [...actions, ...this.take(picked.map((peer) => ({ kind: 'connect' as const, peer })))];
  }

  /**
   * Below low with nobody else to dial: one candidate damped by a prune or a
   * refusal, paced (NEEDY_RETRY_MS), and each at most once per backoff, so
   * peers that keep refusing cost the budget no more than their backoffs
   * running out would.
   */
  private retryDamped(free: (p: string) => boolean, now: number, random: () => number): string[] {
    if (now - this.lastRetry < NEEDY_RETRY_MS) return [];
    const fresh = (p: string) => now - (this.retried.get(p) ?? -Infinity) >= PRUNE_BACKOFF_MS;
    const damped = this.pool.filter((p) => free(p) && this.backedOff(p, now) && !this.failing(p, now) && fresh(p));
    const retry = sample(damped, 1, random);
    for (const p of retry) {
      this.lastRetry = now;
      this.retried.set(p, now);
    }
    return retry;
  }

  /**
   * Whether to answer an offer from `peer`; a yes is counted against the budget.
   * `needy`: the dialler is below its D_LOW. A peer at its high bound still takes
   * it (one over, pruned back at the next paced prune, most likely some other
   * link): otherwise, once most peers sit at their bound, a straggler is refused
   * by everyone and waits out doubling backoffs (gossipsub accepts a GRAFT above
   * D_high for the same reason, and prunes on its heartbeat). A needy peer we
   * back off from after a prune or a refusal (NEEDY_RETRY_MS) is taken only
   * below high and while not pruning: taking it must not start a prune that
   * could drop it again.
   */
  accept(view: MeshView, peer: string, now: number, random: () => number, needy = false): boolean {
    if (this.created >= this.budget) return false;
    const { high } = this.opts.bounds;
    const damped = this.backedOff(peer, now);
    const retry = needy && damped && !this.failing(peer, now) && !this.pruning && view.links.size < high;
    const ok = isFullMeshRoom(view)
      ? shouldAccept(view, peer)
      : peer !== view.self && !view.banned.has(peer) && !view.links.has(peer) && (!damped || retry) &&
        view.links.size < high + (needy ? 1 : 0);
    // Refused for lack of room, it is still a live member: a candidate for later.
    if (!ok && !view.banned.has(peer)) this.learn([peer], random);
    if (ok) this.created++;
    return ok;
  }

  /**
   * Counts one construction made outside plan() and accept() (a transfer link,
   * the answer to a crossing offer) if more than `reserve` would remain.
   */
  spend(reserve = 0): boolean {
    if (this.budget - this.created <= reserve) return false;
    this.created++;
    return true;
  }

  /** Keeps connects only while the budget lasts, counting each one kept. */
  private take<A extends BoundedAction>(actions: A[]): A[] {
    return actions.filter((a) => {
      if (a.kind !== 'connect') return true;
      if (this.created >= this.budget) return false;
      this.created++;
      return true;
    });
  }
}

/** Up to n distinct items of `from`, uniformly at random (partial Fisher-Yates). */
export function sample<T>(from: readonly T[], n: number, random: () => number): T[] {
  const a = [...from];
  const k = Math.max(0, Math.min(n, a.length));
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}
