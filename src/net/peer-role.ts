import { boundsFor, jittered, linkQuality, roleOf, type DegreeBounds, type PeerTraits, type Role } from '../core/mesh/degree.ts';
import type { PeerConnection } from './link.ts';

/**
 * This tab's traits for the super-peer rule (core/mesh/degree.ts): how long it
 * has been here, whether it runs on battery, and how good its links are
 * (their round trips, measured every QUALITY_POLL_MS, and lost paths). The
 * role is re-evaluated on each tick; a new role draws its jittered bounds once.
 */
export interface RoleDeps {
  /** navigator.getBattery(): true while discharging; undefined where the browser will not say. */
  onBattery?(): boolean | undefined;
}

/** Round trips are measured this often: getStats is not free, and link quality changes slowly. */
export const QUALITY_POLL_MS = 10_000;

export class PeerRole {
  private role: Role;
  private rtts: number[] = [];
  private lost = 0;
  private polled = -Infinity;

  constructor(private readonly deps: RoleDeps, private readonly startedAt: number) {
    this.role = roleOf(this.traits(startedAt));
  }

  get current(): Role {
    return this.role;
  }

  traits(now: number): PeerTraits {
    return { uptimeMs: now - this.startedAt, onBattery: this.deps.onBattery?.(), link: linkQuality(this.rtts, this.lost) };
  }

  /** The role's bounds with this peer's own jittered target. */
  bounds(random: () => number): DegreeBounds {
    return jittered(boundsFor(this.role), random);
  }

  /** Whether the role changed. */
  update(now: number): boolean {
    const next = roleOf(this.traits(now));
    if (next === this.role) return false;
    this.role = next;
    return true;
  }

  /** Measures the open mesh links' round trips, at most every QUALITY_POLL_MS. */
  poll(now: number, links: { conn: PeerConnection; lostSince: number | null }[]): void {
    if (now - this.polled < QUALITY_POLL_MS) return;
    this.polled = now;
    this.lost = links.filter((l) => l.lostSince !== null).length;
    const measured = links.map((l) => l.conn.roundTrip?.() ?? Promise.resolve(null));
    void Promise.all(measured).then((rtts) => {
      this.rtts = rtts.filter((r): r is number => r !== null);
    });
  }
}
