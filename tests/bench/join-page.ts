import type { Page } from '@playwright/test';
import type { PhaseCpu } from './procs.ts';

/**
 * The newcomer's side of a join, read on its own page clock (ms since
 * navigation start): the app's steps from `__meshdrop.timeline()`
 * (src/app/join-timeline.ts), the browser's navigation timing, and when the
 * first and the last expected file row entered the DOM (a MutationObserver
 * added to the page before its scripts run).
 */
export type JoinTimes = Record<string, number>;

/** The step that ends a join: the room's files shown and a peer's identity proven on an open link. */
export const JOINED = 'joined';
const JOIN_TIMEOUT_MS = 30_000;

/** Runs in the page (context.addInitScript) before the app: when the first and the `expected`-th file row appeared. */
export function watchRows(expected: number): void {
  const t: { first?: number; all?: number } = {};
  (window as unknown as { __joinRows: typeof t }).__joinRows = t;
  new MutationObserver(() => {
    if (t.all !== undefined) return;
    const n = document.querySelectorAll('li.file').length;
    if (n >= 1) t.first ??= performance.now();
    if (n >= expected) t.all = performance.now();
  }).observe(document, { subtree: true, childList: true });
}

interface PageTimes {
  timeline: Record<string, number> | null;
  rows: { first?: number; all?: number };
  nav: { responseEnd: number; domContentLoaded: number } | null;
  /** When the app's script had arrived (resource timing). */
  js: number | null;
}

function readTimes(): PageTimes {
  const w = window as unknown as { __meshdrop?: { timeline(): Record<string, number> }; __joinRows?: PageTimes['rows'] };
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  const scripts = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => r.initiatorType === 'script');
  return {
    timeline: w.__meshdrop?.timeline() ?? null,
    rows: w.__joinRows ?? {},
    nav: nav ? { responseEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd } : null,
    js: scripts.length > 0 ? Math.max(...scripts.map((r) => r.responseEnd)) : null,
  };
}

function joinedNow(): boolean {
  const w = window as unknown as { __meshdrop?: { timeline(): Record<string, number> }; __joinRows?: { all?: number } };
  return w.__meshdrop?.timeline()['hello-ok'] !== undefined && w.__joinRows?.all !== undefined;
}

/** Navigates, waits for the join to complete and reads every moment of it. */
export async function timeJoin(page: Page, navigate: () => Promise<unknown>): Promise<JoinTimes> {
  await navigate();
  await page.waitForFunction(joinedNow, undefined, { polling: 100, timeout: JOIN_TIMEOUT_MS });
  const { timeline, rows, nav, js } = await page.evaluate(readTimes);
  const times: JoinTimes = { ...timeline };
  if (nav) Object.assign(times, { html: nav.responseEnd, interactive: nav.domContentLoaded });
  if (js !== null) times.js = js;
  if (rows.first !== undefined) times['first-row'] = rows.first;
  if (rows.all !== undefined) times['all-rows'] = rows.all;
  times[JOINED] = Math.max(times['all-rows'] ?? Infinity, times['hello-ok'] ?? Infinity);
  for (const k of Object.keys(times)) times[k] = Math.round(times[k]!);
  return times;
}

/** The steps in the order a join goes through them, for the report. */
export const JOIN_STEPS = [
  'html', 'js', 'script', 'interactive', 'keys', 'tab', 'identity', 'engine', 'storage', 'welcome', 'dial', 'signal-out', 'signal-in',
  'link-open', 'hello-sent', 'hello-ok', 'catalogue', 'first-row', 'all-rows', JOINED, 'library',
];

export const stepsText = (t: JoinTimes) => JOIN_STEPS.filter((s) => t[s] !== undefined).map((s) => `${s} ${t[s]}`).join(', ');

/** Per step, over the runs that reached it. */
export function perStep(runs: JoinTimes[], pick: (sorted: number[]) => number): JoinTimes {
  const out: JoinTimes = {};
  for (const step of new Set(runs.flatMap((r) => Object.keys(r)))) {
    const xs = runs.map((r) => r[step]).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    if (xs.length > 0) out[step] = pick(xs);
  }
  return out;
}
export const medianOf = (sorted: number[]) => sorted[Math.floor(sorted.length / 2)]!;
export const maxOf = (sorted: number[]) => sorted.at(-1)!;

/** CPU readings of several joins as one: each is read while its browser still runs (a closed context's renderer is gone from /proc). */
export function sumCpu(parts: PhaseCpu[]): PhaseCpu {
  const round = (x: number) => Math.round(x * 10) / 10;
  const sum = (f: (c: PhaseCpu) => number) => round(parts.reduce((a, c) => a + f(c), 0));
  const own: PhaseCpu['own'] = {};
  for (const part of parts) {
    for (const [label, types] of Object.entries(part.own)) {
      const into = (own[label] ??= {});
      for (const [type, s] of Object.entries(types)) into[type] = round((into[type] ?? 0) + s);
    }
  }
  const wallSeconds = sum((c) => c.wallSeconds);
  const busy = parts.reduce((a, c) => a + c.machineBusyCores * c.wallSeconds, 0);
  return {
    wallSeconds, own, benchNodeSeconds: sum((c) => c.benchNodeSeconds), otherSeconds: sum((c) => c.otherSeconds),
    machineBusyCores: wallSeconds > 0 ? round(busy / wallSeconds) : 0, loadAverage: parts.at(-1)?.loadAverage ?? 0,
  };
}
