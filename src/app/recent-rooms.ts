import { roomFragmentForName, type Room } from '../core/room.ts';
import type { Store } from '../storage/store.ts';

/**
 * The rooms this browser opened, newest first, for the landing page. Kept in
 * the Store's prefs (one value, 'recent-rooms'); the list logic is pure, and
 * what comes back from storage is checked, because an older or broken value
 * must show an empty list rather than break the first screen.
 */
export interface RecentRoom {
  /** The room's fragment without '#': the key, and the link to go back. */
  fragment: string;
  /** What the list shows: a named room's name, or "Room " + the start of its key. */
  name: string;
  /** Wall-clock ms of the last time the room was opened here. */
  lastVisit: number;
}

export const RECENT_ROOMS_KEY = 'recent-rooms';
export const MAX_RECENT_ROOMS = 20;

/**
 * One fragment per room: "#My-Family" and "#my-family" are the same room, so
 * they must be the same entry. A random room's fragment is its key.
 */
export function canonicalFragment(room: Room): string {
  return room.named ? roomFragmentForName(room.secret) : room.secret;
}

export function recentRoomName(room: Room): string {
  return room.named ? room.secret : `Room ${room.secret.slice(0, 6)}`;
}

/** The list with `room` moved (or added) to the front, visited at `now`; at most MAX_RECENT_ROOMS. */
export function touchRecentRoom(list: readonly RecentRoom[], room: Room, now: number): RecentRoom[] {
  const fragment = canonicalFragment(room);
  const entry: RecentRoom = { fragment, name: recentRoomName(room), lastVisit: now };
  return [entry, ...list.filter((r) => r.fragment !== fragment)].slice(0, MAX_RECENT_ROOMS);
}

export function forgetRecentRoom(list: readonly RecentRoom[], fragment: string): RecentRoom[] {
  return list.filter((r) => r.fragment !== fragment);
}

const isRecentRoom = (v: unknown): v is RecentRoom => {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.fragment === 'string' && r.fragment.length > 0 && typeof r.name === 'string' &&
    typeof r.lastVisit === 'number' && Number.isFinite(r.lastVisit)
  );
};

/** Reads a stored value: anything that is not a well-formed entry is dropped, never thrown. Newest first. */
export function decodeRecentRooms(value: unknown): RecentRoom[] {
  if (!Array.isArray(value)) return [];
  const seen = new Set<string>();
  const rooms: RecentRoom[] = [];
  for (const v of value) {
    if (!isRecentRoom(v) || seen.has(v.fragment)) continue;
    seen.add(v.fragment);
    rooms.push({ fragment: v.fragment, name: v.name, lastVisit: v.lastVisit });
  }
  return rooms.sort((a, b) => b.lastVisit - a.lastVisit).slice(0, MAX_RECENT_ROOMS);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600_000],
  ['month', 30 * 24 * 3600_000],
  ['week', 7 * 24 * 3600_000],
  ['day', 24 * 3600_000],
  ['hour', 3600_000],
  ['minute', 60_000],
];
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "just now", "5 minutes ago", "2 hours ago", "yesterday"… (a clock set back reads as "just now"). */
export function timeAgo(then: number, now: number): string {
  const elapsed = now - then;
  for (const [unit, ms] of UNITS) {
    if (elapsed >= ms) return relative.format(-Math.floor(elapsed / ms), unit);
  }
  return 'just now';
}

export async function loadRecentRooms(store: Store): Promise<RecentRoom[]> {
  return decodeRecentRooms(await store.getValue(RECENT_ROOMS_KEY));
}

export function recordRoomVisit(store: Store, room: Room, now: number): Promise<RecentRoom[]> {
  return updateRecentRooms(store, (list) => touchRecentRoom(list, room, now));
}

export function forgetRoom(store: Store, fragment: string): Promise<RecentRoom[]> {
  return updateRecentRooms(store, (list) => forgetRecentRoom(list, fragment));
}

/**
 * Reads, changes and writes the list in one transaction: two tabs opening
 * rooms at once (or one forgetting while another opens) would otherwise each
 * write their own list over the other's, and one change would be lost.
 */
async function updateRecentRooms(store: Store, change: (list: RecentRoom[]) => RecentRoom[]): Promise<RecentRoom[]> {
  let next: RecentRoom[] = [];
  await store.updateValue(RECENT_ROOMS_KEY, (stored) => (next = change(decodeRecentRooms(stored))));
  return next;
}
