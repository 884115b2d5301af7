import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { persistentPeer } from './app.ts';
import { buildApp, Cleanup, config, startServer, tempRoot, writeRandomFile } from './infra.ts';
import { pipeline, rawTwoBrowsers, type InputFile } from './phases.ts';
import { breakdown, cpuMsPerMiB } from './report.ts';
import type { PacketStats } from './transport.ts';

/**
 * Issue 11 goal 3, A/B: the bare channel (a') and meshdrop end to end (b) of
 * two versions of the app, in one run, alternating A B, B A, ... so the shared
 * machine's ups and downs hit both. Each round gets two fresh browsers with
 * on-disk profiles (nothing resumed from storage), runs (a') between them, then
 * (b) of one version. CPU per MiB is read from /proc per process type.
 *
 *   BENCH_AB=main,/work/wt-transfer BENCH_MB=64 BENCH_AB_ROUNDS=2 npx tsx tests/bench/transfer-ab.ts
 *
 * Each side of BENCH_AB is a directory (a source tree) or a git ref (archived).
 */
interface Side {
  name: string;
  base: string;
}

function sourcesOf(root: string, spec: string, i: number): string {
  if (spec.startsWith('/') || spec.startsWith('.')) return resolve(spec);
  const dir = join(root, `sources-${i}`);
  mkdirSync(dir);
  const r = spawnSync('sh', ['-c', 'git archive "$REF" | tar -x -C "$DIR"'], { env: { ...process.env, REF: spec, DIR: dir }, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`git archive ${spec} failed`);
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  return dir;
}

async function setUpSide(cleanup: Cleanup, root: string, spec: string, i: number): Promise<Side> {
  const sources = sourcesOf(root, spec, i);
  const dist = join(root, `dist-${i}`);
  buildApp(sources, dist);
  return { name: spec, base: await startServer(cleanup, sources, dist, join(root, `server-${i}.log`)) };
}

/** Messages, control frames, sends that found the channel empty, and WebRTC packets, both pages together. */
const sendText = (p: PacketStats) =>
  `${p.messages} messages (${p.smallMessages} under 1 KiB, ${p.idleSends} bulk sends onto an empty queue, ${p.idleGapMs} ms after the previous one), ${p.packetsSent} packets, ${p.discardedOnSend} dropped`;

async function round(cleanup: Cleanup, root: string, side: Side, file: InputFile, n: number) {
  const sharer = await persistentPeer(root, `ab${n}-sharer`, cleanup);
  const downloader = await persistentPeer(root, `ab${n}-downloader`, cleanup);
  try {
    const raw = await rawTwoBrowsers(sharer, downloader, file.mib);
    const { run } = await pipeline(side.base, sharer, downloader, file);
    const a = cpuMsPerMiB(raw.cpu, file.mib);
    const b = cpuMsPerMiB(run.cpu, file.mib);
    console.log(
      `#${n} ${side.name}: (a') ${raw.mibPerSec.toFixed(1)} MiB/s ${a} ms/MiB [other ${raw.cpu.otherSeconds} s] | ` +
      `(b) ${run.mibPerSec.toFixed(1)} MiB/s ${b} ms/MiB [other ${run.cpu.otherSeconds} s] sha ${run.sha256Matches ? 'ok' : 'MISMATCH'} ` +
      `heap peak ${run.heap.peakMiB} MiB | rate ${(run.mibPerSec / raw.mibPerSec).toFixed(2)}x, CPU ${(b / a).toFixed(2)}x`,
    );
    console.log(`    (a') ${breakdown(raw.cpu, file.mib)}\n    (b)  ${breakdown(run.cpu, file.mib)}`);
    console.log(`    sends (a') ${sendText(raw.packets)} | (b) ${sendText(run.packets)}`);
    return { side: side.name, raw: { mibPerSec: raw.mibPerSec, cpuMsPerMiB: a, cpu: raw.cpu }, pipe: { mibPerSec: run.mibPerSec, cpuMsPerMiB: b, cpu: run.cpu } };
  } finally {
    await Promise.all([sharer.context.close(), downloader.context.close()]);
  }
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  process.once('SIGINT', () => void cleanup.run().finally(() => process.exit(130)));
  try {
    const specs = (process.env.BENCH_AB ?? 'main,.').split(',');
    const rounds = Number(process.env.BENCH_AB_ROUNDS ?? 2);
    const root = tempRoot(cleanup);
    const sides: Side[] = [];
    for (const [i, spec] of specs.entries()) sides.push(await setUpSide(cleanup, root, spec, i));
    const path = join(root, 'ab.bin');
    const file: InputFile = { path, name: 'ab.bin', mib: config.mainMiB, sha256: writeRandomFile(path, config.mainMiB) };
    let n = 0;
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        // One failed round (a timeout on this busy machine) is reported; the others still count.
        await round(cleanup, root, side, file, n++).catch((e: Error) => console.error(`#${n - 1} ${side.name} failed: ${e.message.split('\n')[0]}`));
      }
    }
  } finally {
    await cleanup.run();
  }
}

await main();
