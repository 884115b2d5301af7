/**
 * A byte-rate limit as a shared token bucket: each call books its bytes on a
 * timeline and learns how long to wait. Pure; the caller sleeps. Used only by
 * tests and the benchmark to make the network, not the CPU, the bottleneck.
 */
export class RateLimit {
  private nextFree = 0;

  constructor(private readonly bytesPerSecond: number) {}

  /** Milliseconds to wait before sending `bytes` at time `now`. */
  book(bytes: number, now: number): number {
    const start = Math.max(now, this.nextFree);
    this.nextFree = start + (bytes * 1000) / this.bytesPerSecond;
    return start - now;
  }
}
