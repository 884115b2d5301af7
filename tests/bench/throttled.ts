import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { joinRoom, persistentPeer, shareFile, startRoom, waitForHolders, type Peer } from './app.ts';
import { config, type Cleanup } from './infra.ts';
import { timeDownload, type InputFile } from './phases.ts';
import { usage } from './procs.ts';
import { PageProfiler } from './profile.ts';
import type { DownloadRun } from './report.ts';
import { functionsDuring, readProfile } from './throttled-profile.ts';
import { PageTrace, type FrameTasks, type TracedTask } from './throttled-trace.ts';

/**
 * Goal 6 of issue 11, phones: (b)'s transfer again, one sharer and a fresh
 * downloader per variant, the downloader's CPU unthrottled, then 4x slower
 * (CDP Emulation.setCPUThrottlingRate, as DevTools' "4x slowdown"), then 4x
 * slower in a phone's viewport (360x740, touch). Each downloader closes before
 * the next one joins, so every variant downloads from the sharer alone.
 *
 * The downloading page counts its long tasks (PerformanceObserver 'longtask':
 * main-thread tasks over 50 ms) from just before the click to the download
 * event, and a trace (throttled-trace.ts) gives each task's wall and CPU time:
 * on this shared machine a task's wall time also holds the time its thread
 * waited for a core. The goal: none over 100 ms. With BENCH_PROFILE=1 the
 * first throttled variant is also CPU-profiled: each task over 50 ms is listed
 * with what ran in it (profiling slows the page further: the figures of that
 * variant are then not the goal's).
 */
export interface LongTasks {
  /** Tasks over 50 ms (the API's threshold), their count, how many were over 100 ms, the longest. */
  count: number;
  over100: number;
  maxMs: number;
  /** Every duration in ms, longest first (at most 20). */
  longest: number[];
}

/** Main-thread tasks from the trace: by wall time (as the page feels them) and by the thread's CPU time. */
export interface TaskCounts {
  over50: number;
  over100: number;
  maxMs: number;
  cpuOver50: number;
  cpuOver100: number;
  maxCpuMs: number;
  /** The main thread's CPU time in all its tasks, long or short: what the page's work costs (throttled: with the spinning). */
  mainThreadCpuMs: number;
  /** The tasks that rendered (animation-frame callbacks), by CPU time. */
  frames: FrameTasks;
}

export interface PhoneRun extends DownloadRun {
  variant: string;
  cpuThrottlingRate: number;
  phoneViewport: boolean;
  longTasks: LongTasks | null;
  tracedTasks: TaskCounts;
  /** The 3 traced tasks with the most CPU, with what ran in them (the trace's events, without a profile). */
  worst: TracedTask[];
  /** BENCH_PROFILE=1 only: the traced tasks over 50 ms, with the JS the CPU profile saw in each. */
  traced?: (TracedTask & { functions: string[] })[];
}

export interface PhoneResults {
  mib: number;
  runs: PhoneRun[];
  /** The same JS loop unthrottled and at 4x: wall time and the main thread's CPU time (absent in older runs). */
  throttle?: ThrottleCheck;
}

export interface ThrottleCheck {
  unthrottled: { wallMs: number; threadCpuMs: number };
  throttled: { wallMs: number; threadCpuMs: number };
}

/**
 * What the throttle does to a task's clocks. Chromium throttles by making the
 * main thread spin, not sleep: a loop 4x slower also uses 4x the thread's CPU.
 * So a task's thread CPU under the throttle is its length on a phone 4x slower,
 * while its wall time here adds the time the thread waited for one of this
 * machine's 2 cores, which the sharer's browser and the downloader's own
 * network threads use too (a phone shares its cores with neither).
 */
async function throttleCheck(cleanup: Cleanup, root: string, base: string): Promise<ThrottleCheck> {
  const peer = await persistentPeer(root, 'phone-throttle', cleanup);
  try {
    await peer.page.goto(`${base}/manifest.webmanifest`); // a page with no app in it
    const cdp = await peer.context.newCDPSession(peer.page);
    const measure = async (rate: number) => {
      await cdp.send('Emulation.setCPUThrottlingRate', { rate });
      const before = usage(peer.label).rendererThreads.chromium ?? 0;
      const t0 = performance.now();
      await peer.page.evaluate('(() => { let x = 0; for (let i = 0; i < 1e8; i++) x = (x + i * 7) % 1000003; return x; })()');
      const wallMs = Math.round(performance.now() - t0);
      return { wallMs, threadCpuMs: Math.round(((usage(peer.label).rendererThreads.chromium ?? 0) - before) * 1000) };
    };
    return { unthrottled: await measure(1), throttled: await measure(4) };
  } finally {
    await peer.context.close();
  }
}

const VARIANTS = [
  { variant: 'unthrottled', cpuThrottlingRate: 1, phoneViewport: false },
  { variant: 'CPU 4x slower', cpuThrottlingRate: 4, phoneViewport: false },
  { variant: 'CPU 4x slower, phone 360x740 touch', cpuThrottlingRate: 4, phoneViewport: true },
];
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** Installed before the app's first script: a longtask entry cannot be observed after the fact without `buffered`. */
const OBSERVE_LONG_TASKS = `(() => {
  window.__longTasks = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
    .observe({ type: 'longtask' });
})()`;

async function longTasks(page: Page): Promise<LongTasks | null> {
  const all = (await page.evaluate('window.__longTasks || null')) as number[] | null;
  if (!all) return null;
  const sorted = all.map(Math.round).sort((a, b) => b - a);
  return { count: sorted.length, over100: sorted.filter((d) => d > 100).length, maxMs: sorted[0] ?? 0, longest: sorted.slice(0, 20) };
}

/** Each traced task over 50 ms, with the JS the CPU profile saw during it. */
async function explain(profiler: PageProfiler, tasks: TracedTask[]): Promise<PhoneRun['traced']> {
  const path = join('test-results', 'bench-phone-downloader.cpuprofile');
  await profiler.stop(path);
  const profile = readProfile(path);
  return tasks.map((t) => ({ ...t, functions: functionsDuring(profile, t.from, t.to) }));
}

function taskCounts(tasks: TracedTask[]): Omit<TaskCounts, 'mainThreadCpuMs' | 'frames'> {
  const cpu = tasks.map((t) => t.cpuMs ?? 0);
  return {
    over50: tasks.length, over100: tasks.filter((t) => t.ms > 100).length, maxMs: tasks[0]?.ms ?? 0,
    cpuOver50: cpu.filter((c) => c > 50).length, cpuOver100: cpu.filter((c) => c > 100).length, maxCpuMs: Math.max(0, ...cpu),
  };
}

const timeoutFor = (mib: number) => Math.max(120_000, mib * 1_000);

async function variantRun(
  i: number, v: (typeof VARIANTS)[number], sharer: Peer, sharerName: string, link: string, file: InputFile, cleanup: Cleanup, root: string,
): Promise<PhoneRun> {
  const downloader = await persistentPeer(root, `phone-dl${i}`, cleanup, v.phoneViewport ? PHONE : {});
  try {
    await downloader.context.addInitScript(OBSERVE_LONG_TASKS);
    await joinRoom(downloader.page, link);
    await waitForHolders(downloader.page, file.name, [sharerName], 1);
    const cdp = await downloader.context.newCDPSession(downloader.page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: v.cpuThrottlingRate });
    const profiler = config.profile && i === 1 ? await PageProfiler.start(downloader.page) : null;
    const trace = await PageTrace.start(cdp);
    await downloader.page.evaluate('window.__longTasks.length = 0'); // joining is goal 5's business, not this one's
    const run = await timeDownload(downloader, [sharer], file, [sharer.label, downloader.label], []);
    const observed = await longTasks(downloader.page);
    const { tasks, mainThreadCpuMs, frames } = await trace.stop(50);
    const byCpu = [...tasks].sort((a, b) => (b.cpuMs ?? 0) - (a.cpuMs ?? 0));
    const traced = profiler ? await explain(profiler, byCpu.slice(0, 12)) : undefined;
    await cdp.detach();
    return { ...run, ...v, longTasks: observed, tracedTasks: { ...taskCounts(tasks), mainThreadCpuMs, frames }, worst: byCpu.slice(0, 3), traced };
  } finally {
    await downloader.context.close();
  }
}

export const sayPhone = (r: PhoneRun) =>
  console.log(`  -> ${r.variant}: ${r.mibPerSec.toFixed(1)} MiB/s (${r.clickToEventSeconds.toFixed(1)} s), sha256 ${r.sha256Matches ? 'ok' : 'MISMATCH'}, ` +
    `long tasks ${r.longTasks ? `${r.longTasks.count} (> 100 ms: ${r.longTasks.over100}, longest ${r.longTasks.maxMs} ms)` : 'not observable'}, ` +
    `by CPU time > 50 ms: ${r.tracedTasks.cpuOver50} (> 100 ms: ${r.tracedTasks.cpuOver100}, most ${r.tracedTasks.maxCpuMs} ms), ` +
    `main thread CPU ${r.tracedTasks.mainThreadCpuMs} ms; ` +
    `render tasks ${r.tracedTasks.frames.count}, CPU ${r.tracedTasks.frames.cpuMs} ms (median ${r.tracedTasks.frames.medianCpuMs}, most ${r.tracedTasks.frames.maxCpuMs}; ` +
    `${Object.entries(r.tracedTasks.frames.inside).map(([k, v]) => `${k} ${v}`).join(', ')} ms wall); ` +
    `other people's processes used ${r.cpu.otherSeconds} CPU s meanwhile` +
    r.worst.map((t) => `\n     most CPU: ${t.cpuMs} ms (${t.ms} wall): ${t.inside.join(', ')}`).join(''));

/** One sharer shares the main file once; each variant's downloader fetches it from that sharer alone. */
export async function phonePhase(cleanup: Cleanup, root: string, base: string, file: InputFile): Promise<PhoneResults> {
  const throttle = await throttleCheck(cleanup, root, base);
  console.log(`(phone) the throttle: a JS loop takes ${throttle.unthrottled.wallMs} ms wall / ${throttle.unthrottled.threadCpuMs} ms thread CPU unthrottled, ` +
    `${throttle.throttled.wallMs} / ${throttle.throttled.threadCpuMs} ms at 4x`);
  const sharer = await persistentPeer(root, 'phone-sharer', cleanup);
  try {
    const link = await startRoom(sharer.page, base);
    const sharerName = await sharer.page.getByLabel('Your name in this room').inputValue();
    const shareSeconds = await shareFile(sharer.page, file.path, file.name, timeoutFor(file.mib));
    console.log(`(phone) shared ${file.mib} MiB in ${shareSeconds.toFixed(1)} s (not timed)`);
    const runs: PhoneRun[] = [];
    for (const [i, v] of VARIANTS.entries()) {
      console.log(`(phone) ${v.variant}, ${file.mib} MiB...`);
      runs.push(await variantRun(i, v, sharer, sharerName, link, file, cleanup, root));
      sayPhone(runs.at(-1)!);
    }
    return { mib: file.mib, runs, throttle };
  } finally {
    await sharer.context.close();
  }
}
