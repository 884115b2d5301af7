import { toHex } from '../core/bytes.ts';
import { MAX_HOPS, type Announcement } from '../core/gossip/announcement.ts';
import { Catalogue } from '../core/gossip/catalogue.ts';
import { GossipRouter } from '../core/gossip/router.ts';
import type { FileMeta } from '../core/manifest/manifest.ts';
import type { Session } from './session.ts';

/**
 * The room's catalogue as this peer knows it, kept by gossip: our own
 * announcements go to every neighbour; a neighbour's are applied, and live
 * ones forwarded once (pure rules in core/gossip); a new neighbour gets our
 * whole catalogue. A neighbour speaks only for itself.
 */
/** Announcements sent per CATALOGUE frame, well under the JSON frame limit. */
const CATALOGUE_BATCH = 40;

export interface RoomGossipDeps {
  self: string;
  sessions: ReadonlyMap<string, Session>;
  now(): number;
  randomBytes(n: number): Uint8Array;
}

export class RoomGossip {
  readonly catalogue = new Catalogue();
  private router = new GossipRouter();

  constructor(private readonly deps: RoomGossipDeps) {}

  announce(kind: Announcement['kind'], meta: FileMeta): void {
    const a: Announcement = { id: toHex(this.deps.randomBytes(16)), origin: this.deps.self, hops: MAX_HOPS, kind, file: meta };
    this.catalogue.apply(a);
    for (const peer of this.router.originate(a, this.neighbours(), this.deps.now())) this.deps.sessions.get(peer)?.send({ type: 'gossip', json: a });
  }

  /** Applies an announcement from `session` (live gossip or its catalogue sync); true if the catalogue changed. */
  receive(session: Session, a: Announcement, live: boolean): boolean {
    if (a.origin === this.deps.self) return false; // our own, echoed back
    // A neighbour speaks for itself: nobody else may announce (or withdraw) its files.
    if (a.origin !== session.id && this.deps.sessions.has(a.origin)) return false;
    if (live) {
      const routed = this.router.receive(a, session.id, this.neighbours(), this.deps.now());
      if (!routed.fresh) return false;
      for (const peer of routed.forwardTo) this.deps.sessions.get(peer)?.send({ type: 'gossip', json: routed.message });
    }
    return this.catalogue.apply(a) === 'changed';
  }

  /** Brings a newly connected neighbour up to date. */
  syncTo(session: Session): void {
    const all = this.catalogue.announcements();
    for (let i = 0; i < all.length; i += CATALOGUE_BATCH) session.send({ type: 'catalogue', json: all.slice(i, i + CATALOGUE_BATCH) });
  }

  /** After a relay outage: holders neither back in the room nor linked to us are gone. */
  keepOnly(present: ReadonlySet<string>): boolean {
    let changed = false;
    for (const entry of this.catalogue.entries()) {
      for (const holder of entry.holders) {
        if (holder !== this.deps.self && !present.has(holder) && !this.deps.sessions.has(holder)) {
          changed = this.catalogue.removePeer(holder) || changed;
        }
      }
    }
    return changed;
  }

  private neighbours(): string[] {
    return [...this.deps.sessions.keys()];
  }
}
