import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time and memory of one Chromium instance, read from /proc (Linux only).
 * Every browser the benchmark launches carries a marker switch
 * (`--meshdrop-bench=<label>`, ignored by Chromium) so its main process can be
 * found; its children (renderers, network service, ...) are found by parent
 * pid. CPU seconds per process type say who was busy: a renderer near 1 s per
 * second of wall time is CPU-bound on its main thread.
 *
 * The marker carries this bench process's pid: several people run the same
 * phases on this machine with the same labels (ab0-sharer, ...), and a label
 * alone let one run read another's browser as its own.
 */
export const marker = (label: string) => `--meshdrop-bench=${label}@${process.pid}`;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Proc {
  pid: number;
  ppid: number;
  type: string;
  cpuSeconds: number;
  cmdline: string;
}

/**
 * Private (anonymous) resident memory of a process, from /proc/PID/status:
 * heaps, blob data and buffers, without the shared code every Chromium
 * process maps (which summed RSS would count once per process). Cheap to
 * read; PSS (smaps_rollup) cost a core's worth of kernel time per few seconds
 * on Chromium's huge address spaces and slowed the very run it watched.
 */
export function anonMiB(pid: number): number {
  try {
    const kib = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kib ?? 0) / 1024;
  } catch {
    return 0;
  }
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    const type = /--type=(\S+)/.exec(cmdline)?.[1] ?? 'browser';
    const utility = /--utility-sub-type=(\S+)/.exec(cmdline)?.[1];
    return {
      pid,
      ppid: Number(fields[1]),
      type: utility ? utility.replace(/\.mojom\..*/, '').replace(/^.*\./, '') : type,
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
      cmdline,
    };
  } catch {
    return null; // the process ended while we looked
  }
}

function allProcs(): Proc[] {
  const procs: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) procs.push(p);
  }
  return procs;
}

/** The marked browser and all its descendants. */
export function browserTree(label: string): Proc[] {
  const procs = allProcs();
  const root = procs.find((p) => p.cmdline.split(' ').includes(marker(label)) && !p.cmdline.includes('--type='));
  if (!root) return [];
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const p of procs) if (p.ppid === tree[i]!.pid) tree.push(p);
  return tree;
}

export interface Usage {
  /** CPU seconds by process type (browser, renderer, network, ...). */
  cpu: Record<string, number>;
  /** The renderers' CPU seconds by thread name (CrRendererMain runs the page's JS; WebRTC, IPC and pools run beside it). */
  rendererThreads: Record<string, number>;
}

/** A process's threads' CPU seconds by thread name, from /proc/PID/task/TID/{comm,stat} (threads that end are missed). */
function threadCpuSeconds(pid: number, into: Record<string, number>): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return; // the process ended while we looked
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      into[name] = (into[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
      // the thread ended while we looked
    }
  }
}

export function usage(label: string): Usage {
  const cpu: Record<string, number> = {};
  const rendererThreads: Record<string, number> = {};
  for (const p of browserTree(label)) {
    cpu[p.type] = (cpu[p.type] ?? 0) + p.cpuSeconds;
    if (p.type === 'renderer') threadCpuSeconds(p.pid, rendererThreads);
  }
  return { cpu, rendererThreads };
}

/** CPU seconds spent between two readings, by process type, rounded to 0.1 s. */
export function cpuSpent(before: Usage, after: Usage): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [type, s] of Object.entries(after.cpu)) {
    const d = s - (before.cpu[type] ?? 0);
    if (d >= 0.05) out[type] = Math.round(d * 10) / 10;
  }
  return out;
}

/**
 * Whole-machine busy CPU seconds (all cores, from /proc/stat). Other people's
 * test runs share this 2-core machine: busy time not spent by our browsers is
 * interference, and the report shows it next to each figure.
 */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS_PER_SECOND;
}

export const loadAverage = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

export interface PhaseCpu {
  wallSeconds: number;
  /** CPU seconds per browser label, by process type. */
  own: Record<string, Record<string, number>>;
  /** Per browser label: its renderers' CPU seconds by thread name (part of own's renderer). */
  rendererThreads?: Record<string, Record<string, number>>;
  /** This Node process: Playwright's driver side, the samplers and the in-process relay. */
  benchNodeSeconds: number;
  /** Busy CPU seconds on the machine spent by neither: other people's runs on this shared machine. */
  otherSeconds: number;
  /** Cores' worth of busy time over the phase (2.0 = both cores saturated). */
  machineBusyCores: number;
  loadAverage: number;
}

/** Starts watching CPU for a phase; call the returned function when it ends. */
export function watchCpu(labels: string[]): () => PhaseCpu {
  const t0 = performance.now();
  const machine0 = machineBusySeconds();
  const node0 = process.cpuUsage();
  const before = new Map(labels.map((l) => [l, usage(l)]));
  return () => {
    const wallSeconds = (performance.now() - t0) / 1000;
    const busy = machineBusySeconds() - machine0;
    const own: PhaseCpu['own'] = {};
    const rendererThreads: NonNullable<PhaseCpu['rendererThreads']> = {};
    let ownTotal = 0;
    for (const l of labels) {
      const now = usage(l);
      own[l] = cpuSpent(before.get(l)!, now);
      rendererThreads[l] = { ...now.rendererThreads };
      for (const [name, sec] of Object.entries(before.get(l)!.rendererThreads)) rendererThreads[l]![name] = (rendererThreads[l]![name] ?? 0) - sec;
      ownTotal += Object.values(own[l]!).reduce((a, b) => a + b, 0);
    }
    const node = process.cpuUsage(node0);
    const nodeSeconds = (node.user + node.system) / 1e6;
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      wallSeconds: round(wallSeconds), own, rendererThreads, benchNodeSeconds: round(nodeSeconds), otherSeconds: round(Math.max(0, busy - ownTotal - nodeSeconds)),       machineBusyCores: round(busy / wallSeconds), loadAverage: loadAverage(),
    };
  };
}
