import { JOINED, stepsText } from './join-page.ts';
import type { JoinResults } from './join.ts';
import type { PhaseCpu } from './procs.ts';
import type { Target } from './report.ts';

/** Goal 5: opening a room link to the room's files shown and a peer linked, under 1 s on a LAN (here: one machine). */
export const JOIN_GOAL_MS = 1_000;

/** One target per room shape and visit: the median join, which is what the goal names; the max sits in the rows. */
export function joinTargets(r: JoinResults): Target[] {
  return r.scenarios.filter((s) => s.version === 'this').map((s) => {
    const value = s.median[JOINED] ?? Infinity;
    return { name: `join: ${s.label}, median ms`, value, goal: `< ${JOIN_GOAL_MS}`, pass: value < JOIN_GOAL_MS };
  });
}

/** The join rows of the table; returns their CPU lines. */
export function joinRows(rows: string[][], r: JoinResults, cpuText: (c: PhaseCpu) => string): string[] {
  const versus = r.versus ? `; against ${r.versus}, alternating join by join` : '';
  rows.push([`join: open link -> files shown + peer linked (ms since navigation, ${r.rounds} joins each${versus})`, '', '', '']);
  for (const s of r.scenarios) {
    const joined = (t: Record<string, number>) => String(t[JOINED] ?? 'n/a');
    rows.push([`join: ${s.label}, median / max`, `${joined(s.median)} / ${joined(s.max)} ms`, '', `dialled ${s.dialled} of ${s.runs.length}`]);
    rows.push([`join:   median steps`, stepsText(s.median), '', '']);
    rows.push([`join:   every join (ms)`, s.runs.map(joined).join(', '), '', '']);
  }
  return r.scenarios.map((s) => `  join ${s.label}: ${cpuText(s.cpu)}`);
}
