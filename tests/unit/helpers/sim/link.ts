import type { LinkHandlers, PeerConnection, PeerConnectionFactory } from '../../../../src/net/link.ts';
import { LOW_WATER } from '../../../../src/net/link.ts';
import type { SimClock } from './clock.ts';

/**
 * In-memory PeerConnections in virtual time, shaped like a WebRTC data
 * channel: the initiator emits an offer that travels through the relay, the
 * other side answers, both open; then frames arrive in order after the
 * link's latency, leaving the sender's buffer at the link's bandwidth.
 * destroy() reports onClose once here and ERR_CLOSED on the other side.
 */
export interface SimNetwork {
  /** The createConnection of one peer (named only for fingerprints and debugging). */
  factory(owner: string): PeerConnectionFactory;
  readonly conns: SimConn[];
}

export interface SimNetOptions {
  clock: SimClock;
  random: () => number;
  /** One-way latency range in ms. */
  latencyMs?: [number, number];
  /** Bandwidth range in bytes per ms (1000 = ~1 MB/s). */
  bytesPerMs?: [number, number];
  /** Time from answer to open on each side. */
  openMs?: number;
}

export function createSimNetwork(opts: SimNetOptions): SimNetwork {
  const offers = new Map<string, SimConn>();
  const conns: SimConn[] = [];
  let seq = 0;
  const pick = ([lo, hi]: [number, number]) => Math.round(lo + opts.random() * (hi - lo));
  const ctx: NetContext = {
    clock: opts.clock, offers, openMs: opts.openMs ?? 20,
    newLink: () => ({ latencyMs: pick(opts.latencyMs ?? [2, 20]), bytesPerMs: pick(opts.bytesPerMs ?? [500, 5000]) }),
  };
  return {
    conns,
    factory: (owner) => (o, h) => {
      const conn = new SimConn(`${owner}#${++seq}`, o.initiator, h, ctx);
      conns.push(conn);
      return conn;
    },
  };
}

interface NetContext {
  clock: SimClock;
  offers: Map<string, SimConn>;
  openMs: number;
  newLink(): { latencyMs: number; bytesPerMs: number };
}

export class SimConn implements PeerConnection {
  remote: SimConn | null = null;
  bufferedAmount = 0;
  latencyMs = 0;
  bytesPerMs = 1000;
  private closed = false;
  private opened = false;
  /** Frames that arrived before this side opened, in order. */
  private held: Uint8Array[] = [];
  private waiters: (() => void)[] = [];
  /** When the sender's wire is free again (frames leave the buffer one after another). */
  private wireFreeAt = 0;

  constructor(readonly name: string, initiator: boolean, private readonly h: LinkHandlers, private readonly ctx: NetContext) {
    if (initiator) {
      ctx.offers.set(name, this);
      ctx.clock.setTimeout(() => {
        if (!this.closed) h.onSignal(JSON.stringify({ type: 'offer', token: name }));
      }, 1);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isOpen(): boolean {
    return this.opened && !this.closed;
  }

  signal(data: string): void {
    if (this.closed) return;
    let m: { type?: string; token?: string };
    try {
      m = JSON.parse(data) as typeof m;
    } catch {
      return this.destroy('ERR_SIGNAL', 'unreadable signal');
    }
    if (m.type === 'offer') return this.answer(String(m.token));
    if (m.type === 'answer' && this.remote) this.ctx.clock.setTimeout(() => this.open(), this.latencyMs + this.ctx.openMs);
  }

  private answer(token: string): void {
    const other = this.ctx.offers.get(token);
    this.ctx.offers.delete(token);
    if (!other || other.closed || this.remote) return this.destroy('ERR_SIGNAL', 'unknown offer');
    const link = this.ctx.newLink();
    for (const end of [this, other]) Object.assign(end, link);
    this.remote = other;
    other.remote = this;
    this.h.onSignal(JSON.stringify({ type: 'answer', token }));
    this.ctx.clock.setTimeout(() => this.open(), this.latencyMs + this.ctx.openMs);
  }

  send(frame: Uint8Array): void {
    if (this.closed || !this.opened || !this.remote) return;
    const copy = frame.slice();
    const clock = this.ctx.clock;
    this.bufferedAmount += copy.length;
    this.wireFreeAt = Math.max(this.wireFreeAt, clock.now()) + copy.length / this.bytesPerMs;
    const leavesAt = this.wireFreeAt - clock.now();
    clock.setTimeout(() => {
      this.bufferedAmount -= copy.length;
      if (this.bufferedAmount <= LOW_WATER) this.wake();
    }, leavesAt);
    const remote = this.remote;
    clock.setTimeout(() => {
      if (!this.closed && !remote.closed) remote.deliver(copy);
    }, leavesAt + this.latencyMs);
  }

  drained(): Promise<void> {
    if (this.closed || this.bufferedAmount <= LOW_WATER) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  destroy(code: string, detail?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.offers.delete(this.name);
    this.wake();
    this.h.onClose(code, detail);
    const remote = this.remote;
    if (remote) this.ctx.clock.setTimeout(() => remote.destroy('ERR_CLOSED', 'the other side closed'), this.latencyMs);
  }

  fingerprints(): { local: string; remote: string } | null {
    return this.remote && this.opened ? { local: `sha-256 ${this.name}`, remote: `sha-256 ${this.remote.name}` } : null;
  }

  private open(): void {
    if (this.closed || this.opened) return;
    this.opened = true;
    this.h.onOpen();
    const held = this.held;
    this.held = [];
    for (const frame of held) if (!this.closed) this.h.onFrame(frame);
  }

  private deliver(frame: Uint8Array): void {
    if (this.closed) return;
    if (!this.opened) this.held.push(frame);
    else this.h.onFrame(frame);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}
