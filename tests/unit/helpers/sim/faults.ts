import type { PeerConnection, PeerConnectionFactory } from '../../../../src/net/link.ts';
import type { SimClock } from './clock.ts';

/**
 * What a misbehaving peer does to the frames it sends, and its upload
 * capacity, for swarm simulations over real engines. The engine's own
 * PeerConnection is wrapped, so the engine sees an ordinary link: a stalled
 * peer's frames just never arrive (it stays connected), a corrupting peer's
 * DATA frames arrive with one byte flipped.
 */
export type Fault = 'none' | 'stall' | 'corrupt';

/** The DATA frame's type byte (src/core/wire/frames.ts). */
const DATA_FRAME = 0x08;

export function faultyFactory(factory: PeerConnectionFactory, fault: () => Fault): PeerConnectionFactory {
  return (opts, handlers) => new FaultyConn(factory(opts, handlers), fault);
}

class FaultyConn implements PeerConnection {
  constructor(private readonly inner: PeerConnection, private readonly fault: () => Fault) {}

  get bufferedAmount(): number {
    return this.inner.bufferedAmount;
  }

  send(frame: Uint8Array): void {
    const fault = this.fault();
    if (fault === 'stall') return; // dropped silently: no close, no error, nothing on the wire
    if (fault === 'corrupt' && frame[0] === DATA_FRAME && frame.length > 1) {
      const mangled = frame.slice();
      mangled[mangled.length - 1]! ^= 0xff; // a payload byte: the frame still decodes, the piece fails its hash
      return this.inner.send(mangled);
    }
    this.inner.send(frame);
  }

  drained(): Promise<void> {
    return this.inner.drained();
  }

  destroy(code: string, detail?: string): void {
    this.inner.destroy(code, detail);
  }

  signal(data: string): void {
    this.inner.signal(data);
  }

  fingerprints(): { local: string; remote: string } | null {
    return this.inner.fingerprints();
  }
}

/**
 * EngineDeps.throttle for one peer: its uplink sends `bytesPerSecond` in
 * virtual time, shared by every piece it is serving (the uploader awaits it
 * before each DATA frame). A bucket with no burst: each frame's turn starts
 * when the previous one's bytes have left.
 */
export function uplink(clock: SimClock, bytesPerSecond: number): (bytes: number) => Promise<void> {
  let freeAt = 0;
  return (bytes) => {
    freeAt = Math.max(clock.now(), freeAt) + (bytes * 1000) / bytesPerSecond;
    const wait = freeAt - clock.now();
    return new Promise((resolve) => clock.setTimeout(resolve, wait));
  };
}
