import { persistentPeer, type Peer } from './app.ts';
import { envMiB, hashFile, type Cleanup } from './infra.ts';
import { pipeline, rawTwoBrowsers, type InputFile } from './phases.ts';
import type { PhaseCpu } from './procs.ts';
import type { RawResult } from './raw-channel.ts';
import { storedRate } from './raw-stored.ts';
import { breakdown, cpuMsPerMiB, type DownloadRun } from './report.ts';
import type { Hotspot } from './profile.ts';

/**
 * Issue 11 goal 3, side by side: in each round two fresh browsers with on-disk
 * profiles run, in a rotating order,
 *   (a')  the bare data channel between them (raw-channel.ts),
 *   (a'') the floor: that channel plus only the storing and verifying any
 *         stored transfer must do (raw-stored.ts),
 *   (b)   meshdrop end to end.
 * One round's figures moved by a third from one minute to the next on this
 * shared machine (the bare channel cost 100-166 ms CPU/MiB in one day), so
 * the goal is judged on the median of the rounds' own ratios, each taken
 * between phases minutes apart in the same two processes.
 */
export interface FloorRun {
  mibPerSec: number;
  seconds: number;
  cpu: PhaseCpu;
  sha256Matches: boolean;
}

export type Step = 'raw' | 'floor' | 'pipe';

export interface TransferRound {
  order: Step[];
  raw: RawResult & { cpu: PhaseCpu };
  floor: FloorRun;
  pipe: DownloadRun;
}

export interface RoundRatios {
  /** (b)/(a') rate and CPU per MiB. */
  rate: number;
  cpu: number;
  /** (a'')/(a'): what storing and verifying cost by themselves. */
  floorRate: number;
  floorCpu: number;
  /** (b)/(a''): what meshdrop spends beyond the floor. */
  overFloorRate: number;
  overFloorCpu: number;
}

export interface TransferRounds {
  rounds: TransferRound[];
  ratios: RoundRatios[];
  /** Each ratio's median over the rounds (the upper one of an even count). */
  median: RoundRatios;
}

const STEPS: Step[] = ['raw', 'floor', 'pipe'];
const rotated = (i: number): Step[] => [...STEPS.slice(i % 3), ...STEPS.slice(0, i % 3)];
export const roundsWanted = () => envMiB('BENCH_CORE_ROUNDS', 3);

export function ratiosOf(r: TransferRound, mib: number): RoundRatios {
  const [a, f, b] = [cpuMsPerMiB(r.raw.cpu, mib), cpuMsPerMiB(r.floor.cpu, mib), cpuMsPerMiB(r.pipe.cpu, mib)];
  return {
    rate: r.pipe.mibPerSec / r.raw.mibPerSec, cpu: b / a,
    floorRate: r.floor.mibPerSec / r.raw.mibPerSec, floorCpu: f / a,
    overFloorRate: r.pipe.mibPerSec / r.floor.mibPerSec, overFloorCpu: b / f,
  };
}

export function medianRatios(all: RoundRatios[]): RoundRatios {
  const keys = Object.keys(all[0]!) as (keyof RoundRatios)[];
  const mid = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return Object.fromEntries(keys.map((k) => [k, mid(all.map((r) => r[k]))])) as unknown as RoundRatios;
}

async function floorRun(sharer: Peer, downloader: Peer, base: string, file: InputFile): Promise<FloorRun> {
  const r = await storedRate(sharer, downloader, base, file.path, file.mib, `floor-${file.name}`);
  return { mibPerSec: r.mibPerSec, seconds: r.seconds, cpu: r.cpu, sha256Matches: (await hashFile(r.path)) === file.sha256 };
}

const say = (step: Step, mibPerSec: number, cpu: PhaseCpu, mib: number, extra = '') =>
  console.log(`  -> ${step === 'raw' ? "(a')" : step === 'floor' ? "(a'')" : '(b)'} ${mibPerSec.toFixed(1)} MiB/s, ${cpuMsPerMiB(cpu, mib)} ms CPU/MiB${extra}; ` +
    `other people's processes used ${cpu.otherSeconds} CPU s meanwhile\n     ${breakdown(cpu, mib)}`);

async function round(i: number, cleanup: Cleanup, root: string, base: string, file: InputFile) {
  const sharer = await persistentPeer(root, `sharer-r${i}`, cleanup);
  const downloader = await persistentPeer(root, `downloader-r${i}`, cleanup);
  const order = rotated(i);
  const out: Partial<TransferRound> & { profile?: { sharer: Hotspot[]; downloader: Hotspot[] } } = { order };
  try {
    for (const step of order) {
      console.log(`(goal 3) round ${i + 1}: ${step === 'raw' ? "(a') bare channel" : step === 'floor' ? "(a'') bare channel + store + verify + save" : '(b) meshdrop'}, ${file.mib} MiB...`);
      if (step === 'raw') {
        out.raw = await rawTwoBrowsers(sharer, downloader, file.mib);
        say(step, out.raw.mibPerSec, out.raw.cpu, file.mib);
      } else if (step === 'floor') {
        out.floor = await floorRun(sharer, downloader, base, file);
        say(step, out.floor.mibPerSec, out.floor.cpu, file.mib, `, sha256 ${out.floor.sha256Matches ? 'ok' : 'MISMATCH'}`);
      } else {
        const { run, profile } = await pipeline(base, sharer, downloader, file);
        out.pipe = run;
        out.profile = profile;
        say(step, run.mibPerSec, run.cpu, file.mib, `, sha256 ${run.sha256Matches ? 'ok' : 'MISMATCH'}, heap peak ${run.heap.peakMiB} MiB`);
      }
    }
    return out as TransferRound & { profile?: { sharer: Hotspot[]; downloader: Hotspot[] } };
  } finally {
    // Each holds the file several times over (pieces, the floor's records, saved copies): free them now.
    await Promise.all([sharer.context.close(), downloader.context.close()]);
  }
}

/** BENCH_CORE_ROUNDS rounds (3), each in two fresh browsers, the order rotating. */
export async function transferRounds(cleanup: Cleanup, root: string, base: string, file: InputFile) {
  const rounds: TransferRound[] = [];
  let profile: { sharer: Hotspot[]; downloader: Hotspot[] } | undefined;
  for (let i = 0, n = roundsWanted(); i < n; i++) {
    const { profile: p, ...r } = await round(i, cleanup, root, base, file);
    rounds.push(r);
    profile ??= p;
    const x = ratiosOf(r, file.mib);
    console.log(`  round ${i + 1}: (b)/(a') rate ${x.rate.toFixed(2)}x, CPU ${x.cpu.toFixed(2)}x; (a'')/(a') ${x.floorRate.toFixed(2)}x, ${x.floorCpu.toFixed(2)}x`);
  }
  const ratios = rounds.map((r) => ratiosOf(r, file.mib));
  const median = medianRatios(ratios);
  // The round whose rate ratio is the median stands for all in the table's (a') and (b) rows.
  const byRate = ratios.map((r, i) => [r.rate, i] as const).sort((x, y) => x[0] - y[0]);
  const middle = rounds[byRate[Math.floor(byRate.length / 2)]![1]]!;
  return { transfer: { rounds, ratios, median } satisfies TransferRounds, twoBrowsers: middle.raw, pipe: middle.pipe, profile };
}
