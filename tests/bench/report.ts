import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AppStats } from './app.ts';
import { issue11Rows, issue11Targets, type Issue11Results } from './import-report.ts';
import { joinRows, joinTargets } from './join-report.ts';
import type { JoinResults } from './join.ts';
import type { Hotspot } from './profile.ts';
import type { PhaseCpu } from './procs.ts';
import type { RawResult } from './raw-channel.ts';
import type { HeapSummary } from './sampler.ts';
import { phoneProfileLines, phoneRows, phoneTargets } from './throttled-report.ts';
import type { PhoneResults } from './throttled.ts';
import type { PacketStats } from './transport.ts';
import { webtorrentRows, webtorrentTargets } from './webtorrent-report.ts';
import type { CompareResults } from './webtorrent.ts';
import { transferRows, transferTargets, type TransferRounds } from './transfer-report.ts';

/**
 * The results as one JSON document (test-results/bench.json) and as a table
 * for people. Each target row says PASS or MISS; the figures it came from sit
 * right above it, so a miss can be traced without reading the JSON.
 */
export interface DownloadRun {
  mib: number;
  holders: number;
  shareSeconds: number[];
  clickToEventSeconds: number;
  clickToSavedSeconds: number;
  /** Size over click-to-event, as the brief defines the rate. */
  mibPerSec: number;
  sha256Matches: boolean;
  phases: { firstPiece: number; allPieces: number; saveAfterLast: number } | null;
  heap: HeapSummary;
  downloader: AppStats['downloads'][string] | null;
  uploadedByHolder: number[];
  cpu: PhaseCpu;
  packets: PacketStats;
}

export interface Results extends Issue11Results {
  date: string;
  machine: { cores: number; memoryGiB: number; chromium: string; node: string };
  git: { commit: string; ref: string; dirty: string[] };
  command: string;
  sizes: { mainMiB: number; swarmMiB: number; upLimitBytesPerSec: number };
  /** (a), (a'), (b), (c), (d); absent when BENCH_ONLY leaves out 'core'. */
  core?: CoreResults;
  /** Goal 5: opening a room link to files shown and a peer linked; absent when BENCH_ONLY leaves out 'join'. */
  join?: JoinResults;
  /** Issue 11 goal 4: against WebTorrent ('webtorrent' in BENCH_ONLY). */
  webtorrent?: CompareResults;
  /** Issue 11 goal 6: the downloader's CPU throttled ('phone'). */
  phone?: PhoneResults;
  targets: Target[];
  totalSeconds: number;
}

export interface CoreResults {
  raw: { oneBrowser: RawResult & { cpu: PhaseCpu }; twoBrowsers: RawResult & { cpu: PhaseCpu } };
  pipeline: DownloadRun;
  /** Goal 3's rounds of (a'), (a'') and (b); raw.twoBrowsers and pipeline are the median round's. Absent in runs before it. */
  transfer?: TransferRounds;
  /** one/three: the median runs; roundsSeconds: every round's click-to-event time. */
  swarm: {
    one: DownloadRun; three: DownloadRun; ratio: number;
    roundsSeconds: { one: number[]; three: number[] };
    roundsDroppedPackets: { one: number[]; three: number[] };
  };
  profile?: { sharer: Hotspot[]; downloader: Hotspot[] };
}

export interface Target {
  name: string;
  value: number;
  goal: string;
  pass: boolean;
}

export function targets(r: Omit<Results, 'targets' | 'totalSeconds'>): Target[] {
  return [
    ...(r.core ? coreTargets(r.core) : []),
    ...issue11Targets(r),
    ...(r.join ? joinTargets(r.join) : []),
    ...(r.webtorrent ? webtorrentTargets(r.webtorrent) : []),
    ...(r.phone ? phoneTargets(r.phone) : []),
  ];
}

function coreTargets(r: CoreResults): Target[] {
  const ratio = r.pipeline.mibPerSec / r.raw.oneBrowser.mibPerSec;
  return [
    { name: '(b)/(a) pipeline vs bare channel', value: round3(ratio), goal: '>= 0.90', pass: ratio >= 0.9 },
    ...(r.transfer ? transferTargets(r.transfer) : []),
    { name: '(c) 3 holders vs 1 holder', value: round3(r.swarm.ratio), goal: '>= 2.5x', pass: r.swarm.ratio >= 2.5 },
    { name: '(d) peak JS heap during (b), MiB', value: r.pipeline.heap.peakMiB, goal: '<= ~200 MB (flat)', pass: r.pipeline.heap.peakMiB * 1.048576 <= 200 },
    { name: '(b) saved file SHA-256 matches', value: r.pipeline.sha256Matches ? 1 : 0, goal: 'matches', pass: r.pipeline.sha256Matches },
    { name: '(c) saved files SHA-256 match', value: r.swarm.one.sha256Matches && r.swarm.three.sha256Matches ? 1 : 0, goal: 'match', pass: r.swarm.one.sha256Matches && r.swarm.three.sha256Matches },
  ];
}

export function writeJson(path: string, results: Results): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}

const round2 = (x: number) => Math.round(x * 100) / 100;
/** Target ratios with three decimals, so 0.897 does not print as a failing 0.9. */
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const f1 = (x: number) => x.toFixed(1);
export const cpuText = (c: PhaseCpu) =>
  Object.entries(c.own).map(([label, types]) => `${label}: ${Object.entries(types).map(([t, s]) => `${t} ${s}`).join(', ') || '-'}`).join(' | ') +
  ` | bench node: ${c.benchNodeSeconds} | OTHER PEOPLE'S PROCESSES: ${c.otherSeconds} s` +
  ` | wall ${c.wallSeconds} s, machine busy ${c.machineBusyCores}/2 cores, load ${c.loadAverage}`;

/** Our browsers' CPU time per MiB moved: unlike MiB/s, it barely moves when other people load the machine. */
export function cpuMsPerMiB(c: PhaseCpu, mib: number): number {
  const total = Object.values(c.own).flatMap((types) => Object.values(types)).reduce((a, b) => a + b, 0);
  return Math.round((total * 1000) / mib);
}

const packetText = (p: PacketStats) => `${p.packetsSent} / ${p.discardedOnSend}`;

function downloadLines(label: string, d: DownloadRun): string[][] {
  const p = d.phases;
  return [
    [`${label} click -> download event`, `${f1(d.clickToEventSeconds)} s = ${f1(d.mibPerSec)} MiB/s`, '', d.sha256Matches ? 'sha256 ok' : 'SHA-256 MISMATCH'],
    [`${label}   CPU per MiB, all our browsers`, `${cpuMsPerMiB(d.cpu, d.mib)} ms`, '', ''],
    [`${label}   click -> saved on disk`, `${f1(d.clickToSavedSeconds)} s`, '', ''],
    [`${label}   first piece / all pieces / save`, p ? `${p.firstPiece} s / ${p.allPieces} s / +${p.saveAfterLast} s` : 'n/a', '', ''],
    [`${label}   pieces recv / dup / bad`, d.downloader ? `${d.downloader.piecesReceived} / ${d.downloader.duplicatePieces} / ${d.downloader.badPieces} of ${d.downloader.pieceCount}` : 'n/a', '', ''],
    [`${label}   packets sent / dropped by Chromium on send`, packetText(d.packets), '', d.packets.discardedOnSend > 0 ? 'drops: SCTP stalls' : ''],
    [`${label}   uploaded by holder (MiB)`, d.uploadedByHolder.map((b) => f1(b / 2 ** 20)).join(', '), '', ''],
  ];
}

export function table(r: Results): string {
  const rows: string[][] = [['figure', 'value', 'target', 'verdict']];
  const cpuLines = r.core ? coreRows(rows, r.core, r.sizes) : [];
  const issue11 = issue11Rows(r);
  rows.push(...issue11.rows);
  cpuLines.push(...issue11.cpuLines);
  if (r.join) cpuLines.push(...joinRows(rows, r.join, cpuText));
  if (r.webtorrent) cpuLines.push(...webtorrentRows(rows, r.webtorrent));
  if (r.phone) cpuLines.push(...phoneRows(rows, r.phone));
  for (const t of r.targets) rows.push([t.name, String(t.value), t.goal, t.pass ? 'PASS' : 'MISS']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = rows.map(line);
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  out.unshift(`meshdrop ${r.git.commit} (${r.git.ref}${r.git.dirty.length > 0 ? ` + ${r.git.dirty.length} uncommitted changes` : ''}), ` +
    `Chromium ${r.machine.chromium}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.date}`, '');
  out.push('', 'CPU seconds per phase (by browser and process type):', ...cpuLines);
  const phoneTrace = r.phone ? phoneProfileLines(r.phone) : [];
  if (phoneTrace.length > 0) out.push('', ...phoneTrace);
  const profile = r.core?.profile;
  if (profile) {
    out.push('', 'Profile (BENCH_PROFILE=1; timings of a profiled run are not the figures above):');
    for (const [who, spots] of Object.entries(profile)) {
      out.push(`  ${who}:`, ...spots.map((s) => `    ${String(s.selfMs).padStart(7)} ms ${String(s.percent).padStart(5)}%  ${s.fn}`));
    }
  }
  return out.join('\n');
}

/** The rows of (a)-(d); returns their CPU lines. */
function coreRows(rows: string[][], r: CoreResults, sizes: Results['sizes']): string[] {
  const raw = r.raw;
  const rawText = (x: RawResult & { cpu: PhaseCpu }) => `${f1(x.mibPerSec)} MiB/s (${f1(x.seconds)} s; ${cpuMsPerMiB(x.cpu, sizes.mainMiB)} ms CPU/MiB)`;
  rows.push([`(a) bare channel, 2 contexts of 1 browser, ${sizes.mainMiB} MiB`, rawText(raw.oneBrowser), '', '']);
  rows.push([`(a') bare channel, the 2 browsers of (b)${r.transfer ? ' (median round)' : ''}`, rawText(raw.twoBrowsers), '', '']);
  rows.push([`(a)/(a') packets sent / dropped by Chromium on send`, `${packetText(raw.oneBrowser.packets)}; ${packetText(raw.twoBrowsers.packets)}`, '', '']);
  rows.push([`(b) meshdrop, ${sizes.mainMiB} MiB, 2 browsers, IndexedDB on disk${r.transfer ? ' (median round)' : ''}`, '', '', '']);
  rows.push(...downloadLines('(b)', r.pipeline));
  rows.push([`(b)   sharer import (hash + store, untimed)`, `${f1(r.pipeline.shareSeconds[0] ?? 0)} s`, '', '']);
  rows.push(["(b)/(a') rate, same browsers", round2(r.pipeline.mibPerSec / raw.twoBrowsers.mibPerSec).toFixed(2), '', '']);
  const cpuRatio = cpuMsPerMiB(raw.twoBrowsers.cpu, sizes.mainMiB) / cpuMsPerMiB(r.pipeline.cpu, sizes.mainMiB);
  rows.push(["(a')/(b) CPU per MiB: rate ratio if CPU-bound", round2(cpuRatio).toFixed(2), '', '']);
  if (r.transfer) rows.push(...transferRows(r.transfer, sizes.mainMiB));
  const h = r.pipeline.heap;
  rows.push(['(d) JS heap + ArrayBuffers start / peak / end (MiB)', `${h.startMiB} / ${h.peakMiB} / ${h.endMiB}`, '', `peak: ${h.peakBuffersMiB} in buffers`]);
  if (h.peakAnonMiB !== undefined) rows.push(['(d)   downloader browser private memory start / peak (MiB)', `${h.startAnonMiB} / ${h.peakAnonMiB}`, '', 'RssAnon, all its processes']);
  rows.push([`(c) swarm, ${sizes.swarmMiB} MiB, each holder capped at ${f1(sizes.upLimitBytesPerSec / 2 ** 20)} MiB/s`, '', '', '']);
  rows.push(...downloadLines('(c) 1 holder (median)', r.swarm.one));
  rows.push(...downloadLines('(c) 3 holders (median)', r.swarm.three));
  const secs = (xs: number[], drops: number[]) => xs.map((x, i) => `${x.toFixed(1)}${drops[i] ? ` (${drops[i]} dropped)` : ''}`).join(', ');
  const { roundsSeconds: rs, roundsDroppedPackets: rd } = r.swarm;
  rows.push(['(c) every round, 1 holder / 3 holders (s)', `${secs(rs.one, rd.one)} / ${secs(rs.three, rd.three)}`, '', '']);
  return [
    `  (a)  ${cpuText(raw.oneBrowser.cpu)}`, `  (a') ${cpuText(raw.twoBrowsers.cpu)}`, `  (b)  ${cpuText(r.pipeline.cpu)}`,
    `  (c1) ${cpuText(r.swarm.one.cpu)}`, `  (c3) ${cpuText(r.swarm.three.cpu)}`,
  ];
}

const total = (types: Record<string, number> | undefined) => Object.values(types ?? {}).reduce((a, b) => a + b, 0);
const perMiB = (s: number, mib: number) => Math.round((s * 1000) / mib);

/** The renderers' busiest threads, in ms per MiB. */
const threads = (byName: Record<string, number> | undefined, mib: number) =>
  byName ? ` [${Object.entries(byName).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([n, s]) => `${n} ${perMiB(s, mib)}`).join(', ')}]` : '';

/** Per browser, per process type, in ms per MiB: where the CPU goes. */
export function breakdown(c: PhaseCpu, mib: number): string {
  return Object.entries(c.own)
    .map(([label, types]) => `${label} ${perMiB(total(types), mib)} (${Object.entries(types).map(([t, s]) => `${t} ${perMiB(s, mib)}`).join(', ')})${threads(c.rendererThreads?.[label], mib)}`)
    .join(' | ');
}
