import { randomUUID } from 'node:crypto';
import type { LinkHandlers, PeerConnection, PeerConnectionFactory } from '../../../src/net/link.ts';
import { LOW_WATER } from '../../../src/net/link.ts';

/**
 * In-memory PeerConnections for Node tests: the same signalling dance as
 * WebRTC (offer, answer through the real relay), then an ordered, reliable,
 * asynchronous pipe with a bufferedAmount and a drain event, like a data channel.
 * A link can be made to corrupt or swallow frames, or to die silently.
 */
export interface MemoryNetwork {
  factory: PeerConnectionFactory;
  /** Every connection made so far, for fault injection. */
  conns: MemoryConn[];
}

export function createMemoryNetwork(): MemoryNetwork {
  const offers = new Map<string, MemoryConn>();
  const conns: MemoryConn[] = [];
  return {
    conns,
    factory: (opts, handlers) => {
      const conn = new MemoryConn(opts.initiator, handlers, offers);
      conns.push(conn);
      return conn;
    },
  };
}

export class MemoryConn implements PeerConnection {
  remote: MemoryConn | null = null;
  bufferedAmount = 0;
  /** Fault injection: stop delivering anything (a peer that vanished without closing). */
  silent = false;
  /** Fault injection: rewrite outgoing frames. */
  mangle: ((frame: Uint8Array) => Uint8Array) | null = null;
  /** Bytes of DATA frames (type 0x08) sent: who served how much. */
  dataBytesSent = 0;
  private closed = false;
  private queue: Uint8Array[] = [];
  private flushing = false;
  private waiters: (() => void)[] = [];

  constructor(initiator: boolean, private readonly h: LinkHandlers, private readonly offers: Map<string, MemoryConn>) {
    if (initiator) {
      const token = randomUUID();
      offers.set(token, this);
      setImmediate(() => h.onSignal(JSON.stringify({ type: 'offer', token })));
    }
  }

  signal(data: string): void {
    if (this.closed) return;
    const m = JSON.parse(data) as { type: string; token: string };
    if (m.type === 'offer') {
      const other = this.offers.get(m.token);
      this.offers.delete(m.token);
      if (!other) return this.destroy('ERR_SIGNAL', 'unknown offer');
      this.remote = other;
      other.remote = this;
      this.h.onSignal(JSON.stringify({ type: 'answer', token: m.token }));
      setImmediate(() => this.open());
    } else if (m.type === 'answer') {
      setImmediate(() => this.open());
    }
  }

  send(frame: Uint8Array): void {
    if (this.closed || !this.remote) return;
    if (frame[0] === 0x08) this.dataBytesSent += frame.length;
    const out = this.mangle ? this.mangle(frame.slice()) : frame.slice();
    this.bufferedAmount += out.length;
    this.queue.push(out);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  drained(): Promise<void> {
    if (this.closed || this.bufferedAmount <= LOW_WATER) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  destroy(code: string, detail?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    this.h.onClose(code, detail);
    const remote = this.remote;
    if (remote && !this.silent) setImmediate(() => remote.destroy('ERR_CLOSED', 'the other side closed'));
  }

  /** Stand-ins for DTLS fingerprints: one per connection end, as a real certificate would be. */
  readonly fingerprint = `sha-256 ${randomUUID()}`;
  fingerprints(): { local: string; remote: string } | null {
    return this.remote && this.opened ? { local: this.fingerprint, remote: this.remote.fingerprint } : null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private opened = false;
  /** Frames that arrived before our side opened (the answerer opens a tick later), in order. */
  private held: Uint8Array[] = [];
  private open(): void {
    if (this.closed || this.opened) return;
    this.opened = true;
    this.h.onOpen();
    const held = this.held;
    this.held = [];
    for (const frame of held) if (!this.closed) this.h.onFrame(frame);
  }

  /** Delivers a batch per macrotask, so senders see bufferedAmount rise and fall like a channel's. */
  private flush(): void {
    const batch = this.queue.splice(0, 16);
    for (const frame of batch) {
      this.bufferedAmount -= frame.length;
      const remote = this.remote;
      if (!this.closed && !this.silent && remote && !remote.closed) remote.deliver(frame);
    }
    if (this.bufferedAmount <= LOW_WATER) this.wake();
    if (this.queue.length > 0) setImmediate(() => this.flush());
    else this.flushing = false;
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
