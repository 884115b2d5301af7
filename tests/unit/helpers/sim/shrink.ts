import { runScenario, type RunResult } from './runner.ts';
import type { Violation } from './invariants.ts';
import type { Scenario } from './scenario.ts';

/**
 * Makes a failing scenario smaller while it still breaks `invariant` (a letter,
 * or a test on the violation, to chase one kind of failure):
 * drops chunks of ops (halves, then quarters, down to single ops), then
 * then shortens gaps where it can.
 */
export async function shrinkScenario(
  s: Scenario, invariant: string | ((v: Violation) => boolean), maxRuns = 300,
): Promise<{ scenario: Scenario; result: RunResult }> {
  let best = s;
  let bestResult = await runScenario(s);
  let runs = 0;
  const matches = typeof invariant === 'string' ? (v: Violation) => v.invariant === invariant : invariant;
  const stillFails = async (candidate: Scenario) => {
    if (runs++ >= maxRuns) return false;
    const r = await runScenario(candidate);
    if (!r.violations.some(matches)) return false;
    best = candidate;
    bestResult = r;
    return true;
  };
  for (let chunk = Math.ceil(best.ops.length / 2); chunk >= 1; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
    for (let start = 0; start < best.ops.length; ) {
      const ops = [...best.ops.slice(0, start), ...best.ops.slice(start + chunk)];
      if (!(await stillFails({ ...best, ops }))) start += chunk;
    }
  }
  for (let k = 0; k < best.ops.length; k++) {
    const op = best.ops[k]!;
    for (const gapMs of [0, Math.floor(op.gapMs / 2)]) {
      if (gapMs >= op.gapMs) continue;
      const ops = best.ops.map((o, j) => (j === k ? { ...o, gapMs } : o));
      if (await stillFails({ ...best, ops })) break;
    }
  }
  return { scenario: best, result: bestResult };
}
