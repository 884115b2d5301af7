import type { Announcement } from './announcement.ts';

/**
 * Flooding with duplicate suppression (Gnutella): deliver and forward each
 * message id once, to every neighbour except the one it came from, while hops
 * remain. Pure: the caller passes the clock and the current neighbours.
 */
export const SEEN_TTL_MS = 10 * 60_000;
export const MAX_SEEN = 20_000;

export interface Routed {
  /** False for a duplicate: ignore it entirely. */
  fresh: boolean;
  /** Where to send `message` (already decremented), possibly nobody. */
  forwardTo: string[];
  message: Announcement;
}

export class GossipRouter {
  private seen = new Map<string, number>();

  constructor(private readonly ttlMs = SEEN_TTL_MS, private readonly maxSeen = MAX_SEEN) {}

  /** Our own announcement: remember it so echoes are dropped, send to all neighbours. */
  originate(message: Announcement, neighbours: readonly string[], now: number): string[] {
    this.remember(seenKey(message), now);
    return [...neighbours];
  }

  receive(message: Announcement, from: string, neighbours: readonly string[], now: number): Routed {
    const key = seenKey(message);
    if (this.hasSeen(key, now)) return { fresh: false, forwardTo: [], message };
    this.remember(key, now);
    const forwarded = { ...message, hops: message.hops - 1 };
    const forwardTo = forwarded.hops > 0 ? neighbours.filter((n) => n !== from && n !== message.origin) : [];
    return { fresh: true, forwardTo, message: forwarded };
  }

  private hasSeen(id: string, now: number): boolean {
    const expires = this.seen.get(id);
    return expires !== undefined && expires > now;
  }

  private remember(id: string, now: number): void {
    this.seen.delete(id); // re-insert so Map order stays oldest-first
    this.seen.set(id, now + this.ttlMs);
    this.prune(now);
  }

  /** Map iteration is insertion order, so expired and surplus entries are at the front. */
  private prune(now: number): void {
    for (const [id, expires] of this.seen) {
      if (expires > now && this.seen.size <= this.maxSeen) break;
      this.seen.delete(id);
    }
  }
}

/** Seen per origin: a peer cannot suppress someone else's announcement by sending its id first. */
const seenKey = (m: Announcement) => `${m.origin}:${m.id}`;
