import type { CDPSession, Page } from '@playwright/test';
import { MiB } from './infra.ts';
import { anonMiB, browserTree } from './procs.ts';

/**
 * Polls a downloading page every 250 ms: its JS heap (CDP Runtime.getHeapUsage,
 * the page's main V8 isolate: objects plus ArrayBuffer backing stores, which
 * usedSize alone leaves out), the app's progress counters, and the private
 * memory (RssAnon) of its whole browser. The heap is what (d) is about; RSS is there
 * because piece Blobs live outside the JS heap (in the browser's blob store),
 * so a flat heap alone does not prove flat memory.
 */
export interface Sample {
  /** Seconds since mark() (the click); negative before it. */
  t: number;
  /** V8 heap objects (CDP usedSize). */
  heapMiB: number;
  /** ArrayBuffer backing stores (CDP backingStorageSize): piece bytes live here, not in usedSize. */
  buffersMiB: number;
  /** Pieces held by the page's (only) download, if one is running. */
  have?: number;
  pieceCount?: number;
  /** Private memory (RssAnon) of all processes of the page's browser, if it is a browser of its own. */
  anonMiB?: number;
}

const INTERVAL_MS = 250;

export class Sampler {
  /** Readings with their absolute time; made relative to the mark in stop(). */
  private samples: (Omit<Sample, 't'> & { at: number })[] = [];
  private t0 = performance.now();
  private running = true;
  private tree: number[] = [];
  private treeAt = -Infinity;
  private loop: Promise<void>;

  private constructor(private readonly page: Page, private readonly cdp: CDPSession, private readonly label: string) {
    this.loop = this.run();
  }

  static async start(page: Page, label: string): Promise<Sampler> {
    const cdp = await page.context().newCDPSession(page);
    return new Sampler(page, cdp, label);
  }

  /** Time zero for the samples: call just before the click. */
  mark(): void {
    this.t0 = performance.now();
  }

  async stop(): Promise<Sample[]> {
    if (this.running) {
      this.running = false;
      await this.loop;
      await this.sample().catch(() => undefined); // one reading at the very end
      await this.cdp.detach().catch(() => undefined);
    }
    return this.samples.map(({ at, ...rest }) => ({ t: (at - this.t0) / 1000, ...rest }));
  }

  private async run(): Promise<void> {
    while (this.running) {
      const next = performance.now() + INTERVAL_MS;
      // A reading can fail while the page navigates or closes; the next one will tell.
      await this.sample().catch(() => undefined);
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  }

  private async sample(): Promise<void> {
    const at = performance.now();
    const [usage, progress] = await Promise.all([
      this.cdp.send('Runtime.getHeapUsage') as Promise<{ usedSize: number; backingStorageSize?: number }>,
      this.page.evaluate(`(() => {
        const s = window.__meshdrop && window.__meshdrop.stats();
        const d = s && Object.values(s.downloads)[0];
        return d ? { have: d.have, pieceCount: d.pieceCount } : null;
      })()`) as Promise<{ have: number; pieceCount: number } | null>,
    ]);
    const pids = this.browserPids(at);
    const memory = pids.length > 0 ? Math.round(pids.reduce((a, pid) => a + anonMiB(pid), 0)) : undefined;
    this.samples.push({ at, heapMiB: usage.usedSize / MiB, buffersMiB: (usage.backingStorageSize ?? 0) / MiB, ...progress, anonMiB: memory });
  }

  /** The browser's processes, re-found every 2 s only: a full /proc scan per reading costs more than it tells. */
  private browserPids(now: number): number[] {
    if (now - this.treeAt > 2_000) {
      this.tree = browserTree(this.label).map((p) => p.pid);
      this.treeAt = now;
    }
    return this.tree;
  }
}

/** Heap figures count V8 objects plus ArrayBuffer backing stores: what the page's JS holds. */
export interface HeapSummary {
  startMiB: number;
  peakMiB: number;
  endMiB: number;
  /** Of the peak sample: the ArrayBuffer part. */
  peakBuffersMiB: number;
  peakAnonMiB?: number;
  startAnonMiB?: number;
}

export function summarizeHeap(samples: Sample[]): HeapSummary {
  const after = samples.filter((s) => s.t >= 0);
  const before = samples.filter((s) => s.t < 0);
  const start = before.at(-1) ?? samples[0]!;
  const end = samples.at(-1)!;
  const anon = after.map((s) => s.anonMiB).filter((x): x is number => x !== undefined);
  const total = (s: Sample) => s.heapMiB + s.buffersMiB;
  const peak = samples.reduce((a, b) => (total(b) > total(a) ? b : a));
  return {
    startMiB: round1(total(start)),
    peakMiB: round1(total(peak)),
    endMiB: round1(total(end)),
    peakBuffersMiB: round1(peak.buffersMiB),
    startAnonMiB: start.anonMiB,
    peakAnonMiB: anon.length > 0 ? Math.max(...anon) : undefined,
  };
}

/**
 * Where the click-to-saved time went, from the progress samples (±0.25 s):
 * until the first piece is stored (manifest, bitfields, first round trip),
 * the bulk transfer, and from the last piece to the browser's download event
 * (reading the pieces back and handing the Blob over).
 */
export function phases(samples: Sample[], clickToEvent: number): { firstPiece: number; allPieces: number; saveAfterLast: number } | null {
  const after = samples.filter((s) => s.t >= 0 && s.pieceCount !== undefined);
  const first = after.find((s) => (s.have ?? 0) > 0);
  const last = after.find((s) => s.have === s.pieceCount);
  if (!first || !last) return null;
  return { firstPiece: round1(first.t), allPieces: round1(last.t), saveAfterLast: round1(Math.max(0, clickToEvent - last.t)) };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
