import type { AppState } from './state.ts';

/**
 * A phone treats a web page roughly: it dims the screen mid-transfer, throws
 * the page into the back/forward cache, freezes it in the background and
 * thaws it minutes later with dead sockets. This module keeps transfers
 * alive through that:
 * - while a transfer runs and the page is visible, hold a screen wake lock
 *   (the browser drops it whenever the page is hidden, so it is asked for
 *   again each time the page comes back);
 * - warn before unload only while a transfer runs (an idle room loses nothing);
 * - on `pagehide`, close the engine: links close with a code and the relay
 *   socket closes, so peers see us leave at once instead of timing out;
 * - when the device's network changes (Wi-Fi to mobile data, back online),
 *   tell the engine: it replaces the relay socket, which may be silently dead,
 *   and restarts ICE on every link, without a reload;
 * - tell the engine when the page is shown or hidden: the person's presence
 *   says active, idle or away from that alone (core/gossip/presence.ts);
 * - when the page comes back, start a fresh engine if the old one was closed
 *   by `pagehide`, thawed from a freeze (`resume`), or hidden long enough that
 *   its relay connection is gone. A fresh engine resumes downloads by itself
 *   from the pieces already stored, so restarting is the simple, safe choice.
 * The decisions are plain functions; `watchPageLife` only wires events to them.
 */

/** Hidden this long with the relay not online: the connections are treated as dead on return. */
export const LONG_HIDDEN_MS = 60_000;

/** A download is fetching or a shared file is being hashed into storage. */
export function transferRunning(state: Pick<AppState, 'files' | 'imports'>): boolean {
  return state.imports.length > 0 || state.files.some((f) => f.status === 'downloading' || f.status === 'manifest');
}

export const wantWakeLock = (running: boolean, visible: boolean): boolean => running && visible;

export type ReturnKind = 'pageshow' | 'resume' | 'visible';

export interface ReturnFacts {
  kind: ReturnKind;
  /** The engine was closed on `pagehide`. */
  closedByPagehide: boolean;
  /** How long the page was hidden before this return. */
  hiddenMs: number;
  relayOnline: boolean;
}

/** Whether the page, coming back, needs a fresh engine. */
export function shouldRestart(f: ReturnFacts): boolean {
  if (f.closedByPagehide) return true;
  if (f.kind === 'resume') return true; // a frozen page's timers and sockets cannot be trusted
  return f.hiddenMs >= LONG_HIDDEN_MS && !f.relayOnline;
}

export interface WakeLockSentinelLike {
  release(): Promise<void>;
  addEventListener(type: 'release', fn: () => void): void;
}

export interface PageLifeDeps {
  window: EventTarget;
  document: EventTarget & { visibilityState: string };
  /** navigator.wakeLock where the browser has it. */
  wakeLock?: { request(type: 'screen'): Promise<WakeLockSentinelLike> };
  now(): number;
  running(): boolean;
  relayOnline(): boolean;
  /** Calls back when the engine's state changes; returns an unsubscribe. */
  subscribe(fn: () => void): () => void;
  /** navigator.connection where the browser has it: its 'change' event is a network change. */
  connection?: EventTarget;
  networkChanged(): void;
  /** The page was shown or hidden (and, once, how it is at the start). */
  visibilityChanged(visible: boolean): void;
  closeEngine(): void;
  restart(): void;
  warn(message: string, error: unknown): void;
}

/** Wires the page's life events to the engine; returns a function that unwires them. */
export function watchPageLife(d: PageLifeDeps): () => void {
  const wake = wakeLockKeeper(d);
  let closedByPagehide = false;
  let hiddenSince: number | null = d.document.visibilityState === 'hidden' ? d.now() : null;
  const visible = () => d.document.visibilityState === 'visible';
  const comeBack = (kind: ReturnKind) => {
    const hiddenMs = hiddenSince === null ? 0 : d.now() - hiddenSince;
    hiddenSince = null;
    if (!shouldRestart({ kind, closedByPagehide, hiddenMs, relayOnline: d.relayOnline() })) return;
    closedByPagehide = false;
    d.restart();
  };
  const onVisibility = () => {
    d.visibilityChanged(visible());
    if (visible()) {
      wake.shown();
      comeBack('visible');
    } else hiddenSince ??= d.now();
    wake.sync(visible());
  };
  const onBeforeUnload = (e: Event) => {
    if (!d.running()) return;
    e.preventDefault();
    (e as BeforeUnloadEvent).returnValue = ''; // older browsers show the dialog only with a return value
  };
  const onPageHide = () => {
    closedByPagehide = true;
    hiddenSince ??= d.now();
    wake.sync(false);
    d.closeEngine();
  };
  const onPageShow = (e: Event) => {
    if ((e as PageTransitionEvent).persisted) comeBack('pageshow');
  };
  const onResume = () => comeBack('resume');
  const onNetwork = () => d.networkChanged();
  const unsubscribe = d.subscribe(() => wake.sync(visible()));
  const listen: [EventTarget, string, (e: Event) => void][] = [
    [d.document, 'visibilitychange', onVisibility],
    [d.document, 'resume', onResume],
    [d.window, 'beforeunload', onBeforeUnload],
    [d.window, 'pagehide', onPageHide],
    [d.window, 'pageshow', onPageShow],
    [d.window, 'online', onNetwork],
    ...(d.connection ? [[d.connection, 'change', onNetwork] as [EventTarget, string, () => void]] : []),
  ];
  for (const [target, type, fn] of listen) target.addEventListener(type, fn);
  d.visibilityChanged(visible());
  wake.sync(visible());
  return () => {
    unsubscribe();
    for (const [target, type, fn] of listen) target.removeEventListener(type, fn);
    wake.sync(false);
  };
}

/** Holds the screen wake lock exactly while it is wanted; one request in flight at a time. */
function wakeLockKeeper(d: PageLifeDeps) {
  let held: WakeLockSentinelLike | null = null;
  let asking = false;
  /** Refused once: not asked again (on every state change) until the page is shown anew. */
  let refused = false;
  const release = () => {
    const lock = held;
    held = null;
    lock?.release().catch((e) => d.warn('meshdrop: could not release the screen wake lock', e));
  };
  const sync = (visible: boolean): void => {
    const want = wantWakeLock(d.running(), visible);
    if (!want) return release();
    if (held || asking || refused || !d.wakeLock) return;
    asking = true;
    d.wakeLock.request('screen').then(
      (lock) => {
        asking = false;
        held = lock;
        // The browser lets go by itself when the page is hidden.
        lock.addEventListener('release', () => held === lock && (held = null));
        sync(d.document.visibilityState === 'visible'); // the transfer may have ended meanwhile
      },
      (e) => {
        asking = false;
        refused = true;
        d.warn('meshdrop: the screen may turn off during the transfer (no wake lock)', e);
      },
    );
  };
    const shown = () => {
    refused = false;
  };
  return { sync, shown };
}
