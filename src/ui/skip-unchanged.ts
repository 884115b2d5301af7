import { Component, type ComponentChild } from 'preact';

/**
 * Rows that re-render only when what they show changed. The state is rebuilt
 * from the engine on every read (app/state.ts: derived, never cached), so each
 * FileView is a new object every time, and a whole room re-rendered on each
 * refresh: with the CPU throttled 4x (a phone's) one render of a room was tens
 * of ms of the main thread. Comparing what a row is given, by value, lets a
 * room of files redraw only the rows that moved.
 */

/**
 * Equal as plain data: the same primitives, arrays of equal items, and plain
 * objects with the same keys holding equal values. Anything else (a typed
 * array, a Map, a function) is equal only to itself, so an unknown kind of
 * value costs a render, never a stale row.
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

const isPlain = (x: object): x is Record<string, unknown> => {
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

/**
 * A component that renders `view(props)`, skipping a render while
 * `same(previous, next)` holds. (preact/compat's memo does this too, but
 * importing compat installs its React emulation for the whole app.)
 */
export function skipUnchanged<P extends object>(view: (props: P) => ComponentChild, same: (a: P, b: P) => boolean) {
  return class SkipUnchanged extends Component<P> {
    static override displayName = `SkipUnchanged(${view.name})`;
    override shouldComponentUpdate(next: P): boolean {
      return !same(this.props, next);
    }
    override render(props: P): ComponentChild {
      return view(props);
    }
  };
}
