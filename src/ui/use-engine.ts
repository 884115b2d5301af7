import { useEffect, useState } from 'preact/hooks';
import type { Engine } from '../app/engine.ts';
import type { AppState } from '../app/state.ts';

/**
 * The engine's state, re-read at most once per animation frame: a download
 * changes state per piece, and the screen needs it only as often as it paints.
 * Hidden tabs get no animation frames, so they fall back to a slow timer.
 */
export function useEngineState(engine: Engine): AppState {
  const [state, setState] = useState(() => engine.getState());
  useEffect(() => {
    let pending = false;
    let frame = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      pending = false;
      setState(engine.getState());
    };
    const unsubscribe = engine.subscribe(() => {
      if (pending) return;
      pending = true;
      if (document.hidden) timer = setTimeout(flush, 500);
      else frame = requestAnimationFrame(flush);
    });
    setState(engine.getState());
    return () => {
      unsubscribe();
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [engine]);
  return state;
}
