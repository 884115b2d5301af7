/**
 * Bytes per second over a sliding window, for progress displays and the
 * benchmark. Pure: the caller passes the time.
 */
export class RateMeter {
  private samples: { at: number; bytes: number }[] = [];
  private total = 0;

  constructor(private readonly windowMs = 3_000) {}

  add(bytes: number, now: number): void {
    this.samples.push({ at: now, bytes });
    this.total += bytes;
    this.trim(now);
  }

  /** Bytes per second over the window ending now. */
  rate(now: number): number {
    this.trim(now);
    if (this.samples.length === 0) return 0;
    const span = Math.max(1_000, now - this.samples[0]!.at);
    return (this.total * 1000) / span;
  }

  /**
   * Seconds until `remaining` more bytes arrive at the measured rate; null
   * while unknown: fewer than two samples in the window (one piece says
   * nothing about a rate), or nothing arriving at all.
   */
  secondsFor(remaining: number, now: number): number | null {
    const rate = this.rate(now);
    if (this.samples.length < 2 || rate <= 0) return null;
    return Math.max(0, remaining) / rate;
  }

  private trim(now: number): void {
    while (this.samples.length > 0 && this.samples[0]!.at < now - this.windowMs) this.total -= this.samples.shift()!.bytes;
  }
}
