import type { CDPSession } from '@playwright/test';

/**
 * How long each long main-thread task was, in wall time and in the thread's
 * CPU time (which leaves out the time it waited for a core: on this shared
 * 2-core machine other people's runs stretch every task), and what it was:
 * a Chromium trace (CDP Tracing, the DevTools Performance panel's categories)
 * of the downloading page. Every task on a renderer main thread is a 'RunTask'
 * event with its duration; the events inside it say what ran: a JS call (the
 * function and file), an event dispatch (its type), a timer, an animation
 * frame, style, layout, paint, garbage collection. Unlike a sampling profile,
 * task boundaries here are exact.
 */
interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  /** Thread (CPU) time: without the time the thread waited for a core, on this shared machine. */
  tdur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: Record<string, unknown> };
}

export interface TracedTask {
  /** Start and end on the trace clock (µs), which is also the CPU profile's clock. */
  from: number;
  to: number;
  ms: number;
  /** The main thread's CPU time in the task (under CDP throttling, including the throttler's spinning). */
  cpuMs: number | null;
  /** Top-level work inside the task, longest first: "what ms". */
  inside: string[];
}

const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink.user_timing'].join(',');

export class PageTrace {
  private events: TraceEvent[] = [];
  private done: Promise<void>;

  private constructor(private readonly cdp: CDPSession) {
    cdp.on('Tracing.dataCollected', (e) => this.events.push(...(e.value as unknown as TraceEvent[])));
    this.done = new Promise((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  }

  static async start(cdp: CDPSession): Promise<PageTrace> {
    const trace = new PageTrace(cdp);
    await cdp.send('Tracing.start', { categories: CATEGORIES, transferMode: 'ReportEvents' });
    return trace;
  }

  /**
   * Stops tracing: every renderer main-thread task of at least `minMs`, longest first, the main thread's CPU in all
   * tasks, and the tasks that ran animation-frame callbacks (the room's renders) by their CPU.
   */
  async stop(minMs: number): Promise<{ tasks: TracedTask[]; mainThreadCpuMs: number; frames: FrameTasks }> {
    await this.cdp.send('Tracing.end');
    await this.done;
    const tdur = mainTasks(this.events).reduce((a, e) => a + (e.tdur ?? 0), 0);
    return { tasks: longTasks(this.events, minMs), mainThreadCpuMs: Math.round(tdur / 1000), frames: frameTasks(this.events) };
  }
}

/** Tasks that ran an animation-frame callback (where the UI renders), by the thread's CPU time: their number, sum, median, most. */
export interface FrameTasks {
  count: number;
  cpuMs: number;
  medianCpuMs: number;
  maxCpuMs: number;
  /** Wall ms by kind of work inside them (JS of the animation frame, style, layout, paint, GC). */
  inside: Record<string, number>;
}

function frameTasks(events: TraceEvent[]): FrameTasks {
  const onMain = onMainThread(events);
  const byThread = new Map<string, TraceEvent[]>();
  for (const t of onMain.filter((e) => e.name === 'RunTask').sort((a, b) => a.ts - b.ts)) {
    const key = `${t.pid}:${t.tid}`;
    if (!byThread.has(key)) byThread.set(key, []);
    byThread.get(key)!.push(t);
  }
  const rendering = new Set<TraceEvent>();
  for (const f of onMain.filter((e) => e.name === 'FireAnimationFrame')) {
    const tasks = byThread.get(`${f.pid}:${f.tid}`) ?? [];
    let lo = 0; // the last task starting at or before the frame: tasks on one thread do not overlap
    for (let hi = tasks.length; lo + 1 < hi; ) {
      const mid = (lo + hi) >> 1;
      if (tasks[mid]!.ts <= f.ts) lo = mid;
      else hi = mid;
    }
    const t = tasks[lo];
    if (t && t.ts <= f.ts && f.ts <= t.ts + (t.dur ?? 0)) rendering.add(t);
  }
  const cpu = [...rendering].map((t) => (t.tdur ?? 0) / 1000).sort((a, b) => a - b);
  return {
    count: cpu.length, cpuMs: Math.round(cpu.reduce((a, b) => a + b, 0)),
    medianCpuMs: Math.round(cpu[Math.floor(cpu.length / 2)] ?? 0), maxCpuMs: Math.round(cpu.at(-1) ?? 0),
    inside: renderWork(onMain, [...rendering]),
  };
}

const RENDER_WORK = ['FireAnimationFrame', 'UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize', 'MinorGC', 'MajorGC'];

/** Wall ms of each kind of work inside the render tasks, summed: is a render its JS, its layout or its paint? */
function renderWork(onMain: TraceEvent[], tasks: TraceEvent[]): Record<string, number> {
  const sums: Record<string, number> = {};
  const byThread = new Map<string, TraceEvent[]>();
  for (const t of tasks) {
    const key = `${t.pid}:${t.tid}`;
    if (!byThread.has(key)) byThread.set(key, []);
    byThread.get(key)!.push(t);
  }
  for (const e of onMain) {
    if (!RENDER_WORK.includes(e.name)) continue;
    const inTask = byThread.get(`${e.pid}:${e.tid}`)?.some((t) => e.ts >= t.ts && e.ts <= t.ts + (t.dur ?? 0));
    if (inTask) sums[e.name] = Math.round((sums[e.name] ?? 0) + (e.dur ?? 0) / 1000);
  }
  return sums;
}

/** What an event inside a task did, in words a person can act on. */
function describe(e: TraceEvent): string {
  const d = e.args?.data ?? {};
  if (e.name === 'FunctionCall') return `JS ${String(d.functionName || '(anonymous)')} ${String(d.url ?? '').split('/').pop()}:${Number(d.lineNumber ?? 0) + 1}`;
  if (e.name === 'EventDispatch') return `event ${String(d.type)}`;
  if (e.name === 'TimerFire') return 'timer';
  if (e.name === 'FireAnimationFrame') return 'animation frame callback';
  return e.name;
}

/** Events we count inside a task; the others are either containers or too fine to name. */
const WORK = new Set([
  'FunctionCall', 'EventDispatch', 'TimerFire', 'FireAnimationFrame', 'FireIdleCallback', 'UpdateLayoutTree', 'Layout', 'Paint',
  'PrePaint', 'Layerize', 'MajorGC', 'MinorGC', 'V8.GC_SCAVENGER', 'V8.GC_MARK_COMPACTOR', 'ParseHTML', 'EvaluateScript', 'v8.compile',
  'HitTest', 'RunMicrotasks', 'v8.run',
]);

function onMainThread(events: TraceEvent[]): TraceEvent[] {
  const mainThreads = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  return events.filter((e) => e.ph === 'X' && mainThreads.has(`${e.pid}:${e.tid}`));
}

const mainTasks = (events: TraceEvent[]) => onMainThread(events).filter((e) => e.name === 'RunTask');

export function longTasks(events: TraceEvent[], minMs: number): TracedTask[] {
  const onMain = onMainThread(events);
  const tasks = onMain.filter((e) => e.name === 'RunTask' && (e.dur ?? 0) >= minMs * 1000);
  return tasks.sort((a, b) => b.dur! - a.dur!).map((task) => {
    const end = task.ts + task.dur!;
    const inside = onMain.filter((e) => e !== task && e.tid === task.tid && e.pid === task.pid && e.ts >= task.ts && e.ts + (e.dur ?? 0) <= end && WORK.has(e.name));
    // Top level only: a JS call inside an event dispatch is already counted in the dispatch.
    const top = inside.filter((e) => !inside.some((o) => o !== e && o.ts <= e.ts && o.ts + o.dur! >= e.ts + e.dur! && o.dur! > e.dur!));
    const byWhat = new Map<string, number>();
    for (const e of top) byWhat.set(describe(e), (byWhat.get(describe(e)) ?? 0) + e.dur! / 1000);
    const listed = [...byWhat].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([what, ms]) => `${what} ${Math.round(ms)} ms`);
    return { from: task.ts, to: end, ms: Math.round(task.dur! / 1000), cpuMs: task.tdur === undefined ? null : Math.round(task.tdur / 1000), inside: listed };
  });
}
