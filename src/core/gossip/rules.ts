import { MAX_HOPS, type Announcement } from './announcement.ts';

/**
 * The one place that says who may say what in gossip, and what it costs.
 *
 * - Announcements are signed, so it does not matter which link a copy came
 *   by: duplicates are recognised by (origin, file, seq), costs are charged to
 *   the ORIGIN (token bucket), never to the link that forwarded it, and
 *   nothing here bans anybody. Over a budget means dropped and counted.
 * - Only room members may be origins (the relay's list plus our neighbours):
 *   someone who left cannot be brought back by a lagging sync.
 * - Flooding (Gnutella): forward each new live announcement once to the
 *   neighbours other than the sender and the origin, while hops remain. No
 *   forwarding at all in a full mesh: the ORIGIN, which alone knows whom it
 *   reached, sends with a single hop when every member is its neighbour
 *   (originHops). A forwarder linked to everyone cannot conclude the same:
 *   the origin may lack a link it has (a star, a failed connection), and
 *   holding back would starve that peer.
 *
 * Pure: the caller passes the clock, the neighbours and the members. Judging
 * is two steps because signatures are checked in between (asynchronously):
 * screen() rules out what is not worth verifying, admit() decides after.
 */
export const SEEN_TTL_MS = 10 * 60_000;
export const MAX_SEEN = 20_000;
/** A whole folder at once (more than an origin may even hold), then a steady trickle. */
export const ORIGIN_BURST = 2_000;
export const ORIGIN_PER_SECOND = 20;

export interface RulesOptions {
  self: string;
  ttlMs?: number;
  maxSeen?: number;
  burst?: number;
  perSecond?: number;
}

export interface Situation {
  /** Open links. */
  neighbours: readonly string[];
  /** Present in the room (relay) plus neighbours. */
  members: ReadonlySet<string>;
  now: number;
  /** The origin's statement about this file that we hold, if any. */
  held: Announcement | undefined;
  /** When the origin's current session began (its presence says): anything it said before is stale. */
  since?: number;
}

export type DropReason = 'own' | 'duplicate' | 'stale' | 'not-a-member' | 'over-budget';
export type Screened = { ok: true } | { ok: false; reason: DropReason };
export type Verdict =
  | { action: 'drop'; reason: DropReason }
  | { action: 'accept'; forwardTo: string[]; message: Announcement };

/** What was dropped and why, and what went on: all counts since start. */
export interface GossipCounters {
  accepted: number;
  forwarded: number;
  own: number;
  duplicate: number;
  stale: number;
  'not-a-member': number;
  'over-budget': number;
  'over-limit': number;
  'bad-signature': number;
  'bad-origin': number;
  'verify-failed': number;
  malformed: number;
  oversize: number;
  /** Statements about a file shared with chosen people that came another way than to one of them (gossip/audience.ts). */
  misrouted: number;
}

export type CounterName = keyof GossipCounters;

export class GossipRules {
  readonly counters: GossipCounters = {
    accepted: 0, forwarded: 0, own: 0, duplicate: 0, stale: 0, 'not-a-member': 0, 'over-budget': 0,
    'over-limit': 0, 'bad-signature': 0, 'bad-origin': 0, 'verify-failed': 0, malformed: 0, oversize: 0,
    misrouted: 0,
  };
  private seen: SeenCache;
  private buckets: OriginBuckets;

  constructor(private readonly opts: RulesOptions) {
    this.seen = new SeenCache(opts.ttlMs ?? SEEN_TTL_MS, opts.maxSeen ?? MAX_SEEN);
    this.buckets = new OriginBuckets(opts.burst ?? ORIGIN_BURST, opts.perSecond ?? ORIGIN_PER_SECOND);
  }

  count(name: CounterName, n = 1): void {
    this.counters[name] += n;
  }

  /** Hops for our own announcement: 1 (nobody forwards) when every member hears it from us directly. */
  originHops(neighbours: readonly string[], members: ReadonlySet<string>): number {
    return originHops(this.opts.self, neighbours, members);
  }

  /** Our own announcement: remember it so echoes are dropped; it goes to every neighbour. */
  originate(a: Announcement, neighbours: readonly string[], now: number): string[] {
    this.seen.remember(seenKey(a), now);
    return [...neighbours];
  }

  /** Before checking the signature: is this worth verifying at all? Drops are counted here. */
  screen(a: Announcement, s: Situation): Screened {
    const reason = this.cheapReason(a, s) ?? (this.buckets.tokens(a.origin, s.now) < 1 ? 'over-budget' : null);
    if (!reason) return { ok: true };
    this.count(reason);
    return { ok: false, reason };
  }

  /** After the signature checked out: apply it? forward it where? Charges the origin's budget. */
  admit(a: Announcement, from: string, live: boolean, s: Situation): Verdict {
    const reason = this.cheapReason(a, s) ?? (this.buckets.take(a.origin, s.now) ? null : 'over-budget');
    if (reason) {
      this.count(reason);
      return { action: 'drop', reason };
    }
    this.seen.remember(seenKey(a), s.now);
    this.count('accepted');
    const message = { ...a, hops: Math.max(0, a.hops - 1) };
    const forwardTo = live && message.hops > 0 ? s.neighbours.filter((n) => n !== from && n !== a.origin) : [];
    this.count('forwarded', forwardTo.length);
    return { action: 'accept', forwardTo, message };
  }

  /** The origin is gone from our view: its budget and what we saw of it go too, so it is heard afresh when back. */
  forget(origin: string): void {
    this.buckets.delete(origin);
    this.seen.forgetOrigin(origin);
  }

  private cheapReason(a: Announcement, s: Situation): DropReason | null {
    if (a.origin === this.opts.self) return 'own';
    if (s.held && s.held.seq === a.seq) return 'duplicate';
    if (s.held && s.held.seq > a.seq) return 'stale';
    if (s.since !== undefined && a.seq < s.since) return 'stale';
    if (this.seen.has(seenKey(a), s.now)) return 'duplicate';
    if (!s.members.has(a.origin)) return 'not-a-member';
    return null;
  }

}

/**
 * Hops for a statement we originate: 1 (nobody forwards) when every member
 * hears it from us directly, else the full MAX_HOPS flood.
 */
export function originHops(self: string, neighbours: readonly string[], members: ReadonlySet<string>): number {
  const linked = new Set(neighbours);
  for (const m of members) if (m !== self && !linked.has(m)) return MAX_HOPS;
  return 1;
}

/** A token bucket per origin: `burst` at once, then `perSecond`. Costs are the origin's, never a forwarder's. */
export class OriginBuckets {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly burst: number, private readonly perSecond: number) {}

  tokens(origin: string, now: number): number {
    const b = this.buckets.get(origin);
    if (!b) return this.burst;
    return Math.min(this.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * this.perSecond);
  }

  take(origin: string, now: number): boolean {
    const tokens = this.tokens(origin, now);
    if (tokens < 1) return false;
    this.buckets.set(origin, { tokens: tokens - 1, at: now });
    return true;
  }

  delete(origin: string): void {
    this.buckets.delete(origin);
  }
}

/** Per statement, not per copy: any copy of the same signed statement is the same news. */
const seenKey = (a: Announcement) => `${a.origin}:${a.file.id}:${a.seq}`;

/** Keys remembered for a TTL, at most `max` of them, the oldest forgotten first. */
export class SeenCache {
  private expiries = new Map<string, number>();

  constructor(private readonly ttlMs: number, private readonly max: number) {}

  has(key: string, now: number): boolean {
    const expires = this.expiries.get(key);
    return expires !== undefined && expires > now;
  }

  remember(key: string, now: number): void {
    this.expiries.delete(key); // re-insert so Map order stays oldest-first
    this.expiries.set(key, now + this.ttlMs);
    this.prune(now);
  }

  get size(): number {
    return this.expiries.size;
  }

  forgetOrigin(origin: string): void {
    const prefix = `${origin}:`;
    for (const key of this.expiries.keys()) if (key.startsWith(prefix)) this.expiries.delete(key);
  }

  /** Map iteration is insertion order, so expired and surplus entries are at the front. */
  private prune(now: number): void {
    for (const [key, expires] of this.expiries) {
      if (expires > now && this.expiries.size <= this.max) break;
      this.expiries.delete(key);
    }
  }
}
