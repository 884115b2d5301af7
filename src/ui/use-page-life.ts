import { useEffect } from 'preact/hooks';
import type { Engine } from '../app/engine.ts';
import { transferRunning, watchPageLife, type PageLifeDeps } from '../app/page-life.ts';
import { throttledListener, timerSchedule } from './throttle.ts';

/** The engine's state is rebuilt per piece while downloading; the wake lock needs to hear of it only this often. */
const RECHECK_MS = 500;

/**
 * Keeps `engine` alive through the phone's habits (see src/app/page-life.ts):
 * wake lock while transferring, a warning before closing mid-transfer, a clean
 * close on pagehide, and `restart()` when the page comes back needing a fresh engine.
 */
export function usePageLife(engine: Engine | null, restart: () => void): void {
  useEffect(() => {
    if (!engine) return;
    const wakeLock = 'wakeLock' in navigator ? (navigator.wakeLock as PageLifeDeps['wakeLock']) : undefined;
    return watchPageLife({
      window,
      document,
      wakeLock,
      now: () => performance.now(),
      running: () => transferRunning(engine.getState()),
      relayOnline: () => engine.getState().relay === 'online',
      subscribe: (fn) => coalesced(engine, fn),
      connection: (navigator as { connection?: EventTarget }).connection,
      networkChanged: () => engine.networkChanged(),
      visibilityChanged: (visible) => engine.pageVisible(visible),
      closeEngine: () => engine.close(),
      restart,
      warn: (message, error) => console.warn(message, error),
    });
  }, [engine]);
}

/** The wake lock re-checks on the first change after a quiet spell, then at most every RECHECK_MS. */
function coalesced(engine: Engine, fn: () => void): () => void {
  return throttledListener({ subscribe: (f) => engine.subscribe(f), schedule: timerSchedule, now: () => performance.now(), minGapMs: RECHECK_MS }, fn);
}
