import type { Page } from '@playwright/test';
import { persistentPeer, type Peer } from './app.ts';
import { hashFile, type Cleanup } from './infra.ts';
import { pipeline, type InputFile } from './phases.ts';
import { watchCpu, type PhaseCpu } from './procs.ts';
import type { DownloadRun } from './report.ts';
import { startTracker, type Leeched, type Seeded } from './webtorrent-page.ts';

/**
 * Goal 4 of issue 11: meshdrop against WebTorrent 3 on the same file, in the
 * same two browsers (on-disk profiles, as (b)), in the same run. Each round
 * launches a fresh pair of browsers and runs both transfers in them, the order
 * swapped every round so neither always gets the quieter half of the machine.
 *
 * WebTorrent: the seeder's page is handed the file as a File (setInputFiles,
 * as meshdrop's share is) and seeds it (hash + store, untimed); the leecher
 * adds the magnet link; the time runs from add() to the browser's download
 * event (the file handed over as meshdrop's Save does), like (b)'s click to
 * download event. add() to 'done' (all pieces verified and stored) is kept too.
 */
export interface WebTorrentRun {
  mib: number;
  seeded: Omit<Seeded, 'magnet'>;
  leeched: Leeched;
  addToEventSeconds: number;
  /** Size over add() to download event. */
  mibPerSec: number;
  sha256Matches: boolean;
  cpu: PhaseCpu;
}

export interface CompareRound {
  order: ('webtorrent' | 'meshdrop')[];
  webtorrent: WebTorrentRun;
  meshdrop: DownloadRun;
}

export interface CompareResults {
  mib: number;
  rounds: CompareRound[];
  /** Total WebTorrent time over total meshdrop time, all rounds: meshdrop's rate as a multiple of WebTorrent's. */
  ratio: number;
}

const timeoutFor = (mib: number) => Math.max(120_000, mib * 1_000);

/** BENCH_WT_ROUNDS: rounds of the comparison (default 2, one in each order). */
function roundsWanted(): number {
  const raw = process.env.BENCH_WT_ROUNDS;
  const n = raw ? Number(raw) : 2;
  if (!(n > 0) || !Number.isInteger(n)) throw new Error(`BENCH_WT_ROUNDS must be a positive whole number, got ${raw}`);
  return n;
}

async function webtorrentPage(peer: Peer, url: string): Promise<Page> {
  const page = await peer.context.newPage();
  await page.goto(url);
  await page.waitForFunction('window.__wt !== undefined');
  return page;
}

/** One WebTorrent transfer between two pages of the pair's browsers. */
async function webtorrentRun(url: string, seeder: Peer, leecher: Peer, file: InputFile): Promise<WebTorrentRun> {
  const [sp, lp] = [await webtorrentPage(seeder, url), await webtorrentPage(leecher, url)];
  try {
    await sp.locator('#file-input').setInputFiles(file.path);
    const { magnet, ...seeded } = (await sp.evaluate('window.__wt.seeded')) as Seeded;
    console.log(`  webtorrent seeded ${file.mib} MiB in ${seeded.seconds.toFixed(1)} s (not timed; ${seeded.pieces} pieces of ${seeded.pieceLength / 1024} KiB, ${seeded.store}); leeching...`);
    const cpu = watchCpu([seeder.label, leecher.label]);
    const t0 = performance.now();
    const leeched = (await lp.evaluate(`window.__wt.leech(${JSON.stringify(magnet)})`)) as Leeched;
    const event = lp.waitForEvent('download', { timeout: timeoutFor(file.mib) });
    await lp.evaluate('window.__wt.save()');
    const download = await event;
    const addToEventSeconds = (performance.now() - t0) / 1000;
    const cpuSpent = cpu();
    const path = await download.path();
    return {
      mib: file.mib, seeded, leeched, addToEventSeconds, mibPerSec: file.mib / addToEventSeconds,
      sha256Matches: (await hashFile(path)) === file.sha256, cpu: cpuSpent,
    };
  } finally {
    await Promise.all([sp.close(), lp.close()]);
  }
}

const sayWebTorrent = (r: WebTorrentRun) =>
  console.log(`  -> webtorrent ${r.mibPerSec.toFixed(1)} MiB/s (add to download event ${r.addToEventSeconds.toFixed(1)} s, add to done ` +
    `${r.leeched.doneSeconds.toFixed(1)} s), sha256 ${r.sha256Matches ? 'ok' : 'MISMATCH'}; other people's processes used ${r.cpu.otherSeconds} CPU s meanwhile`);
const sayMeshdrop = (d: DownloadRun) =>
  console.log(`  -> meshdrop ${d.mibPerSec.toFixed(1)} MiB/s (click to download event ${d.clickToEventSeconds.toFixed(1)} s), ` +
    `sha256 ${d.sha256Matches ? 'ok' : 'MISMATCH'}; other people's processes used ${d.cpu.otherSeconds} CPU s meanwhile`);

async function round(i: number, cleanup: Cleanup, root: string, base: string, url: string, file: InputFile): Promise<CompareRound> {
  const seeder = await persistentPeer(root, `wt-r${i}-sharer`, cleanup);
  const leecher = await persistentPeer(root, `wt-r${i}-downloader`, cleanup);
  try {
    const order: CompareRound['order'] = i % 2 === 0 ? ['webtorrent', 'meshdrop'] : ['meshdrop', 'webtorrent'];
    let webtorrent: WebTorrentRun | undefined;
    let meshdrop: DownloadRun | undefined;
    for (const which of order) {
      console.log(`(webtorrent) round ${i + 1}: ${which}, ${file.mib} MiB...`);
      if (which === 'webtorrent') sayWebTorrent((webtorrent = await webtorrentRun(url, seeder, leecher, file)));
      else sayMeshdrop((meshdrop = (await pipeline(base, seeder, leecher, file)).run));
    }
    return { order, webtorrent: webtorrent!, meshdrop: meshdrop! };
  } finally {
    // Each browser holds the file several times over (store, pieces, saved copy): free it before the next round.
    await Promise.all([seeder.context.close(), leecher.context.close()]);
  }
}

/** BENCH_WT_ROUNDS rounds on the main file. */
export async function compareWithWebTorrent(cleanup: Cleanup, root: string, base: string, file: InputFile): Promise<CompareResults> {
  const url = await startTracker(cleanup);
  const rounds: CompareRound[] = [];
  for (let i = 0, n = roundsWanted(); i < n; i++) rounds.push(await round(i, cleanup, root, base, url, file));
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const ratio = total(rounds.map((r) => r.webtorrent.addToEventSeconds)) / total(rounds.map((r) => r.meshdrop.clickToEventSeconds));
  return { mib: file.mib, rounds, ratio };
}
