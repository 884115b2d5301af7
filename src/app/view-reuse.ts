/**
 * Unchanged views keep their identity. The state the UI renders is rebuilt
 * from the engine on every read (state.ts: derived, never cached), so every
 * file, peer and list was a new object each time, and the screen could only
 * tell what changed by comparing values, component by component, on every
 * render. With the CPU throttled 4x (a phone's) one render of the room was
 * tens of ms of the main thread (BENCHMARKS.md, goal 6). Here the new state
 * is compared with the last one once, and every part equal by value is
 * replaced by the last one's object: a component then skips by identity,
 * and a part that changed is always a new object.
 */

/**
 * Equal as plain data: the same primitives, arrays of equal items, and plain
 * objects with the same keys holding equal values. Anything else (a typed
 * array, a Map, a function) is equal only to itself, so an unknown kind of
 * value costs a render, never a stale view.
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameData(x, b[i]));
  }
  if (!isPlain(a) || !isPlain(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameData(a[k], b[k]));
}

const isPlain = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

/**
 * `next`, with each part that equals (as plain data) the matching part of
 * `prev` replaced by prev's object; `prev` itself when all of it is equal.
 * The result always equals `next` by value. Items of a list are matched by
 * their `id` (or `meta.id`: a file) where they have one, so a file that
 * moved in the list keeps its view; otherwise by position. `next` is never
 * changed: a part that holds reused parts is a fresh copy.
 */
export function keepUnchanged<T>(prev: T | null, next: T): T {
  return prev === null ? next : (reuse(prev, next) as T);
}

function reuse(prev: unknown, next: unknown): unknown {
  if (Object.is(prev, next)) return prev;
  if (Array.isArray(prev) && Array.isArray(next)) return reuseList(prev, next);
  if (isPlain(prev) && isPlain(next)) return reuseRecord(prev, next);
  return next;
}

function reuseList(prev: readonly unknown[], next: readonly unknown[]): readonly unknown[] {
  const byId = idsOf(prev);
  let same = prev.length === next.length;
  let reused = false;
  const out = next.map((item, i) => {
    const id = idOf(item);
    const old = byId && id !== undefined ? byId.get(id) : prev[i];
    const kept = old === undefined ? item : reuse(old, item);
    same &&= kept === prev[i];
    reused ||= kept !== item;
    return kept;
  });
  return same ? prev : reused ? out : next;
}

function reuseRecord(prev: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(next);
  let same = keys.length === Object.keys(prev).length;
  let reused = false;
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const kept = Object.hasOwn(prev, k) ? reuse(prev[k], next[k]) : next[k];
    same &&= Object.hasOwn(prev, k) && kept === prev[k];
    reused ||= kept !== next[k];
    out[k] = kept;
  }
  return same ? prev : reused ? out : next;
}

/** A view's identity within its list: `id` (peers, notices, imports) or `meta.id` (files). */
function idOf(x: unknown): string | number | undefined {
  if (!isPlain(x)) return undefined;
  const id = x.id ?? (isPlain(x.meta) ? x.meta.id : undefined);
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}

/** The last list's items by identity, or null when they have none (then items match by position). */
function idsOf(list: readonly unknown[]): Map<string | number, unknown> | null {
  if (list.length === 0 || idOf(list[0]) === undefined) return null;
  const byId = new Map<string | number, unknown>();
  for (const x of list) {
    const id = idOf(x);
    if (id !== undefined && !byId.has(id)) byId.set(id, x);
  }
  return byId;
}
