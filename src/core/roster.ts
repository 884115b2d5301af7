import { cleanDisplayName } from './names.ts';

/**
 * What this browser remembers about the people it met, by identity: the
 * names they gave (latest first), the rooms (relay topics, never a room
 * secret) they were met in, when they were last seen, and two marks the
 * person set: verified (safety numbers compared) and blocked. A peer id is
 * derived from its identity key, so an entry cannot be worn by anyone else.
 *
 * Pure: the caller passes the wall clock. Rosters of two tabs of one browser
 * merge (mergeRosters), so whichever tab writes last loses nothing the other
 * learnt; the marks are last-writer-wins registers stamped with the time the
 * person set them, so an unblock in one tab is not undone by the other.
 */
export interface Mark {
  on: boolean;
  /** Wall-clock ms the person set it (0: never set, or migrated from the old list). */
  at: number;
}

export interface Person {
  id: string;
  /** Display names as cleaned for the screen, latest first, at most MAX_NAMES. */
  names: string[];
  /** Relay topics of the rooms met in, latest first, at most MAX_ROOMS. */
  rooms: string[];
  firstSeen: number;
  lastSeen: number;
  verified: Mark;
  blocked: Mark;
}

export type Roster = ReadonlyMap<string, Person>;

/** Enough for everyone a person meets; a flood of fresh identities in a big room cannot grow it without end. */
export const MAX_PEOPLE = 1_000;
export const MAX_NAMES = 5;
export const MAX_ROOMS = 10;
/** lastSeen moves in steps this big: a room of many people is not written to storage on every refresh. */
export const SEEN_STEP_MS = 60_000;

const NO_MARK: Mark = { on: false, at: 0 };
const ID_RE = /^[A-Za-z0-9_-]{16}$/;
const TOPIC_RE = /^[A-Za-z0-9_-]{1,128}$/;

const freshPerson = (id: string, now: number): Person => ({
  id, names: [], rooms: [], firstSeen: now, lastSeen: now, verified: NO_MARK, blocked: NO_MARK,
});

/** Puts `item` first in `list`, keeping at most `max`. */
const front = (list: readonly string[], item: string, max: number): string[] => [item, ...list.filter((x) => x !== item)].slice(0, max);

export interface Sighting {
  id: string;
  /** The name they give now (raw: cleaned here); null when they gave none yet. */
  name: string | null;
  room: string;
  now: number;
}

/**
 * The roster after seeing these people: each one's name and room moved to the
 * front, lastSeen moved on (in SEEN_STEP_MS steps). One copy for the whole
 * batch (a tick sees everyone here), and the same roster when nothing
 * changed, so the caller knows whether there is anything to write.
 */
export function seeAll(roster: Roster, sightings: Iterable<Sighting>): Roster {
  let out: Map<string, Person> | null = null;
  for (const s of sightings) {
    const after = ID_RE.test(s.id) ? seenOnce((out ?? roster).get(s.id), s) : null;
    if (after) (out ??= new Map(roster)).set(s.id, after);
  }
  return out ? bounded(out) : roster;
}

export const see = (roster: Roster, s: Sighting): Roster => seeAll(roster, [s]);

/** The person after one sighting; null when nothing worth writing changed. */
function seenOnce(before: Person | undefined, s: Sighting): Person | null {
  const person = before ?? freshPerson(s.id, s.now);
  const name = s.name === null ? '' : cleanStored(s.name);
  const names = name && person.names[0] !== name ? front(person.names, name, MAX_NAMES) : person.names;
  const rooms = person.rooms[0] !== s.room && TOPIC_RE.test(s.room) ? front(person.rooms, s.room, MAX_ROOMS) : person.rooms;
  const stale = s.now - person.lastSeen >= SEEN_STEP_MS;
  if (before && names === person.names && rooms === person.rooms && !stale) return null;
  return { ...person, names, rooms, lastSeen: Math.max(person.lastSeen, s.now) };
}

/** Sets or clears a mark on `id` (someone we may not have a name for yet). */
export function mark(roster: Roster, id: string, which: 'verified' | 'blocked', on: boolean, now: number): Roster {
  if (!ID_RE.test(id)) return roster;
  const person = roster.get(id) ?? freshPerson(id, now);
  return bounded(withPerson(roster, { ...person, [which]: { on, at: now } }));
}

/** Identities marked blocked: refused in every room. */
export function blockedIds(roster: Roster): string[] {
  return [...roster.values()].filter((p) => p.blocked.on).map((p) => p.id);
}

/** Everyone in both, each person merged field by field (see mergePerson). */
export function mergeRosters(a: Roster, b: Roster): Roster {
  const out = new Map(a);
  for (const [id, p] of b) {
    const mine = out.get(id);
    out.set(id, mine ? mergePerson(mine, p) : p);
  }
  return bounded(out);
}

/** Names and rooms of the more recently seen one first; the later-set mark wins (a tie keeps it on: safer to stay blocked). */
export function mergePerson(a: Person, b: Person): Person {
  const [newer, older] = b.lastSeen > a.lastSeen ? [b, a] : [a, b];
  const union = (x: string[], y: string[], max: number) => [...new Set([...x, ...y])].slice(0, max);
  return {
    id: a.id,
    names: union(newer.names, older.names, MAX_NAMES),
    rooms: union(newer.rooms, older.rooms, MAX_ROOMS),
    firstSeen: Math.min(a.firstSeen, b.firstSeen),
    lastSeen: newer.lastSeen,
    verified: laterMark(a.verified, b.verified),
    blocked: laterMark(a.blocked, b.blocked),
  };
}

const sameMark = (a: Mark, b: Mark) => a.on === b.on && a.at === b.at;
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Whether two rosters say the same (a sync writes only when they do not): cheaper than comparing their JSON. */
export function sameRoster(a: Roster, b: Roster): boolean {
  if (a.size !== b.size) return false;
  for (const [id, p] of a) {
    const q = b.get(id);
    if (!q || p.lastSeen !== q.lastSeen || p.firstSeen !== q.firstSeen || !sameMark(p.verified, q.verified) || !sameMark(p.blocked, q.blocked)) return false;
    if (!sameList(p.names, q.names) || !sameList(p.rooms, q.rooms)) return false;
  }
  return true;
}

const laterMark = (a: Mark, b: Mark): Mark => (a.at !== b.at ? (a.at > b.at ? a : b) : a.on ? a : b);

/** The old 'verified' list (ids only): each becomes a verified mark stamped 0, so any mark set since wins. */
export function migrateVerified(roster: Roster, ids: readonly string[], now: number): Roster {
  const out = new Map(roster);
  for (const id of ids) {
    if (!ID_RE.test(id) || out.get(id)?.verified.at) continue;
    out.set(id, { ...(out.get(id) ?? freshPerson(id, now)), verified: { on: true, at: 0 } });
  }
  return bounded(out);
}

function withPerson(roster: Roster, p: Person): Map<string, Person> {
  const out = new Map(roster);
  out.set(p.id, p);
  return out;
}

/**
 * At most MAX_PEOPLE: the longest unseen go first, and someone the person
 * marked (verified or blocked) only after everyone unmarked, or a flood of new
 * identities would wash a block away.
 */
function bounded(roster: Map<string, Person>): Map<string, Person> {
  const over = roster.size - MAX_PEOPLE;
  if (over <= 0) return roster;
  const marked = (p: Person) => p.verified.on || p.blocked.on;
  const order = [...roster.values()].sort((x, y) => Number(marked(x)) - Number(marked(y)) || x.lastSeen - y.lastSeen);
  for (const p of order.slice(0, over)) roster.delete(p.id);
  return roster;
}

/** What goes to storage: a plain, structured-cloneable value. */
export function encodeRoster(roster: Roster): { v: 1; people: Person[] } {
  return { v: 1, people: [...roster.values()] };
}

/**
 * Reads a stored roster. Storage is ours but may hold an older or broken
 * value: anything malformed is dropped (never thrown), and the limits are
 * applied again.
 */
export function decodeRoster(value: unknown): Roster {
  const out = new Map<string, Person>();
  if (typeof value !== 'object' || value === null) return out;
  const people = (value as { people?: unknown }).people;
  if (!Array.isArray(people)) return out;
  for (const raw of people.slice(0, MAX_PEOPLE * 2)) {
    const p = decodePerson(raw);
    if (p) out.set(p.id, out.has(p.id) ? mergePerson(out.get(p.id)!, p) : p);
  }
  return bounded(out);
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function decodeMark(v: unknown): Mark {
  if (typeof v !== 'object' || v === null) return NO_MARK;
  const m = v as Record<string, unknown>;
  return typeof m.on === 'boolean' && isTime(m.at) ? { on: m.on, at: m.at } : NO_MARK;
}

function strings(v: unknown, ok: (s: string) => boolean, max: number): string[] {
  return Array.isArray(v) ? [...new Set(v.filter((s): s is string => typeof s === 'string' && ok(s)))].slice(0, max) : [];
}

/**
 * Cleaning a name by grapheme costs ~30 µs, and every sync sees everyone here
 * and decodes the whole stored roster (up to 5,000 names): each name is cleaned once.
 */
const cleanedNames = new Map<string, string>();
function cleanStored(name: string): string {
  let clean = cleanedNames.get(name);
  if (clean === undefined) {
    if (cleanedNames.size >= MAX_PEOPLE * MAX_NAMES) cleanedNames.clear();
    cleanedNames.set(name, (clean = cleanDisplayName(name)));
  }
  return clean;
}

function decodePerson(v: unknown): Person | null {
  if (typeof v !== 'object' || v === null) return null;
  const p = v as Record<string, unknown>;
  if (typeof p.id !== 'string' || !ID_RE.test(p.id) || !isTime(p.firstSeen) || !isTime(p.lastSeen)) return null;
  return {
    id: p.id,
    // Cleaned again: a name is shown from here, and the rules may have grown since it was stored.
    names: strings(p.names, (s) => s.length <= 400, MAX_NAMES).map(cleanStored).filter((s) => s !== ''),
    rooms: strings(p.rooms, (s) => TOPIC_RE.test(s), MAX_ROOMS),
    firstSeen: p.firstSeen,
    lastSeen: p.lastSeen,
    verified: decodeMark(p.verified),
    blocked: decodeMark(p.blocked),
  };
}
