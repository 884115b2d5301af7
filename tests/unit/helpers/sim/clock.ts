/**
 * Virtual time for whole-app simulations: one event queue ordered by time,
 * then by insertion, so a run is a pure function of its seed. The app's
 * asynchronous work is promise-only in the sim (sync crypto, memory store,
 * in-memory files), so draining the microtask queue after each event makes
 * every event run to completion before the next one starts.
 */
export interface SimClock {
  now(): number;
  /** Runs fn after ms virtual milliseconds; returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
  /** Runs fn every ms virtual milliseconds; returns a function that stops it. */
  every(ms: number, fn: () => void): () => void;
  /** Runs every event due up to `untilMs` (inclusive), then sets the time to it. */
  run(untilMs: number): Promise<void>;
  /** Errors thrown by event handlers: the app must never throw out of a callback. */
  readonly errors: { atMs: number; error: unknown }[];
  /** Events run so far (for timing reports). */
  readonly eventsRun: number;
}

interface SimEvent { at: number; seq: number; fn: () => void; cancelled: boolean }

/** Binary min-heap on (at, seq). */
class EventHeap {
  private items: SimEvent[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): SimEvent | undefined {
    return this.items[0];
  }
  push(e: SimEvent): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  pop(): SimEvent | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      this.siftDown(0);
    }
    return top;
  }
  private siftDown(i: number): void {
    const a = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l]!, a[m]!)) m = l;
      if (r < a.length && before(a[r]!, a[m]!)) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }
}

const before = (x: SimEvent, y: SimEvent) => x.at < y.at || (x.at === y.at && x.seq < y.seq);

/** Lets every promise chain started by the last event settle (a macrotask runs after all microtasks). */
export const drainMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createClock(): SimClock {
  const heap = new EventHeap();
  const errors: { atMs: number; error: unknown }[] = [];
  let now = 0;
  let seq = 0;
  let eventsRun = 0;

  const schedule = (fn: () => void, ms: number): (() => void) => {
    const e: SimEvent = { at: now + Math.max(0, ms), seq: seq++, fn, cancelled: false };
    heap.push(e);
    return () => {
      e.cancelled = true;
    };
  };

  return {
    now: () => now,
    setTimeout: schedule,
    every(ms, fn) {
      let stopped = false;
      let cancel = () => {};
      const arm = () => {
        cancel = schedule(() => {
          if (stopped) return;
          arm();
          fn();
        }, ms);
      };
      arm();
      return () => {
        stopped = true;
        cancel();
      };
    },
    async run(untilMs) {
      for (let e = heap.peek(); e && e.at <= untilMs; e = heap.peek()) {
        heap.pop();
        if (e.cancelled) continue;
        now = e.at;
        eventsRun++;
        try {
          e.fn();
        } catch (error) {
          errors.push({ atMs: now, error });
        }
        await drainMicrotasks();
      }
      now = Math.max(now, untilMs);
      await drainMicrotasks();
    },
    errors,
    get eventsRun() {
      return eventsRun;
    },
  };
}
