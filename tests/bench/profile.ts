import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CDPSession, Page } from '@playwright/test';

/**
 * Optional (BENCH_PROFILE=1): a V8 CPU profile of a page's main thread during
 * (b), saved as .cpuprofile (open in Chrome DevTools > Performance) and
 * summarised as the functions with the most self time. Profiling slows the
 * page down, so a profiled run's timings are not the benchmark's figures.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Hotspot {
  fn: string;
  selfMs: number;
  percent: number;
}

export class PageProfiler {
  private constructor(private readonly cdp: CDPSession) {}

  static async start(page: Page): Promise<PageProfiler> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 }); // microseconds
    await cdp.send('Profiler.start');
    return new PageProfiler(cdp);
  }

  /** Stops, writes the profile to `path`, and returns the top self-time functions. */
  async stop(path: string, top = 15): Promise<Hotspot[]> {
    const { profile } = (await this.cdp.send('Profiler.stop')) as unknown as { profile: CpuProfile };
    await this.cdp.detach().catch(() => undefined);
    mkdirSync(dirname(path), { recursive: true }); // test-results/ may have been cleared by a Playwright run meanwhile
    writeFileSync(path, JSON.stringify(profile));
    return hotspots(profile, top);
  }
}

/** Self time by function, idle excluded from nothing: '(idle)' shows how much the thread waited. */
export function hotspots(profile: CpuProfile, top: number): Hotspot[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id)?.callFrame;
    if (!frame) return;
    const file = frame.url.split('/').pop() ?? '';
    const fn = file ? `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}` : frame.functionName;
    self.set(fn, (self.get(fn) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const total = (profile.endTime - profile.startTime) / 1000;
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, ms]) => ({ fn, selfMs: Math.round(ms), percent: Math.round((ms / total) * 1000) / 10 }));
}
