import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { launchOptions } from './app.ts';
import { importBenches } from './import.ts';
import { appSources, buildApp, Cleanup, config, gitState, runs, startServer, tempRoot, writeRandomFile } from './infra.ts';
import { joinPhase } from './join.ts';
import { rawOneBrowser, swarm, type InputFile } from './phases.ts';
import type { PhaseCpu } from './procs.ts';
import type { RawResult } from './raw-channel.ts';
import { phonePhase } from './throttled.ts';
import { transferRounds } from './transfer-rounds.ts';
import { compareWithWebTorrent } from './webtorrent.ts';
import { table, targets, writeJson, type CoreResults, type DownloadRun, type Results } from './report.ts';

/**
 * `npm run bench`: how close meshdrop gets to the bare WebRTC data channel,
 * how downloads scale with holders, and whether memory stays flat, all in one
 * run on one machine with one Chromium:
 *   (a)  a raw RTCDataChannel, app-sized messages, app backpressure
 *   (a') the same between the two browsers of (b); (a'') that plus storing and verifying (the floor)
 *   (b)  meshdrop end to end through its UI, IndexedDB on disk; (a'), (a'') and (b) in
 *        BENCH_CORE_ROUNDS (3) rounds, rotating, judged on the median ratio (transfer-rounds.ts)
 *   (c)  one downloader from 1 vs 3 holders, each holder's upload capped
 *   (d)  the downloading page's JS heap during (b)
 *   webtorrent  meshdrop against WebTorrent 3, same file, same two browsers (webtorrent.ts)
 *   phone  (b) with the downloader's CPU 4x slower, and its long tasks (throttled.ts)
 * Sizes: BENCH_MB (default 256), BENCH_SWARM_MB (48), BENCH_UPLIMIT_MB (4);
 * BENCH_SWARM_ROUNDS (3) rounds of (c), median reported; BENCH_PROFILE=1 adds CPU profiles;
 * BENCH_REF=HEAD benchmarks a commit instead of the (possibly half-edited) working tree;
 * BENCH_SOURCES=<dir> benchmarks another source tree (a patched copy, say).
 * Quick run: `BENCH_MB=32 BENCH_SWARM_MB=16 npm run bench`.
 */
const JSON_PATH = join('test-results', 'bench.json');

function inputFile(root: string, name: string, mib: number): InputFile {
  const path = join(root, name);
  return { path, name, mib, sha256: writeRandomFile(path, mib) };
}

/** The run with the median time (the upper one of an even count), reported whole. */
const median = (runs: DownloadRun[]) => [...runs].sort((a, b) => a.clickToEventSeconds - b.clickToEventSeconds)[Math.floor(runs.length / 2)]!;

/** Each figure as soon as it exists: a later failure must not lose the earlier ones. */
const sayRaw = (r: RawResult & { cpu: PhaseCpu }) =>
  console.log(`  -> ${r.mibPerSec.toFixed(1)} MiB/s (${r.seconds.toFixed(1)} s; other people's processes used ${r.cpu.otherSeconds} CPU s meanwhile)`);
const sayDownload = (d: DownloadRun) =>
  console.log(`  -> ${d.mibPerSec.toFixed(1)} MiB/s (click to download event ${d.clickToEventSeconds.toFixed(1)} s), sha256 ${d.sha256Matches ? 'ok' : 'MISMATCH'}, ` +
    `heap peak ${d.heap.peakMiB} MiB; other people's processes used ${d.cpu.otherSeconds} CPU s meanwhile`);

/** Builds the app, starts the server, writes the input files. */
async function setUp(cleanup: Cleanup, root: string): Promise<{ base: string; main: InputFile; swarmFile: InputFile }> {
  const sources = appSources(root);
  const dist = join(root, 'dist');
  buildApp(sources, dist);
  const base = await startServer(cleanup, sources, dist, join(root, 'server.log'));
  return { base, main: inputFile(root, 'bench-main.bin', config.mainMiB), swarmFile: inputFile(root, 'bench-swarm.bin', config.swarmMiB) };
}

/** (c), BENCH_SWARM_ROUNDS times, alternating 1 and 3 holders so the machine's ups and downs hit both. */
async function swarmPhases(cleanup: Cleanup, base: string, file: InputFile): Promise<CoreResults['swarm']> {
  const browser = await chromium.launch(launchOptions('swarm'));
  cleanup.add('close the swarm browser', () => browser.close());
  const rounds: { one: DownloadRun[]; three: DownloadRun[] } = { one: [], three: [] };
  for (let i = 0; i < config.swarmRounds; i++) {
    rounds.one.push(await swarm(base, browser, file, 1));
    sayDownload(rounds.one.at(-1)!);
    rounds.three.push(await swarm(base, browser, file, 3));
    sayDownload(rounds.three.at(-1)!);
  }
  await browser.close();
  const [one, three] = [median(rounds.one), median(rounds.three)];
  const seconds = (runs: DownloadRun[]) => runs.map((r) => r.clickToEventSeconds);
  const dropped = (runs: DownloadRun[]) => runs.map((r) => r.packets.discardedOnSend);
  return {
    one, three, ratio: one.clickToEventSeconds / three.clickToEventSeconds,
    roundsSeconds: { one: seconds(rounds.one), three: seconds(rounds.three) },
    roundsDroppedPackets: { one: dropped(rounds.one), three: dropped(rounds.three) },
  };
}

async function measure(cleanup: Cleanup, root: string): Promise<Results> {
  const started = performance.now();
  const { base, main, swarmFile } = await setUp(cleanup, root);
  const core = runs('core') ? await corePhases(cleanup, root, base, main, swarmFile) : undefined;
  const issue11 = await importBenches(cleanup, root, base);
  const join = runs('join') ? await joinPhase(base, root, cleanup) : undefined;
  const webtorrent = runs('webtorrent') ? await compareWithWebTorrent(cleanup, root, base, main) : undefined;
  const phone = runs('phone') ? await phonePhase(cleanup, root, base, main) : undefined;
  const partial = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), chromium: core?.version ?? '', node: process.version },
    git: gitState(),
    command: commandLine(),
    sizes: { mainMiB: config.mainMiB, swarmMiB: config.swarmMiB, upLimitBytesPerSec: config.upLimit },
    core: core?.results,
    ...issue11,
    join,
    webtorrent,
    phone,
  };
  return { ...partial, targets: targets(partial), totalSeconds: Math.round((performance.now() - started) / 1000) };
}

/** (a), then rounds of (a'), (a'') and (b) with (d), then (c): the original comparison and goal 3 ('core' in BENCH_ONLY). */
async function corePhases(cleanup: Cleanup, root: string, base: string, main: InputFile, swarmFile: InputFile) {
  console.log(`(a) bare data channel, ${main.mib} MiB, two contexts of one browser...`);
  const { version, ...oneBrowser } = await rawOneBrowser(main.mib);
  sayRaw(oneBrowser);
  const { transfer, twoBrowsers, pipe, profile } = await transferRounds(cleanup, root, base, main);
  const swarmResults = await swarmPhases(cleanup, base, swarmFile);
  return { version, results: { raw: { oneBrowser, twoBrowsers }, pipeline: pipe, transfer, swarm: swarmResults, profile } };
}

function commandLine(): string {
  // Every BENCH_ switch, so each phase's own (BENCH_IMPORT_MB, ...) is recorded without a list to keep up.
  const env = Object.keys(process.env).filter((k) => (k.startsWith('BENCH_') || k === 'CHROMIUM_PATH') && process.env[k]).sort()
    .map((k) => `${k}=${process.env[k]}`);
  return [...env, 'npm run bench'].join(' ');
}

function printServerLog(path: string): void {
  if (!existsSync(path)) return;
  const tail = readFileSync(path, 'utf8').trimEnd().split('\n').slice(-30);
  console.error(`--- last lines of the server log ---\n${tail.join('\n')}`);
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  // Ctrl-C or a kill still closes the browsers, stops the server and removes the temp dir.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up...`);
      void cleanup.run().finally(() => process.exit(130));
    });
  }
  let root = '';
  try {
    root = tempRoot(cleanup);
    const results = await measure(cleanup, root);
    writeJson(JSON_PATH, results);
    console.log(`\n${table(results)}\n\nJSON: ${JSON_PATH} (total ${results.totalSeconds} s)`);
  } catch (e) {
    console.error(`benchmark failed: ${(e as Error).stack ?? e}`);
    if (root) printServerLog(join(root, 'server.log'));
    process.exitCode = 1;
  } finally {
    await cleanup.run();
  }
}

await main();
