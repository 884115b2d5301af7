import {
  blockedIds, decodeRoster, encodeRoster, mark, mergeRosters, migrateVerified, sameRoster, see, seeAll, type Person, type Roster,
} from '../core/roster.ts';
import type { Store } from '../storage/store.ts';
import { parseList } from './peer-marks.ts';

/**
 * The one owner of what this browser remembers about people (core/roster.ts),
 * kept in the Store's prefs under ROSTER_KEY and shared by every tab of the
 * browser: a sync reads what is stored, merges it with what this tab knows,
 * and writes the result back when it differs, all in one transaction (two
 * tabs syncing at once each keep the other's news). Sightings change only memory
 * and are written by the next periodic sync (SYNC_MS); a mark the person sets
 * (verified, blocked) is synced at once, so a reload right after keeps it.
 * A block set in another tab reaches this one at its next sync.
 */
export const ROSTER_KEY = 'roster';
/** Before the roster: the verified marks, a JSON list of peer ids (migrated once, then emptied). */
export const OLD_VERIFIED_KEY = 'verified';
/** How often a tab merges with the stored roster: another tab's block applies within this. */
export const SYNC_MS = 10_000;
/**
 * Someone met for the first time is written sooner: a reload a few seconds
 * after meeting should still remember them. Still one write for everyone
 * who arrived in that second, however big the room.
 */
export const NEW_PERSON_SYNC_MS = 1_000;

export interface RosterDeps {
  store: Store;
  /** Wall-clock ms: lastSeen and marks must compare across reloads and tabs. */
  wallClock(): number;
  /** Who is blocked changed (here, or in another tab): the engine refuses or lets them in again. */
  blockChanged(blocked: ReadonlySet<string>, before: ReadonlySet<string>): void;
  changed(): void;
  /** Storage failed: the person is told (a mark that is not stored would be gone after a reload). */
  failed(message: string): void;
}

/** A person as the "Share with…" picker and the blocked list take them. */
export interface KnownPerson {
  id: string;
  /** The latest name they gave, cleaned; null if they never gave one. */
  name: string | null;
  present: boolean;
  lastSeen: number;
  verified: boolean;
}

export class PeopleRoster {
  private roster: Roster = new Map();
  /** The name each person had in the roster when this session first saw them (see nameBefore). */
  private knownBefore = new Map<string, string | null | undefined>();
  private blockedSet: ReadonlySet<string> = new Set();
  private syncing: Promise<void> = Promise.resolve();
  private lastSync = -Infinity;
  /** Someone new to the roster was seen since the last sync. */
  private metNew = false;

  constructor(private readonly deps: RosterDeps) {}

  /** Reads the stored roster, and the old verified list into it once. */
  async load(): Promise<void> {
    const [stored, oldVerified] = await Promise.all([this.deps.store.getValue(ROSTER_KEY), this.deps.store.getPref(OLD_VERIFIED_KEY)]);
    const ids = parseList(oldVerified);
    this.roster = migrateVerified(decodeRoster(stored), ids, this.deps.wallClock());
    this.blockedSet = new Set(blockedIds(this.roster));
    if (ids.length === 0) return;
    await this.deps.store.setValue(ROSTER_KEY, encodeRoster(this.roster)); // the marks are in the roster before the old list goes
    await this.deps.store.setPref(OLD_VERIFIED_KEY, '[]');
  }

  /** Someone proved their identity here (a checked HELLO, or a signed presence statement) under `name`. */
  seen(id: string, name: string | null, room: string): void {
    this.remember(id);
    this.roster = see(this.roster, { id, name, room, now: this.deps.wallClock() });
  }

  /** Before the roster learns of this session's sighting: what it knew of `id` until now. */
  private remember(id: string): void {
    if (!this.knownBefore.has(id)) this.knownBefore.set(id, this.nameBefore(id));
    if (!this.roster.has(id)) this.metNew = true;
  }

  /**
   * Every SYNC_MS (monotonic `now`): everyone here is seen (lastSeen, the name
   * they give now), then merged with storage. One write per sync at most,
   * however many people come and go.
   */
  tick(now: number, here: () => Iterable<[id: string, name: string | null]>, room: string): void {
    if (now - this.lastSync < (this.metNew ? NEW_PERSON_SYNC_MS : SYNC_MS)) return;
    this.lastSync = now;
    const at = this.deps.wallClock();
    const sightings = [...here()].map(([id, name]) => {
      this.remember(id);
      return { id, name, room, now: at };
    });
    this.roster = seeAll(this.roster, sightings);
    void this.sync();
  }

  /** Met before this session (by the roster as it was when this session first saw them). */
  isKnown(id: string): boolean {
    return this.nameBefore(id) !== undefined;
  }

  /** The name we knew `id` by before this session, when it is not the one they give now. */
  knownAs(id: string, name: string | null): string | null {
    const before = this.nameBefore(id) ?? null;
    return before !== null && before !== name ? before : null;
  }

  /** undefined: not in the roster before this session; null: in it, with no name. Not yet seen: the roster is still as it was. */
  private nameBefore(id: string): string | null | undefined {
    if (this.knownBefore.has(id)) return this.knownBefore.get(id);
    const p = this.roster.get(id);
    return p ? (p.names[0] ?? null) : undefined;
  }

  /** The latest name `id` gave, cleaned; null when none. */
  nameOf(id: string): string | null {
    return this.roster.get(id)?.names[0] ?? null;
  }

  lastSeen(id: string): number | null {
    return this.roster.get(id)?.lastSeen ?? null;
  }

  isVerified(id: string): boolean {
    return this.roster.get(id)?.verified.on ?? false;
  }

  setVerified(id: string, on: boolean): Promise<void> {
    return this.setMark(id, 'verified', on);
  }

  isBlocked(id: string): boolean {
    return this.blockedSet.has(id);
  }

  blocked(): ReadonlySet<string> {
    return this.blockedSet;
  }

  block(id: string, on: boolean): Promise<void> {
    return this.setMark(id, 'blocked', on);
  }

  /** Everyone known and not blocked, latest seen first; `present` says who is here now (the "Share with…" picker's list). */
  people(present: (id: string) => boolean): KnownPerson[] {
    return [...this.roster.values()]
      .filter((p) => !p.blocked.on)
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .map((p: Person) => ({ id: p.id, name: p.names[0] ?? null, present: present(p.id), lastSeen: p.lastSeen, verified: p.verified.on }));
  }

  /** Merges with the stored roster and writes back what changed; one sync at a time. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncOnce()).catch((e: Error) => this.deps.failed(`Could not store the people you know: ${e.message}`));
    return this.syncing;
  }

  /** Read, merge and write in one transaction: another tab syncing at once waits, then merges what we wrote. */
  private async syncOnce(): Promise<void> {
    this.metNew = false;
    await this.deps.store.updateValue(ROSTER_KEY, (value) => {
      const stored = decodeRoster(value);
      const merged = mergeRosters(this.roster, stored);
      this.roster = merged; // what this tab learns while the write runs goes out with the next sync
      return sameRoster(merged, stored) ? undefined : encodeRoster(merged);
    });
    this.applyBlocks();
  }

  private async setMark(id: string, which: 'verified' | 'blocked', on: boolean): Promise<void> {
    this.roster = mark(this.roster, id, which, on, this.deps.wallClock());
    this.applyBlocks();
    this.deps.changed();
    await this.sync();
  }

  private applyBlocks(): void {
    const before = this.blockedSet;
    const now = new Set(blockedIds(this.roster));
    if (now.size === before.size && [...now].every((id) => before.has(id))) return;
    this.blockedSet = now;
    this.deps.blockChanged(now, before);
    this.deps.changed();
  }
}
