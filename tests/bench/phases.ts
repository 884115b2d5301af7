import { join } from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import {
  appStats, contextPeer, joinRoom, launchOptions, shareFile, startRoom, timedDownload, waitForHolders, type Peer,
} from './app.ts';
import { config, hashFile } from './infra.ts';
import { PageProfiler, type Hotspot } from './profile.ts';
import { watchCpu, type PhaseCpu } from './procs.ts';
import { rawRate, type RawResult, type RawShape } from './raw-channel.ts';
import type { DownloadRun } from './report.ts';
import { phases, summarizeHeap } from './sampler.ts';
import { packetsSince, packetStats } from './transport.ts';

/**
 * The measured phases. Each one builds its own room (a fresh secret), so no
 * phase sees another's files, and each downloader is a profile that has never
 * held the file: nothing is resumed from storage.
 */
export interface InputFile {
  path: string;
  name: string;
  mib: number;
  sha256: string;
}

/** Generous limits: a slow run should be reported, not killed (about 1 MiB/s, 2 minutes at least). */
const timeoutFor = (mib: number) => Math.max(120_000, mib * 1_000);

/** (a) Two contexts of one browser, the setup the brief names. */
export async function rawOneBrowser(mib: number): Promise<RawResult & { cpu: PhaseCpu; version: string }> {
  const browser = await chromium.launch(launchOptions('raw'));
  try {
    const [a, b] = await Promise.all([browser.newContext(), browser.newContext()]);
    const [pa, pb] = await Promise.all([a!.newPage(), b!.newPage()]);
    const cpu = watchCpu(['raw']);
    const result = await rawRate(pa, pb, mib);
    return { ...result, cpu: cpu(), version: browser.version() };
  } finally {
    await browser.close();
  }
}

/** (a') The same channel between the two browser processes (b) uses: the like-for-like baseline. */
export async function rawTwoBrowsers(from: Peer, to: Peer, mib: number, shape?: RawShape): Promise<RawResult & { cpu: PhaseCpu }> {
  const [pa, pb] = await Promise.all([from.context.newPage(), to.context.newPage()]);
  try {
    const cpu = watchCpu([from.label, to.label]);
    const result = await rawRate(pa, pb, mib, shape);
    return { ...result, cpu: cpu() };
  } finally {
    await Promise.all([pa.close(), pb.close()]);
  }
}

/**
 * Times one download through the UI, from the click to the saved file, and
 * gathers what explains the figure: progress phases, heap, the app's counters
 * and CPU seconds per browser.
 */
export async function timeDownload(
  downloader: Peer, holders: Peer[], file: InputFile, cpuLabels: string[], shareSeconds: number[],
): Promise<DownloadRun> {
  const pages = [downloader, ...holders].map((p) => p.page);
  const packetsBefore = await packetStats(pages);
  const cpu = watchCpu(cpuLabels);
  const timed = await timedDownload(downloader, file.name, timeoutFor(file.mib));
  const cpuSpent = cpu();
  const [stats, ...holderStats] = await Promise.all(pages.map((p) => appStats(p)));
  return {
    mib: file.mib,
    holders: holders.length,
    shareSeconds,
    clickToEventSeconds: timed.clickToEventSeconds,
    clickToSavedSeconds: timed.clickToSavedSeconds,
    mibPerSec: file.mib / timed.clickToEventSeconds,
    sha256Matches: (await hashFile(timed.path)) === file.sha256,
    phases: phases(timed.samples, timed.clickToEventSeconds),
    heap: summarizeHeap(timed.samples),
    downloader: stats ? (Object.values(stats.downloads)[0] ?? null) : null,
    uploadedByHolder: holderStats.map((s) => s?.uploadedBytes ?? 0),
    cpu: cpuSpent,
    packets: packetsSince(packetsBefore, await packetStats(pages)),
  };
}

/** (b) + (d): one sharer, one downloader, each a browser with its own on-disk profile. */
export async function pipeline(
  base: string, sharer: Peer, downloader: Peer, file: InputFile,
): Promise<{ run: DownloadRun; profile?: { sharer: Hotspot[]; downloader: Hotspot[] } }> {
  const link = await startRoom(sharer.page, base);
  const sharerName = await sharer.page.getByLabel('Your name in this room').inputValue();
  await joinRoom(downloader.page, link);
  const shareSeconds = await shareFile(sharer.page, file.path, file.name, timeoutFor(file.mib));
  console.log(`  (b) shared ${file.mib} MiB in ${shareSeconds.toFixed(1)} s (not timed); downloading...`);
  await waitForHolders(downloader.page, file.name, [sharerName], 1);
  const profilers = config.profile ? await Promise.all([PageProfiler.start(sharer.page), PageProfiler.start(downloader.page)]) : null;
  const run = await timeDownload(downloader, [sharer], file, [sharer.label, downloader.label], [shareSeconds]);
  if (!profilers) return { run };
  const [ps, pd] = profilers;
  return {
    run,
    profile: {
      sharer: await ps!.stop(join('test-results', 'bench-sharer.cpuprofile')),
      downloader: await pd!.stop(join('test-results', 'bench-downloader.cpuprofile')),
    },
  };
}

/**
 * (c) One downloader and `n` holders in one shared browser (contexts, IndexedDB
 * in memory: cheaper on 2 cores, and the holders' upload cap, not storage, is
 * meant to be the limit). Every holder shares the same bytes, which gives the
 * same content-addressed file id, so the downloader sees one file with n holders.
 */
export async function swarm(base: string, browser: Browser, file: InputFile, n: number): Promise<DownloadRun> {
  const downloader = await contextPeer(browser, `swarm-dl-${n}`);
  const holders: Peer[] = [];
  try {
    for (let i = 0; i < n; i++) holders.push(await contextPeer(browser, `swarm-h${i + 1}-of-${n}`));
    const link = await startRoom(downloader.page, base);
    const names = await Promise.all(holders.map((h) => joinRoom(h.page, link, `?uplimit=${config.upLimit}`)));
    const shareSeconds = await Promise.all(holders.map((h) => shareFile(h.page, file.path, file.name, timeoutFor(file.mib * n))));
    await waitForHolders(downloader.page, file.name, names, n);
    console.log(`  (c) ${n} holder(s) ready; downloading ${file.mib} MiB...`);
    return await timeDownload(downloader, holders, file, ['swarm'], shareSeconds);
  } finally {
    await Promise.all([downloader, ...holders].map((p) => p.context.close().catch(() => undefined)));
  }
}
