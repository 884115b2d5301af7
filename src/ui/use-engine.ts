import { useEffect, useState } from 'preact/hooks';
import type { Engine } from '../app/engine.ts';
import type { AppState } from '../app/state.ts';
import { throttledListener } from './throttle.ts';

/**
 * At most this often the screen re-reads the state: at one rebuild and render
 * of the room per animation frame, a download on a CPU throttled 4x (a phone's)
 * kept the main thread busy with renders of tens of ms each (the bench's phone
 * phase); ten a second is smooth enough for progress text.
 */
export const RENDER_GAP_MS = 100;

/** Hidden tabs get no animation frames: they re-read on a slow timer instead. */
const HIDDEN_GAP_MS = 500;

/**
 * The engine's state, re-read on an animation frame and at most once per
 * RENDER_GAP_MS (see throttle.ts): a download changes state per piece, and
 * the screen needs it only as often as a person can read it.
 */
export function useEngineState(engine: Engine): AppState {
  const [state, setState] = useState(() => engine.getState());
  useEffect(() => {
    const unsubscribe = throttledListener(
      { subscribe: (fn) => engine.subscribe(fn), schedule: frameAfter, now: () => performance.now(), minGapMs: RENDER_GAP_MS },
      () => setState(engine.getState()),
    );
    setState(engine.getState());
    return unsubscribe;
  }, [engine]);
  return state;
}

/** A run on the first animation frame after `delayMs` (or after HIDDEN_GAP_MS on a timer, when hidden). */
function frameAfter(run: () => void, delayMs: number): () => void {
  let frame = 0;
  const timer = setTimeout(() => {
    if (document.hidden) run();
    else frame = requestAnimationFrame(run);
  }, document.hidden ? Math.max(delayMs, HIDDEN_GAP_MS) : delayMs);
  return () => {
    clearTimeout(timer);
    cancelAnimationFrame(frame);
  };
}
