/**
 * How many neighbours a peer keeps in a large room: gossipsub's D / D_low /
 * D_high, plus an explicit super-peer rule. Pure: the caller measures uptime,
 * battery and link quality and passes them in.
 */

/**
 * Target degree. Gossipsub's default: with 6 neighbours a random graph of
 * thousands of peers has a diameter of 4-5 hops (ln 1000 / ln 5 ~ 4.3), so
 * eager push within MAX_HOPS (6) reaches nearly everyone, and each message
 * costs each peer at most 5 forwarded copies.
 */
export const D = 6;
/**
 * Below this a peer reaches out for more neighbours. 4 keeps the graph
 * connected with high probability even after a third of the links vanish
 * at once, and is what a phone or short-lived peer settles at.
 */
export const D_LOW = 4;
/**
 * Above this a peer prunes, one link a second, back down to it. Also the largest room (other
 * members) that stays a full mesh: up to 12 others every peer links to every
 * other, exactly as before the bounded mesh existed.
 */
export const D_HIGH = 12;
/**
 * Each peer draws its own target within +/- this of its role's target, so
 * peers do not all stop at the same degree and the graph stays an expander
 * (identical regular choices by similar peers are what makes islands).
 */
export const DEGREE_JITTER = 1;

/** A peer here less than this may be gone soon: it keeps few links (each one costs its neighbours a repair when it leaves). */
export const SHORT_LIVED_MS = 2 * 60_000;
/** A peer here this long is likely to stay (session lengths are heavy-tailed): it may take more neighbours. */
export const LONG_LIVED_MS = 10 * 60_000;

/** What a peer knows about itself; unknown is treated as the cautious answer. */
export interface PeerTraits {
  /** How long this tab has been in the room. */
  uptimeMs: number;
  /** navigator.getBattery(): true when discharging; undefined when the browser will not say. */
  onBattery: boolean | undefined;
  /** Quality of this peer's links: 'good' (low RTT, no loss), 'poor', or undefined when not measured yet. */
  link: 'good' | 'poor' | undefined;
}

export type Role = 'light' | 'normal' | 'super';

export interface DegreeBounds {
  role: Role;
  /** Reach out while below this. */
  low: number;
  /** Aim for this. */
  target: number;
  /** Never hold more than this: prune back down to it above it (one link a second); refuse offers at it. */
  high: number;
}

/**
 * The super-peer rule. Light: on battery, short-lived, or on a poor link;
 * it keeps D_LOW and refuses offers beyond D (every neighbour it holds is
 * one more repair for the room when it goes). Super: here LONG_LIVED_MS or
 * more, known to be on mains power, and on good links; it aims high, so
 * the room's forwarding load lands on peers that can carry it. Everyone else
 * is normal (gossipsub's plain D). A peer whose traits are unknown is normal
 * at most: being a super-peer must be shown, not assumed.
 */
export function roleOf(t: PeerTraits): Role {
  if (t.onBattery === true || t.uptimeMs < SHORT_LIVED_MS || t.link === 'poor') return 'light';
  if (t.onBattery === false && t.uptimeMs >= LONG_LIVED_MS && t.link === 'good') return 'super';
  return 'normal';
}

export function boundsFor(role: Role): DegreeBounds {
  if (role === 'light') return { role, low: D_LOW, target: D_LOW, high: D };
  // Two below D_HIGH: a super-peer keeps room to accept joiners without pruning anybody.
  if (role === 'super') return { role, low: D_LOW, target: D_HIGH - 2, high: D_HIGH };
  return { role, low: D_LOW, target: D, high: D_HIGH };
}

/** The bounds with this peer's own jittered target (drawn once per role change), kept within [low, high]. */
export function jittered(b: DegreeBounds, random: () => number): DegreeBounds {
  const offset = Math.floor(random() * (2 * DEGREE_JITTER + 1)) - DEGREE_JITTER;
  return { ...b, target: Math.min(b.high, Math.max(b.low, b.target + offset)) };
}

/** A median round trip under this is a good link (same city, decent access); over POOR_RTT_MS a poor one. */
export const GOOD_RTT_MS = 150;
export const POOR_RTT_MS = 400;

/**
 * Quality of this peer's links from their measured round trips (ms) and how
 * many lost their path lately. Nothing measured: unknown (never 'good').
 */
export function linkQuality(rttsMs: readonly number[], lostLinks: number): PeerTraits['link'] {
  if (lostLinks > 0) return 'poor';
  if (rttsMs.length === 0) return undefined;
  const sorted = [...rttsMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  if (median <= GOOD_RTT_MS) return 'good';
  return median >= POOR_RTT_MS ? 'poor' : undefined;
}
