import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { contextPeer, joinRoom, launchOptions, shareFile, startRoom, type Peer } from './app.ts';
import { buildApp, sleep, sourcesAt, startServer, writeRandomFile, type Cleanup } from './infra.ts';
import { JOINED, maxOf, medianOf, perStep, stepsText, sumCpu, timeJoin, watchRows, type JoinTimes } from './join-page.ts';
import { watchCpu, type PhaseCpu } from './procs.ts';

/**
 * Goal 5 of issue 11: from opening a room link to seeing the room's files and
 * being linked to a peer, under 1 s on a LAN. A room is set up (holders, each
 * a context of one browser, sharing small files round robin); a newcomer in a
 * browser of its own opens the link again and again: a fresh context each
 * time (a first visit: no identity, empty storage; it leaves afterwards) or
 * one on-disk profile reloading the page (a returning visitor). See
 * join-page.ts for what is read on the newcomer's page.
 *
 * BENCH_JOIN_VS=<git ref> runs the same joins against that commit too, in the
 * same run: each version gets its own server and its own room, and the
 * newcomer alternates between them join by join, so the machine's ups and
 * downs (other people's runs) hit both alike.
 * BENCH_JOIN_ROUNDS (10): joins per scenario and version; BENCH_JOIN_ROOMS
 * ("1x3,4x4"): the rooms, as holders x files.
 */
export type Visit = 'first' | 'return';

export interface JoinScenario {
  /** 'this' (the benchmarked sources) or the BENCH_JOIN_VS ref. */
  version: string;
  label: string;
  holders: number;
  files: number;
  visit: Visit;
  runs: JoinTimes[];
  median: JoinTimes;
  max: JoinTimes;
  /** Runs in which the newcomer dialled (the lower peer id dials in a small room); in the others it answered. */
  dialled: number;
  /** Summed over the joins themselves (navigation to joined), not the pauses between them. */
  cpu: PhaseCpu;
}

export interface JoinResults {
  rounds: number;
  versus?: string;
  scenarios: JoinScenario[];
}

interface RoomShape {
  holders: number;
  files: number;
}

interface Version {
  name: string;
  base: string;
}

const FILE_MIB = 1;
/** After a newcomer leaves: time for the room to hear of it, so the next join starts from a settled room. */
const SETTLE_MS = 1_000;
const ROUNDS = rounds(process.env.BENCH_JOIN_ROUNDS);
const SHAPES = shapes(process.env.BENCH_JOIN_ROOMS || '1x3,4x4');
const VERSUS = process.env.BENCH_JOIN_VS || undefined;

function rounds(raw: string | undefined): number {
  const n = raw === undefined || raw === '' ? 10 : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_JOIN_ROUNDS must be a positive whole number, got ${raw}`);
  return n;
}

function shapes(raw: string): RoomShape[] {
  return raw.split(',').map((text) => {
    const [holders, files] = text.trim().split('x').map(Number);
    if (!Number.isInteger(holders) || !Number.isInteger(files) || holders! < 1 || files! < 1) {
      throw new Error(`BENCH_JOIN_ROOMS: "${text}" is not <holders>x<files>, e.g. 1x3`);
    }
    return { holders: holders!, files: files! };
  });
}

/** The version under test, and the BENCH_JOIN_VS commit built and served beside it. */
async function versions(base: string, root: string, cleanup: Cleanup): Promise<Version[]> {
  if (!VERSUS) return [{ name: 'this', base }];
  console.log(`  join: building ${VERSUS} to compare with...`);
  const sources = sourcesAt(VERSUS, join(root, 'join-vs-sources'));
  const dist = join(root, 'join-vs-dist');
  buildApp(sources, dist);
  return [{ name: 'this', base }, { name: VERSUS, base: await startServer(cleanup, sources, dist, join(root, 'join-vs-server.log')) }];
}

/** A room of `holders` peers in `browser`, sharing `files` small files between them (round robin). */
async function makeRoom(base: string, browser: Browser, root: string, tag: string, shape: RoomShape): Promise<string> {
  const peers: Peer[] = [];
  for (let i = 0; i < shape.holders; i++) peers.push(await contextPeer(browser, `${tag}-h${i + 1}`));
  const link = await startRoom(peers[0]!.page, base);
  for (const p of peers.slice(1)) await joinRoom(p.page, link);
  for (let f = 0; f < shape.files; f++) {
    const name = `${tag}-${f + 1}.bin`;
    const path = join(root, name);
    writeRandomFile(path, FILE_MIB);
    await shareFile(peers[f % shape.holders]!.page, path, name, 60_000);
  }
  return link;
}

/** One timed join, with the CPU of the room's and the newcomer's browsers meanwhile. */
async function measuredJoin(labels: string[], page: Page, navigate: () => Promise<unknown>): Promise<{ times: JoinTimes; cpu: PhaseCpu }> {
  const cpu = watchCpu(labels);
  const times = await timeJoin(page, navigate);
  return { times, cpu: cpu() };
}

type Joins = { times: JoinTimes; cpu: PhaseCpu }[][];

/** First visits: a new context (empty profile, new identity) per join, closed after it (the newcomer leaves). */
async function firstVisits(newcomer: Browser, labels: string[], links: string[], files: number): Promise<Joins> {
  const joins: Joins = links.map(() => []);
  for (let i = 0; i < ROUNDS; i++) {
    for (const [v, link] of links.entries()) {
      const context = await newcomer.newContext();
      try {
        await context.addInitScript(watchRows, files);
        const page = await context.newPage();
        joins[v]!.push(await measuredJoin(labels, page, () => page.goto(link)));
      } finally {
        await context.close();
      }
      await sleep(SETTLE_MS);
    }
  }
  return joins;
}

/** Returning visits: one on-disk profile per version, a first visit each (not counted), then reloads of the room page. */
async function returnVisits(profiles: BrowserContext[], labels: string[][], links: string[], files: number): Promise<Joins> {
  const pages: Page[] = [];
  for (const [v, context] of profiles.entries()) {
    await context.addInitScript(watchRows, files);
    const page = context.pages()[0] ?? (await context.newPage());
    await timeJoin(page, () => page.goto(links[v]!));
    pages.push(page);
  }
  const joins: Joins = links.map(() => []);
  for (let i = 0; i < ROUNDS; i++) {
    for (const [v, page] of pages.entries()) {
      await sleep(SETTLE_MS);
      joins[v]!.push(await measuredJoin(labels[v]!, page, () => page.reload()));
    }
  }
  return joins;
}

function summary(version: string, shape: RoomShape, visit: Visit, joins: { times: JoinTimes; cpu: PhaseCpu }[]): JoinScenario {
  const runs = joins.map((j) => j.times);
  const dialled = runs.filter((r) => r.dial !== undefined && (r['signal-in'] === undefined || r.dial <= r['signal-in'])).length;
  const label = `${shape.holders} holder${shape.holders > 1 ? 's' : ''}, ${shape.files} files, ${visit} visit${version === 'this' ? '' : ` (${version})`}`;
  return { version, label, ...shape, visit, runs, median: perStep(runs, medianOf), max: perStep(runs, maxOf), dialled, cpu: sumCpu(joins.map((j) => j.cpu)) };
}

/** A browser of its own for the duration of `fn`. */
async function withBrowser<T>(label: string, cleanup: Cleanup, fn: (b: Browser) => Promise<T>): Promise<T> {
  const browser = await chromium.launch(launchOptions(label));
  cleanup.add(`close ${label}`, () => browser.close());
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}

/** On-disk profiles, one per label, for the duration of `fn`. */
async function withProfiles<T>(root: string, labels: string[], cleanup: Cleanup, fn: (c: BrowserContext[]) => Promise<T>): Promise<T> {
  const contexts: BrowserContext[] = [];
  try {
    for (const label of labels) {
      const context = await chromium.launchPersistentContext(join(root, `profile-${label}`), launchOptions(label));
      cleanup.add(`close ${label}`, () => context.close());
      contexts.push(context);
    }
    return await fn(contexts);
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
}

/** One room shape: a room per version, then first visits and returning visits, alternating versions join by join. */
async function scenario(vs: Version[], root: string, cleanup: Cleanup, shape: RoomShape): Promise<JoinScenario[]> {
  const tag = `join-${shape.holders}x${shape.files}`;
  const roomLabel = `${tag}-room`;
  return withBrowser(roomLabel, cleanup, async (roomBrowser) => {
    const links: string[] = [];
    for (const [i, v] of vs.entries()) links.push(await makeRoom(v.base, roomBrowser, root, `${tag}-v${i}`, shape));
    console.log(`  join: ${shape.holders} holder(s), ${shape.files} files: ${ROUNDS} first visits per version...`);
    const firstLabel = `${tag}-first`;
    const first = await withBrowser(firstLabel, cleanup, (b) => firstVisits(b, [roomLabel, firstLabel], links, shape.files));
    console.log(`  join: ${shape.holders} holder(s), ${shape.files} files: ${ROUNDS} reloads per version...`);
    const returnLabels = vs.map((_, i) => `${tag}-return-v${i}`);
    const back = await withProfiles(root, returnLabels, cleanup, (c) => returnVisits(c, returnLabels.map((l) => [roomLabel, l]), links, shape.files));
    const out = [
      ...vs.map((v, i) => summary(v.name, shape, 'first', first[i]!)),
      ...vs.map((v, i) => summary(v.name, shape, 'return', back[i]!)),
    ];
    out.forEach(sayJoin);
    return out;
  });
}

function sayJoin(s: JoinScenario): void {
  console.log(`  -> ${s.label}: joined in ${s.median[JOINED]} ms median, ${s.max[JOINED]} ms max (${s.runs.length} joins, dialled ${s.dialled}); ` +
    `other people's processes used ${s.cpu.otherSeconds} CPU s during them (${s.cpu.wallSeconds} s)`);
  console.log(`     median: ${stepsText(s.median)}`);
}

/** Every room shape, first and returning visits, for each version. */
export async function joinPhase(base: string, root: string, cleanup: Cleanup): Promise<JoinResults> {
  const vs = await versions(base, root, cleanup);
  const scenarios: JoinScenario[] = [];
  for (const shape of SHAPES) scenarios.push(...(await scenario(vs, root, cleanup, shape)));
  return { rounds: ROUNDS, ...(VERSUS ? { versus: VERSUS } : {}), scenarios };
}
