/**
 * The downloader's piece picking alone, in Node: the real PieceScheduler and
 * Availability over a file of N pieces, driven as download.ts drives them
 * (a fill when a verified piece goes to storage and one when it is stored),
 * and the CPU ms that costs per MiB. 'seeder': one peer announces the whole
 * file (rarity never changes). 'trading': a second peer also sends a HAVE per
 * piece, so rarity changes between fills. Compare versions with SCHED_SRC, a
 * source tree's src/ (e.g. `git archive main src | tar -x -C /tmp/main`):
 *
 *   npx tsx tests/bench/scheduler-bench.ts                 SCHED_SRC=/tmp/main/src npx tsx tests/bench/scheduler-bench.ts
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const SRC = resolve(process.env.SCHED_SRC ?? 'src');
const PIECE = 256 * 1024;
const FILE = 'f'.repeat(64);
const [SEEDER, TRADER] = ['seederAAAAAAAAAA', 'traderBBBBBBBBBB'];

const load = async <T>(path: string): Promise<T> => (await import(pathToFileURL(resolve(SRC, path)).href)) as T;
const { Bitfield } = await load<typeof import('../../src/core/bitfield.ts')>('core/bitfield.ts');
const { Availability } = await load<typeof import('../../src/core/swarm/availability.ts')>('core/swarm/availability.ts');
const { PieceScheduler } = await load<typeof import('../../src/core/swarm/scheduler.ts')>('core/swarm/scheduler.ts');

/** A fixed-seed PRNG, so both versions see the same ties. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => ((a = (Math.imul(a, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/** One download of `pieces` pieces from the seeder; returns ms of CPU. */
function download(pieces: number, trading: boolean): number {
  const announced = new Set([SEEDER]);
  const availability = new Availability({ announcers: () => announced, linked: () => true });
  const have = new Bitfield(pieces);
  const s = new PieceScheduler(pieces, PIECE, have, availability.view(FILE, pieces), random(7));
  let now = 0;
  const t0 = process.cpuUsage();
  const queue: number[] = [...s.fill(SEEDER, now)];
  while (queue.length > 0) {
    const piece = queue.shift()!;
    now += 25; // 10 MiB/s
    s.progress(SEEDER, PIECE, now);
    s.completed(SEEDER, piece);
    queue.push(...s.fill(SEEDER, now)); // Download.store: fillAll as the piece goes to storage
    have.set(piece);
    s.settled(piece);
    if (trading) availability.setHave(TRADER, FILE, (piece * 7) % pieces);
    queue.push(...s.fill(SEEDER, now)); // and when it is stored
  }
  const used = process.cpuUsage(t0);
  if (!have.complete) throw new Error('download did not complete');
  return (used.user + used.system) / 1000;
}

console.log(`scheduler from ${SRC}`);
for (const trading of [false, true]) {
  for (const pieces of [256, 1024, 4096]) {
    download(pieces, trading); // warm-up
    const runs = [0, 1, 2].map(() => download(pieces, trading));
    const mib = (pieces * PIECE) / 2 ** 20;
    console.log(`${trading ? 'trading' : 'seeder '} ${String(mib).padStart(5)} MiB: ${runs.map((ms) => (ms / mib).toFixed(2)).join(', ')} ms CPU per MiB`);
  }
}
