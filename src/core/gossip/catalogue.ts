import type { FileMeta } from '../manifest/manifest.ts';
import type { Announcement } from './announcement.ts';

/**
 * What the room shares, keyed by (origin, file): each origin's latest signed
 * statement about each file, with its own name, size and mime. Nobody's
 * statement replaces another origin's, so a liar's wrong size sits beside an
 * honest holder's, never over it. A newer seq replaces an older one from the
 * same origin; a `remove` stays as a tombstone so an older `add` re-synced
 * later cannot bring the file back. Pure: no clock, no I/O.
 *
 * Bounds: MAX_FILES_PER_ORIGIN held files and MAX_TOMBSTONES_PER_ORIGIN
 * tombstones per origin (the oldest tombstone is forgotten first); origins
 * are room members, whose number the relay caps.
 */
export const MAX_FILES_PER_ORIGIN = 1000;
export const MAX_TOMBSTONES_PER_ORIGIN = 1000;

export interface CatalogueEntry {
  /** The representative meta(), see there. */
  meta: FileMeta;
  /** Every distinct meta the holders gave, most held first. */
  metas: FileMeta[];
  holders: string[];
}

/**
 * changed: the visible catalogue (holders or metas) changed; recorded: stored
 * as the origin's newest statement, nothing visible changed (a tombstone for
 * a file it did not hold, an add repeating the same meta); duplicate: that
 * seq is already held; stale: a newer one is held; over-limit: the origin
 * holds MAX_FILES_PER_ORIGIN files already (dropped, not stored).
 */
export type ApplyResult = 'changed' | 'recorded' | 'duplicate' | 'stale' | 'over-limit';

interface OriginState {
  /** fileId -> latest statement; Map order is arrival order, so tombstones are evicted oldest first. */
  statements: Map<string, Announcement>;
  held: number;
  tombstones: number;
}

export class Catalogue {
  private origins = new Map<string, OriginState>();
  /** fileId -> origins whose latest statement is `add`, in the order they became holders. */
  private holderIndex = new Map<string, Set<string>>();

  apply(a: Announcement): ApplyResult {
    const state = this.stateOf(a.origin);
    const previous = state.statements.get(a.file.id);
    if (previous && previous.seq === a.seq) return 'duplicate';
    if (previous && previous.seq > a.seq) return 'stale';
    const wasHeld = previous?.kind === 'add';
    if (a.kind === 'add' && !wasHeld && state.held >= MAX_FILES_PER_ORIGIN) {
      if (state.statements.size === 0) this.origins.delete(a.origin);
      return 'over-limit';
    }
    this.store(state, a, previous);
    if (a.kind === 'add') {
      this.holdersOf(a.file.id).add(a.origin);
      const draftGone = a.was !== undefined && this.dropDraft(state, a.origin, a.was);
      return wasHeld && sameMeta(previous.file, a.file) && !draftGone ? 'recorded' : 'changed';
    }
    if (wasHeld) this.dropHolder(a.file.id, a.origin);
    return wasHeld ? 'changed' : 'recorded';
  }

  /** The seq of the origin's latest statement about a file, if we hold one. */
  latest(origin: string, fileId: string): Announcement | undefined {
    return this.origins.get(origin)?.statements.get(fileId);
  }

  /**
   * The origin restarted (a reload) at `since`: what it said before then, it
   * no longer says (a file it stopped sharing while we could not hear it would
   * otherwise stay listed). True if anything visible changed.
   */
  dropBefore(origin: string, since: number): boolean {
    const state = this.origins.get(origin);
    if (!state) return false;
    let changed = false;
    for (const [fileId, a] of state.statements) {
      if (a.seq >= since) continue;
      state.statements.delete(fileId);
      if (a.kind === 'add') {
        state.held--;
        this.dropHolder(fileId, origin);
        changed = true;
      } else state.tombstones--;
    }
    if (state.statements.size === 0) this.origins.delete(origin);
    return changed;
  }

  /** The origin left the room: forget everything it said, tombstones included. True if anything visible changed. */
  removePeer(origin: string): boolean {
    const state = this.origins.get(origin);
    if (!state) return false;
    this.origins.delete(origin);
    for (const a of state.statements.values()) if (a.kind === 'add') this.dropHolder(a.file.id, origin);
    return state.held > 0;
  }

  /** Origins we hold any statement from. */
  originIds(): string[] {
    return [...this.origins.keys()];
  }

  holders(fileId: string): string[] {
    return [...(this.holderIndex.get(fileId) ?? [])];
  }

  /**
   * Holders of the whole file: the holders but a draft's origin, which
   * still hashes it and says what it has piece by piece (HAVE).
   */
  wholeHolders(fileId: string): string[] {
    return this.holders(fileId).filter((origin) => this.origins.get(origin)!.statements.get(fileId)!.file.draft === undefined);
  }

  /** Each distinct meta the file's holders gave it (a file shared under two names shows both), most held first. */
  metas(fileId: string): FileMeta[] {
    const counted = new Map<string, { meta: FileMeta; count: number }>();
    for (const origin of this.holders(fileId)) {
      const meta = this.origins.get(origin)!.statements.get(fileId)!.file;
      const key = JSON.stringify([meta.name, meta.size, meta.mime, meta.path]);
      const seen = counted.get(key);
      if (seen) seen.count++;
      else counted.set(key, { meta, count: 1 });
    }
    // Array.prototype.sort is stable: ties keep the order holders appeared in.
    return [...counted.values()].sort((x, y) => y.count - x.count).map((c) => c.meta);
  }

  /**
   * One meta to stand for the file where one is needed (sizing a download,
   * bounding piece numbers): the one given by the most holders, ties going to
   * the earliest holder. Undefined when nobody holds it.
   */
  meta(fileId: string): FileMeta | undefined {
    return this.metas(fileId)[0];
  }

  /** This origin's own meta for a file it holds. */
  metaFrom(origin: string, fileId: string): FileMeta | undefined {
    const a = this.latest(origin, fileId);
    return a?.kind === 'add' ? a.file : undefined;
  }

  entries(): CatalogueEntry[] {
    return [...this.holderIndex.keys()].map((fileId) => {
      const metas = this.metas(fileId);
      return { meta: metas[0]!, metas, holders: this.holders(fileId) };
    });
  }

  /** Every origin's latest signed statement, tombstones included, to bring a new neighbour up to date. */
  announcements(): Announcement[] {
    return [...this.origins.values()].flatMap((s) => [...s.statements.values()]);
  }

  private stateOf(origin: string): OriginState {
    let state = this.origins.get(origin);
    if (!state) {
      state = { statements: new Map(), held: 0, tombstones: 0 };
      this.origins.set(origin, state);
    }
    return state;
  }

  private store(state: OriginState, a: Announcement, previous: Announcement | undefined): void {
    if (previous?.kind === 'add') state.held--;
    if (previous?.kind === 'remove') state.tombstones--;
    state.statements.delete(a.file.id); // re-insert: Map order stays oldest-first
    state.statements.set(a.file.id, a);
    if (a.kind === 'add') state.held++;
    else state.tombstones++;
    if (state.tombstones > MAX_TOMBSTONES_PER_ORIGIN) this.evictOldestTombstone(state);
  }

  /**
   * "add F was D": the origin's draft D is final now. Its add of D goes at once,
   * whichever of this and its "remove D" arrives first; a later copy of the old
   * add can only bring D back until that remove arrives.
   */
  private dropDraft(state: OriginState, origin: string, draftId: string): boolean {
    const held = state.statements.get(draftId);
    if (held?.kind !== 'add' || held.file.draft === undefined) return false;
    state.statements.delete(draftId);
    state.held--;
    this.dropHolder(draftId, origin);
    return true;
  }

  private evictOldestTombstone(state: OriginState): void {
    for (const [fileId, a] of state.statements) {
      if (a.kind !== 'remove') continue;
      state.statements.delete(fileId);
      state.tombstones--;
      return;
    }
  }

  private holdersOf(fileId: string): Set<string> {
    let set = this.holderIndex.get(fileId);
    if (!set) {
      set = new Set();
      this.holderIndex.set(fileId, set);
    }
    return set;
  }

  private dropHolder(fileId: string, origin: string): void {
    const set = this.holderIndex.get(fileId);
    set?.delete(origin);
    if (set?.size === 0) this.holderIndex.delete(fileId);
  }
}

const sameMeta = (x: FileMeta, y: FileMeta): boolean =>
  x.name === y.name && x.size === y.size && x.mime === y.mime && x.path === y.path && x.draft === y.draft &&
  x.audience?.join() === y.audience?.join();
