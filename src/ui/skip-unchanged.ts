import { Component, type ComponentChild } from 'preact';
import { useRef } from 'preact/hooks';
import { sameData } from '../app/view-reuse.ts';

/**
 * Parts of the room that re-render only when what they show changed: with the
 * CPU throttled 4x (a phone's) one render of the whole room was tens of ms of
 * the main thread. The engine's state keeps the identity of every view that
 * did not change (app/view-reuse.ts), so most parts compare what they are
 * given by identity (`sameProps`), and a room redraws only what moved.
 */

/** The same props: the same keys, each holding the same value (by identity). */
export function sameProps<P extends object>(a: P, b: P): boolean {
  const keys = Object.keys(a) as (keyof P)[];
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && Object.is(a[k], b[k]));
}

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

/** `value`, or the last render's while equal as plain data: a list derived in a render keeps its identity while it stays the same. */
export function useUnchanged<T>(value: T): T {
  const last = useRef(value);
  if (!sameData(last.current, value)) last.current = value;
  return last.current;
}
