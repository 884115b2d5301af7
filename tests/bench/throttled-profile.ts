import { readFileSync } from 'node:fs';

/**
 * Which functions ran during a given stretch of time, from a V8 CPU profile
 * (.cpuprofile, as PageProfiler writes it). The profile's clock (startTime,
 * µs) is the trace's, so a long task found in a trace (throttled-trace.ts)
 * can be filled in with the JS it ran. Time is inclusive: a function counts
 * while it is anywhere on the stack, so a long task names its caller (a
 * render, a state rebuild), not only the leaf that happened to be hot.
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

const frameName = (n: Node) => {
  const file = n.callFrame.url.split('/').pop() ?? '';
  return file ? `${n.callFrame.functionName || '(anonymous)'} ${file}:${n.callFrame.lineNumber + 1}` : n.callFrame.functionName;
};

/** The functions on each node's stack, without '(root)', each once. */
function stacks(profile: Profile): Map<number, string[]> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out = new Map<number, string[]>();
  for (const n of profile.nodes) {
    const names: string[] = [];
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id)!;
      if (node.callFrame.functionName !== '(root)') names.push(frameName(node));
    }
    out.set(n.id, [...new Set(names)]);
  }
  return out;
}

export const readProfile = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Profile;

/** Functions by time on the stack between `from` and `to` (µs, profile clock), most first: "name file:line ms". */
export function functionsDuring(profile: Profile, from: number, to: number, topN = 8): string[] {
  const stackOf = stacks(profile);
  const time = new Map<string, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    t += us;
    if (t < from || t > to) return;
    for (const fn of stackOf.get(id) ?? []) time.set(fn, (time.get(fn) ?? 0) + us / 1000);
  });
  return [...time].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([fn, ms]) => `${fn} ${Math.round(ms)} ms`);
}
