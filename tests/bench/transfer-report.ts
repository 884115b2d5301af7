import { cpuMsPerMiB, type Target } from './report.ts';
import type { TransferRounds } from './transfer-rounds.ts';

export type { TransferRounds };

const x2 = (v: number) => `${v.toFixed(2)}x`;
const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** Every round's three phases and ratios, then the medians: goal 3's evidence, round by round. */
export function transferRows(t: TransferRounds, mib: number): string[][] {
  const rows: string[][] = [];
  const fig = (rate: number, cpu: Parameters<typeof cpuMsPerMiB>[0]) => `${rate.toFixed(1)} MiB/s ${cpuMsPerMiB(cpu, mib)} ms`;
  t.rounds.forEach((r, i) => {
    const x = t.ratios[i]!;
    rows.push([
      `goal 3 round ${i + 1} (${r.order.map((s) => (s === 'raw' ? "a'" : s === 'floor' ? "a''" : 'b')).join(', ')}): (a') / (a'') / (b)`,
      `${fig(r.raw.mibPerSec, r.raw.cpu)} / ${fig(r.floor.mibPerSec, r.floor.cpu)} / ${fig(r.pipe.mibPerSec, r.pipe.cpu)}`,
      '',
      `(b)/(a') ${x2(x.rate)}, CPU ${x2(x.cpu)}; other CPU s ${r.raw.cpu.otherSeconds}/${r.floor.cpu.otherSeconds}/${r.pipe.cpu.otherSeconds}`,
    ]);
  });
  const m = t.median;
  rows.push(["goal 3 median (a'')/(a'): the floor, storing + verifying alone", `rate ${x2(m.floorRate)}, CPU ${x2(m.floorCpu)}`, '', t.rounds.every((r) => r.floor.sha256Matches) ? 'sha256 ok' : 'SHA-256 MISMATCH']);
  rows.push(["goal 3 median (b)/(a''): meshdrop beyond the floor", `rate ${x2(m.overFloorRate)}, CPU ${x2(m.overFloorCpu)}`, '', '']);
  return rows;
}

export function transferTargets(t: TransferRounds): Target[] {
  const m = t.median;
  return [
    { name: `goal 3 (b)/(a') rate, median of ${t.rounds.length} rounds`, value: round3(m.rate), goal: '>= 0.90', pass: m.rate >= 0.9 },
    { name: `goal 3 (b)/(a') CPU per MiB, median of ${t.rounds.length} rounds`, value: round3(m.cpu), goal: '<= 1.25', pass: m.cpu <= 1.25 },
  ];
}
