/**
 * Waiting for a piece the player needs and storage does not have yet. Pure:
 * the looking, the clock and the napping are passed in, so the orders of
 * events (stored before the first look, between looks, never; the file
 * removed meanwhile; the player gone) are tested in Node.
 *
 * The worker looks in storage, and if the piece is not there naps until the
 * page says a piece of that file was stored or POLL_MS pass (a message can be
 * lost: a page reloading, a worker restarted), then looks again. Storage is
 * the one source of truth; messages only make the worker look sooner.
 */
export const POLL_MS = 1_000;
/**
 * Longer than any wait for a piece the room has, short enough that a player
 * nobody can feed ends with an error the person sees instead of spinning.
 */
export const WAIT_TIMEOUT_MS = 60_000;

export type Look<T> = { state: 'ready'; value: T } | { state: 'missing' } | { state: 'gone'; why: string };

export interface WaitDeps<T> {
  look(): Promise<Look<T>>;
  /** Resolves on the next hint that something was stored, or after `ms`. */
  nap(ms: number): Promise<void>;
  now(): number;
  /** The reader went away (a seek, a closed player): stop waiting. */
  cancelled(): boolean;
}

export type Waited<T> = { ok: true; value: T } | { ok: false; why: string };

export async function waitFor<T>(deps: WaitDeps<T>, timeoutMs = WAIT_TIMEOUT_MS): Promise<Waited<T>> {
  const deadline = deps.now() + timeoutMs;
  for (;;) {
    if (deps.cancelled()) return { ok: false, why: 'cancelled' };
    const seen = await deps.look();
    if (seen.state === 'ready') return { ok: true, value: seen.value };
    if (seen.state === 'gone') return { ok: false, why: seen.why };
    const left = deadline - deps.now();
    if (left <= 0) return { ok: false, why: `no peer sent it within ${Math.round(timeoutMs / 1000)} s` };
    await deps.nap(Math.min(POLL_MS, left));
  }
}

/**
 * Naps keyed by file: `wake(key)` ends every nap on that key at once. The
 * timer functions are passed in (the worker's own, or a test's).
 */
export class Wakeups {
  private sleepers = new Map<string, Set<() => void>>();

  constructor(
    private readonly setTimer: (fn: () => void, ms: number) => unknown,
    private readonly clearTimer: (handle: unknown) => void,
  ) {}

  nap(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.sleepers.get(key) ?? new Set();
      this.sleepers.set(key, set);
      const done = () => {
        this.clearTimer(timer);
        set.delete(done);
        if (set.size === 0 && this.sleepers.get(key) === set) this.sleepers.delete(key);
        resolve();
      };
      const timer = this.setTimer(done, ms);
      set.add(done);
    });
  }

  wake(key: string): void {
    for (const done of [...(this.sleepers.get(key) ?? [])]) done();
  }

  /** Naps running now (for tests: none may be left behind). */
  get sleeping(): number {
    let n = 0;
    for (const set of this.sleepers.values()) n += set.size;
    return n;
  }
}
