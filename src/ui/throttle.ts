/**
 * Engine changes arrive per piece, per HAVE, per gossip frame: hundreds a
 * second while a file moves. Whatever reacts to them by rebuilding the app's
 * state (a render, the save check, the wake lock) must not do so each time:
 * with the CPU throttled 4x, as a phone's, renders on every frame and a
 * rebuild per change kept the main thread busy and made tasks of up to
 * ~270 ms (the bench's phone phase, BENCHMARKS.md). So a
 * listener runs at most once per `minGapMs`: the first change after a quiet
 * spell is handled at once (the next scheduled slot), a burst is handled once
 * at the end of each gap, and a change is never dropped, only merged.
 *
 * `schedule(run, delayMs)` decides how a run is timed (a timer, or a timer then
 * an animation frame) and returns a cancel; `now` is the clock. Both are
 * passed in, so the rule is tested without a browser.
 */
export interface ThrottleDeps {
  subscribe(fn: () => void): () => void;
  schedule(run: () => void, delayMs: number): () => void;
  now(): number;
  minGapMs: number;
}

/** Subscribes `fn`, throttled; returns the unsubscribe, which also drops a pending run. */
export function throttledListener(d: ThrottleDeps, fn: () => void): () => void {
  let cancel: (() => void) | null = null;
  let lastRun = -Infinity;
  const run = () => {
    cancel = null;
    lastRun = d.now();
    fn();
  };
  const unsubscribe = d.subscribe(() => {
    if (cancel) return; // a run is coming, and it reads the state as it is then
    cancel = d.schedule(run, Math.max(0, lastRun + d.minGapMs - d.now()));
  });
  return () => {
    unsubscribe();
    cancel?.();
    cancel = null;
  };
}

/** A plain timer: for listeners that draw nothing. */
export function timerSchedule(run: () => void, delayMs: number): () => void {
  const timer = setTimeout(run, delayMs);
  return () => clearTimeout(timer);
}
