import type { PhaseCpu } from './procs.ts';
import { cpuText } from './report.ts';

/**
 * Issue 11 goals 1 and 2 in the results: what the 'import' and 'firstbyte'
 * phases measured, their rows in the table and their targets. Kept apart from
 * report.ts so its (a)-(d) stay readable.
 */
export interface ImportRun {
  /**
   * 'raw': the page writes the bytes to IndexedDB itself; 'hash': the page only
   * reads and hashes them; 'meshdrop': the app imports them (hash + store) from the share input.
   */
  kind: 'raw' | 'hash' | 'meshdrop';
  round: number;
  seconds: number;
  mibPerSec: number;
  cpuMsPerMiB: number;
  cpu: PhaseCpu;
  /** meshdrop, builds with `stats().imports`: hashing and storing ended this long after the drop. */
  hashedSeconds?: number;
  storedSeconds?: number;
}

export interface ImportResults {
  mib: number;
  /** In the order they ran: each round alternates which goes first. */
  runs: ImportRun[];
  /** meshdrop's rate over the raw write's, all rounds together (total bytes over total seconds, each). */
  ratio: number;
  /** meshdrop's CPU per MiB over the raw write's. */
  cpuRatio: number;
}

/**
 * 'stream': the friend clicks Download as soon as the file's row shows it.
 * 'after-import': the friend clicks once the sharer's import has finished
 * (and, with drafts, the friend's row carries the final id): today's
 * "import, then download".
 */
export type FirstByteMode = 'stream' | 'after-import';

/** Seconds after the drop (the sharer page's `input` event), on the machine's one wall clock. */
export interface FirstByteRun {
  mode: FirstByteMode;
  round: number;
  mib: number;
  visible: number;
  click: number;
  /** The friend's first verified piece in storage; null if the build never reported one. */
  firstStored: number | null;
  /** The sharer's import (hash + store) done. */
  imported: number | null;
  /** The friend's browser got the whole file (the `download` event, as (b) times it). */
  done: number;
  clickToDone: number;
  sha256Matches: boolean;
  /** Both browsers, drop to done, over the file's MiB. */
  cpuMsPerMiB: number;
  cpu: PhaseCpu;
}

export interface FirstByteResults {
  mib: number;
  runs: FirstByteRun[];
}

export interface Issue11Results {
  import?: ImportResults;
  firstbyte?: FirstByteResults;
}

interface Target {
  name: string;
  value: number;
  goal: string;
  pass: boolean;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
export function importRatios(runs: ImportRun[]): { ratio: number; cpuRatio: number } {
  const of = (kind: ImportRun['kind']) => runs.filter((r) => r.kind === kind);
  const seconds = (rs: ImportRun[]) => sum(rs.map((r) => r.seconds));
  const cpu = (rs: ImportRun[]) => sum(rs.map((r) => r.cpuMsPerMiB));
  return { ratio: seconds(of('raw')) / seconds(of('meshdrop')), cpuRatio: cpu(of('meshdrop')) / cpu(of('raw')) };
}

/** The mean of each mode's runs: the figure a target is judged on. */
const meanOf = (runs: FirstByteRun[], mode: FirstByteMode, key: 'firstStored' | 'done') => {
  const xs = runs.filter((r) => r.mode === mode).map((r) => r[key]);
  return xs.length === 0 || xs.some((x) => x === null) ? null : sum(xs as number[]) / xs.length;
};

export function issue11Targets(r: Issue11Results): Target[] {
  const out: Target[] = [];
  if (r.import) {
    out.push({ name: `(import) meshdrop import / raw IndexedDB write, rate, ${r.import.mib} MiB`, value: round3(r.import.ratio), goal: '>= 0.80', pass: r.import.ratio >= 0.8 });
  }
  const fb = r.firstbyte;
  if (fb) {
    const first = meanOf(fb.runs, 'stream', 'firstStored');
    out.push({ name: `(firstbyte) drop -> first verified piece stored at the friend, ${fb.mib} MiB, s`, value: first === null ? -1 : round3(first), goal: '<= 1.0 s', pass: first !== null && first <= 1 });
    const [stream, after] = [meanOf(fb.runs, 'stream', 'done'), meanOf(fb.runs, 'after-import', 'done')];
    if (stream !== null && after !== null) {
      out.push({ name: '(firstbyte) drop -> friend has the file: stream / import-then-download', value: round3(stream / after), goal: '<= 1.00', pass: stream <= after });
    }
    const ok = fb.runs.every((x) => x.sha256Matches);
    out.push({ name: '(firstbyte) saved files SHA-256 match', value: ok ? 1 : 0, goal: 'match', pass: ok });
  }
  return out;
}

/** Table rows (figure, value, target, note) and CPU lines of the two phases. */
export function issue11Rows(r: Issue11Results): { rows: string[][]; cpuLines: string[] } {
  const rows: string[][] = [];
  const cpuLines: string[] = [];
  if (r.import) {
    rows.push([`(import) ${r.import.mib} MiB in one browser, IndexedDB on disk, alternating`, '', '', '']);
    for (const x of r.import.runs) {
      const split = x.hashedSeconds !== undefined ? `hashed ${f1(x.hashedSeconds)} s, stored ${f1(x.storedSeconds ?? 0)} s` : '';
      const label = { raw: 'raw IndexedDB write', hash: 'read + SHA-256 only, no storing', meshdrop: 'meshdrop import (hash + store)' }[x.kind];
      rows.push([`(import) round ${x.round} ${label}`, `${f1(x.seconds)} s = ${f1(x.mibPerSec)} MiB/s, ${x.cpuMsPerMiB} ms CPU/MiB`, '', `other CPU ${x.cpu.otherSeconds} s${split ? `; ${split}` : ''}`]);
      cpuLines.push(`  (import ${x.round} ${x.kind}) ${cpuText(x.cpu)}`);
    }
    rows.push(['(import) meshdrop / raw write: rate, CPU per MiB', `${f2(r.import.ratio)}, ${f2(r.import.cpuRatio)}`, '', '']);
  }
  if (r.firstbyte) {
    rows.push([`(firstbyte) ${r.firstbyte.mib} MiB, sharer + friend (2 browsers, on disk); s after the drop`, '', '', '']);
    const s = (x: number | null) => (x === null ? 'n/a' : f1(x));
    for (const x of r.firstbyte.runs) {
      rows.push([
        `(firstbyte) round ${x.round} ${x.mode}: visible / click / 1st piece / imported / done`,
        `${s(x.visible)} / ${s(x.click)} / ${x.firstStored === null ? 'n/a' : f2(x.firstStored)} / ${s(x.imported)} / ${s(x.done)}`,
        '',
        `click->done ${f1(x.clickToDone)} s, ${x.cpuMsPerMiB} ms CPU/MiB, other CPU ${x.cpu.otherSeconds} s${x.sha256Matches ? '' : ', SHA-256 MISMATCH'}`,
      ]);
      cpuLines.push(`  (firstbyte ${x.round} ${x.mode}) ${cpuText(x.cpu)}`);
    }
  }
  return { rows, cpuLines };
}
