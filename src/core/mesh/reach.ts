/**
 * Reaching chosen people in a bounded mesh (issue 12). A statement with an
 * audience goes only over a direct link whose HELLO proved the chosen
 * person's identity (core/gossip/audience.ts), and a bounded mesh links
 * nobody to everyone: a chosen person linked to no holder would never hear of
 * the file. So whoever holds such a file (its sharer, or a chosen person
 * holding pieces, who re-serves within the same audience) dials each chosen
 * person who is here, not linked, and not yet told: a transfer link
 * (core/mesh/transfer.ts) opened by the holder instead of the downloader,
 * bounded and paced by planTransfers. Once its HELLO proves who is at the
 * other end, the statement and our pieces go over it (app/audience.ts), and
 * the chosen person may download over it; it closes when idle, like every
 * transfer link, and is not dialled again while the person stays told.
 *
 * Told means: had a proven link to us while we held the file for this
 * audience, in their current page load. A wider audience (a newer statement)
 * or a reload (presence's `since` changed: their page forgot) makes them
 * untold again. Pure: the caller says what it holds and who is here.
 */

/** A file we hold some of (servable), shared with chosen people. */
export interface HeldForAudience {
  fileId: string;
  audience: readonly string[];
}

export interface ReachView {
  self: string;
  files: readonly HeldForAudience[];
  /** In the room now (the relay's word, presence, our links). */
  here(peer: string): boolean;
  /** Linked to us with its HELLO checked: what it may know goes to it over that link. */
  proven(peer: string): boolean;
  /** The start of the peer's page load, from its presence (undefined: not heard yet). */
  since(peer: string): number | undefined;
  /** The peer said it holds the whole file (its own statement reached us): there is nothing to tell it. */
  holdsWhole(peer: string, fileId: string): boolean;
}

/** Whom to dial, and whose links (dialled by us) to keep: they were told and may be downloading over them. */
export interface ReachPlan {
  reach: Set<string>;
  keep: Set<string>;
}

interface Told {
  since: number | undefined;
  /** The audience's size when told: audiences only grow, so a larger one is a newer statement. */
  size: number;
}

export class ReachLog {
  private readonly told = new Map<string, Told>();

  /** Records who is told now (proven links), and forgets files we no longer hold for an audience. */
  note(view: ReachView): void {
    const held = new Set(view.files.map((f) => f.fileId));
    for (const key of this.told.keys()) if (!held.has(key.slice(0, key.indexOf(' ')))) this.told.delete(key);
    for (const f of view.files) {
      for (const peer of f.audience) {
        if (peer !== view.self && view.proven(peer)) this.told.set(keyOf(f.fileId, peer), { since: view.since(peer), size: f.audience.length });
      }
    }
  }

  /** Whether `peer` is told of this file as held now. */
  isTold(view: ReachView, f: HeldForAudience, peer: string): boolean {
    const t = this.told.get(keyOf(f.fileId, peer));
    if (!t || t.size !== f.audience.length) return false;
    // Told before their presence was heard: taken as this page load (a reload is seen once presence says so).
    const now = view.since(peer);
    return t.since === undefined || now === undefined || t.since === now;
  }

  /** Chosen people here, neither proven nor told nor holding the whole file: to be reached. The others: kept. */
  plan(view: ReachView): ReachPlan {
    this.note(view);
    const reach = new Set<string>();
    const keep = new Set<string>();
    for (const f of view.files) {
      for (const peer of f.audience) {
        if (peer === view.self) continue;
        if (view.proven(peer) || this.isTold(view, f, peer) || view.holdsWhole(peer, f.fileId)) keep.add(peer);
        else if (view.here(peer)) reach.add(peer);
      }
    }
    for (const peer of reach) keep.delete(peer);
    return { reach, keep };
  }
}

const keyOf = (fileId: string, peer: string) => `${fileId} ${peer}`;
