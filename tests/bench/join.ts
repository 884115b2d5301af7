import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { contextPeer, joinRoom, launchOptions, shareFile, startRoom, type Peer } from './app.ts';
import { sleep, writeRandomFile, type Cleanup } from './infra.ts';
import { watchCpu, type PhaseCpu } from './procs.ts';

/**
 * Goal 5 of issue 11: from opening a room link to seeing the room's files and
 * being linked to a peer, under 1 s on a LAN. A room is set up (holders in
 * one browser, each sharing small files); a newcomer in a browser of its own
 * opens the link again and again: a fresh profile each time (a first visit:
 * no identity, empty storage) or one on-disk profile reloading the page (a
 * returning visitor). Every moment is read on the newcomer's page clock
 * (ms since navigation start): the app's own steps from
 * `__meshdrop.timeline()` (src/app/join-timeline.ts), the browser's
 * navigation timing, and the moments the first and the last expected file
 * row were rendered (a MutationObserver the bench adds to the page).
 */
export type Visit = 'first' | 'return';

/** One join: each step's time in ms since navigation start. */
export type JoinTimes = Record<string, number>;

export interface JoinScenario {
  label: string;
  holders: number;
  files: number;
  visit: Visit;
  runs: JoinTimes[];
  /** Per step, over the runs that reached it. */
  median: JoinTimes;
  max: JoinTimes;
  /** Runs in which the newcomer dialled (the lower peer id dials in a small room); the others answered. */
  dialled: number;
  cpu: PhaseCpu;
}

export interface JoinResults {
  rounds: number;
  scenarios: JoinScenario[];
}

/** The step that ends a join: files shown and a peer's identity proven on an open link. */
export const JOINED = 'joined';
const FILE_MIB = 1;
/** Joins per scenario (BENCH_JOIN_ROUNDS, default 10): median and max are reported. */
const ROUNDS = rounds(process.env.BENCH_JOIN_ROUNDS);

interface RoomShape {
  holders: number;
  files: number;
}

/** The rooms joined (BENCH_JOIN_ROOMS, default "1x3,4x4": holders x files, shared round robin). */
const SHAPES = shapes(process.env.BENCH_JOIN_ROOMS || '1x3,4x4');

function shapes(raw: string): RoomShape[] {
  return raw.split(',').map((text) => {
    const [holders, files] = text.trim().split('x').map(Number);
    if (!Number.isInteger(holders) || !Number.isInteger(files) || holders! < 1 || files! < 1) {
      throw new Error(`BENCH_JOIN_ROOMS: "${text}" is not <holders>x<files>, e.g. 1x3`);
    }
    return { holders: holders!, files: files! };
  });
}

function rounds(raw: string | undefined): number {
  const n = raw === undefined || raw === '' ? 10 : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_JOIN_ROUNDS must be a positive whole number, got ${raw}`);
  return n;
}
const JOIN_TIMEOUT_MS = 30_000;
/** After a newcomer leaves: time for the room to hear of it, so the next join starts from a settled room. */
const SETTLE_MS = 1_000;

/** The page-side recorder: when the first and the `expected`-th file row entered the DOM. */
function watchRows(expected: number): void {
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
}

function readTimes(): PageTimes {
  const w = window as unknown as { __meshdrop?: { timeline(): Record<string, number> }; __joinRows?: PageTimes['rows'] };
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  return {
    timeline: w.__meshdrop?.timeline() ?? null,
    rows: w.__joinRows ?? {},
    nav: nav ? { responseEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd } : null,
  };
}

const joinedNow = (): boolean => {
  const w = window as unknown as { __meshdrop?: { timeline(): Record<string, number> }; __joinRows?: { all?: number } };
  return w.__meshdrop?.timeline()['hello-ok'] !== undefined && w.__joinRows?.all !== undefined;
};

/** Waits for the join to complete (or time out) and reads every moment. */
async function timeJoin(page: Page, navigate: () => Promise<unknown>): Promise<JoinTimes> {
  await navigate();
  await page.waitForFunction(joinedNow, undefined, { polling: 100, timeout: JOIN_TIMEOUT_MS });
  const { timeline, rows, nav } = await page.evaluate(readTimes);
  const times: JoinTimes = { ...timeline };
  if (nav) Object.assign(times, { html: nav.responseEnd, interactive: nav.domContentLoaded });
  if (rows.first !== undefined) times['first-row'] = rows.first;
  if (rows.all !== undefined) times['all-rows'] = rows.all;
  times[JOINED] = Math.max(times['all-rows'] ?? Infinity, times['hello-ok'] ?? Infinity);
  for (const k of Object.keys(times)) times[k] = Math.round(times[k]!);
  return times;
}

function summarize(runs: JoinTimes[], pick: (xs: number[]) => number): JoinTimes {
  const out: JoinTimes = {};
  const steps = new Set(runs.flatMap((r) => Object.keys(r)));
  for (const step of steps) {
    const xs = runs.map((r) => r[step]).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    if (xs.length > 0) out[step] = pick(xs);
  }
  return out;
}
const medianOf = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
const maxOf = (xs: number[]) => xs.at(-1)!;

/** A room of `holders` peers in one browser, sharing `files` small files between them (round robin). */
async function makeRoom(base: string, browser: Browser, root: string, tag: string, holders: number, files: number): Promise<{ link: string; peers: Peer[] }> {
  const peers: Peer[] = [];
  for (let i = 0; i < holders; i++) peers.push(await contextPeer(browser, `join-${tag}-h${i + 1}`));
  const link = await startRoom(peers[0]!.page, base);
  for (const p of peers.slice(1)) await joinRoom(p.page, link);
  for (let f = 0; f < files; f++) {
    const name = `join-${tag}-${f + 1}.bin`;
    const path = join(root, name);
    writeRandomFile(path, FILE_MIB);
    await shareFile(peers[f % holders]!.page, path, name, 60_000);
  }
  return { link, peers };
}

/** `rounds` first visits: a new context (empty profile, new identity) each time, closed afterwards (the newcomer leaves). */
async function firstVisits(newcomer: Browser, link: string, files: number, rounds: number): Promise<JoinTimes[]> {
  const runs: JoinTimes[] = [];
  for (let i = 0; i < rounds; i++) {
    const context = await newcomer.newContext();
    try {
      await context.addInitScript(watchRows, files);
      const page = await context.newPage();
      runs.push(await timeJoin(page, () => page.goto(link)));
    } finally {
      await context.close();
    }
    await sleep(SETTLE_MS);
  }
  return runs;
}

/** One on-disk profile: a first visit (not counted), then `rounds` reloads of the room page. */
async function returnVisits(context: BrowserContext, link: string, files: number, rounds: number): Promise<JoinTimes[]> {
  await context.addInitScript(watchRows, files);
  const page = context.pages()[0] ?? (await context.newPage());
  await timeJoin(page, () => page.goto(link));
  const runs: JoinTimes[] = [];
  for (let i = 0; i < rounds; i++) {
    await sleep(SETTLE_MS);
    runs.push(await timeJoin(page, () => page.reload()));
  }
  return runs;
}

async function scenario(
  base: string, root: string, cleanup: Cleanup, shape: RoomShape,
): Promise<JoinScenario[]> {
  const tag = `${shape.holders}x${shape.files}`;
  const roomLabel = `join-room-${tag}`;
  const roomBrowser = await chromium.launch(launchOptions(roomLabel));
  cleanup.add(`close ${roomLabel}`, () => roomBrowser.close());
  const out: JoinScenario[] = [];
  try {
    const { link } = await makeRoom(base, roomBrowser, root, tag, shape.holders, shape.files);
    for (const visit of ['first', 'return'] as const) {
      const label = `join-new-${tag}-${visit}`;
      console.log(`  join: ${shape.holders} holder(s), ${shape.files} files, ${visit} visits x${ROUNDS}...`);
      // CPU is read while the newcomer's browser runs: once it is closed its processes are gone from /proc.
      const watched = <T>(fn: () => Promise<T>) => {
        const cpu = watchCpu([roomLabel, label]);
        return fn().then((value) => ({ value, cpu: cpu() }));
      };
      const { value: runs, cpu } = visit === 'first'
        ? await withBrowser(label, cleanup, (b) => watched(() => firstVisits(b, link, shape.files, ROUNDS)))
        : await withProfile(root, label, cleanup, (c) => watched(() => returnVisits(c, link, shape.files, ROUNDS)));
      const s = summary(`${shape.holders} holder${shape.holders > 1 ? 's' : ''}, ${shape.files} files, ${visit} visit`, shape, visit, runs, cpu);
      sayJoin(s);
      out.push(s);
    }
  } finally {
    await roomBrowser.close();
  }
  return out;
}

function summary(label: string, shape: RoomShape, visit: Visit, runs: JoinTimes[], cpu: PhaseCpu): JoinScenario {
  const dialled = runs.filter((r) => r.dial !== undefined && (r['signal-in'] === undefined || r.dial <= r['signal-in'])).length;
  return { label, ...shape, visit, runs, median: summarize(runs, medianOf), max: summarize(runs, maxOf), dialled, cpu };
}

async function withBrowser<T>(label: string, cleanup: Cleanup, fn: (b: Browser) => Promise<T>): Promise<T> {
  const browser = await chromium.launch(launchOptions(label));
  cleanup.add(`close ${label}`, () => browser.close());
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}

async function withProfile<T>(root: string, label: string, cleanup: Cleanup, fn: (c: BrowserContext) => Promise<T>): Promise<T> {
  const context = await chromium.launchPersistentContext(join(root, `profile-${label}`), launchOptions(label));
  cleanup.add(`close ${label}`, () => context.close());
  try {
    return await fn(context);
  } finally {
    await context.close();
  }
}

/** The steps in the order a join goes through them, for the report. */
export const JOIN_STEPS = [
  'html', 'script', 'interactive', 'keys', 'tab', 'identity', 'engine', 'storage', 'welcome', 'dial', 'signal-out', 'signal-in',
  'link-open', 'hello-sent', 'hello-ok', 'catalogue', 'first-row', 'all-rows', JOINED, 'library',
];

export const stepsText = (t: JoinTimes) => JOIN_STEPS.filter((s) => t[s] !== undefined).map((s) => `${s} ${t[s]}`).join(', ');

function sayJoin(s: JoinScenario): void {
  console.log(`  -> joined in ${s.median[JOINED]} ms median, ${s.max[JOINED]} ms max (${s.runs.length} joins, dialled ${s.dialled}); ` +
    `other people's processes used ${s.cpu.otherSeconds} CPU s meanwhile`);
  console.log(`     median: ${stepsText(s.median)}`);
}

/** Each room shape, with first and returning visits. */
export async function joinPhase(base: string, root: string, cleanup: Cleanup): Promise<JoinResults> {
  const scenarios: JoinScenario[] = [];
  for (const shape of SHAPES) scenarios.push(...(await scenario(base, root, cleanup, shape)));
  return { rounds: ROUNDS, scenarios };
}
