/**
 * Just enough of the browser's WebRTC for simple-peer, so src/net/rtc-peer.ts
 * (simple-peer inside) runs in Node. Two FakePeerConnections pair up through
 * their SDP (the offer names its maker); once the answer is set both report
 * ICE 'connected' and open the data channel, the answerer's arriving by
 * 'datachannel' as in a browser. A message is delivered in a task of its own
 * (setTimeout), as a browser dispatches each 'message' event.
 *
 * The test holds the timing: `statsGate` holds getStats() (simple-peer's
 * 'connect' waits for it), so frames can arrive while the channel is open but
 * the peer not yet connected; `deliver` injects a message on a channel.
 *
 * Events follow the DOM's order for what simple-peer does: an `on<event>`
 * attribute it set in its constructor runs before listeners added later.
 */
type Listener = (ev: unknown) => void;

class FakeTarget {
  private listeners = new Map<string, Listener[]>();
  addEventListener(type: string, fn: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  removeEventListener(type: string, fn: Listener): void {
    this.listeners.set(type, (this.listeners.get(type) ?? []).filter((l) => l !== fn));
  }
  protected fire(type: string, ev: unknown): void {
    (this as unknown as Record<string, Listener | null | undefined>)[`on${type}`]?.(ev);
    for (const fn of this.listeners.get(type) ?? []) fn(ev);
  }
}

export class FakeChannel extends FakeTarget {
  readyState: RTCDataChannelState = 'connecting';
  binaryType = 'blob';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  remote: FakeChannel | null = null;
  onmessage: Listener | null = null;
  onopen: Listener | null = null;
  onclose: Listener | null = null;
  onerror: Listener | null = null;
  onbufferedamountlow: Listener | null = null;
  constructor(readonly label: string) {
    super();
  }
  send(data: ArrayBufferView | string): void {
    if (this.readyState !== 'open') throw new Error('InvalidStateError: the channel is not open');
    const copy = typeof data === 'string' ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer;
    this.remote?.deliver(copy);
  }
  /** A message from the other side, dispatched in a task of its own. */
  deliver(data: ArrayBuffer | string): void {
    setTimeout(() => {
      if (this.readyState === 'open') this.fire('message', { data });
    });
  }
  open(): void {
    this.readyState = 'open';
    this.fire('open', {});
  }
  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    const other = this.remote;
    this.remote = null;
    if (other && other.readyState !== 'closed') setTimeout(() => other.close());
    this.fire('close', {});
  }
}

export interface FakeWebRtc {
  /** Every connection made, in order. */
  connections: FakePeerConnection[];
  /** getStats() waits for this (simple-peer's 'connect' waits for getStats). */
  statsGate: Promise<void>;
  install(): void;
  uninstall(): void;
}

let nextId = 0;

export class FakePeerConnection extends FakeTarget {
  readonly id = `fake-${++nextId}`;
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  iceConnectionState: RTCIceConnectionState = 'new';
  iceGatheringState: RTCIceGatheringState = 'complete';
  connectionState: RTCPeerConnectionState = 'new';
  signalingState: RTCSignalingState = 'stable';
  channel: FakeChannel | null = null;
  remote: FakePeerConnection | null = null;
  ondatachannel: Listener | null = null;
  oniceconnectionstatechange: Listener | null = null;
  onsignalingstatechange: Listener | null = null;
  constructor(private readonly world: { byId: Map<string, FakePeerConnection>; gate: () => Promise<void> }) {
    super();
    world.byId.set(this.id, this);
  }
  createDataChannel(label: string): FakeChannel {
    this.channel = new FakeChannel(label);
    return this.channel;
  }
  async createOffer(): Promise<RTCSessionDescriptionInit> {
    return { type: 'offer', sdp: `v=0 ${this.id}` };
  }
  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    return { type: 'answer', sdp: `v=0 ${this.id}` };
  }
  async setLocalDescription(d: RTCSessionDescriptionInit): Promise<void> {
    this.localDescription = d;
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
    this.remoteDescription = d;
    const other = this.world.byId.get(String(d.sdp).split(' ')[1]!);
    if (!other) throw new Error('no such offer');
    this.remote = other;
    if (d.type === 'answer') setTimeout(() => this.connect());
  }
  async addIceCandidate(): Promise<void> {}
  async getStats(): Promise<Map<string, Record<string, unknown>>> {
    await this.world.gate();
    return new Map<string, Record<string, unknown>>([
      ['t', { id: 't', type: 'transport', selectedCandidatePairId: 'p' }],
      ['p', { id: 'p', type: 'candidate-pair', localCandidateId: 'l', remoteCandidateId: 'r', nominated: true, state: 'succeeded' }],
      ['l', { id: 'l', type: 'local-candidate', address: '127.0.0.1', port: 1, candidateType: 'host' }],
      ['r', { id: 'r', type: 'remote-candidate', address: '127.0.0.1', port: 2, candidateType: 'host' }],
    ]);
  }
  close(): void {
    this.channel?.close();
    this.iceConnectionState = 'closed';
  }
  /** The initiator's answer is set: both ends connect and the channel opens. */
  private connect(): void {
    const answerer = this.remote!;
    const ours = this.channel!;
    const theirs = new FakeChannel(ours.label);
    ours.remote = theirs;
    theirs.remote = ours;
    answerer.channel = theirs;
    answerer.fire('datachannel', { channel: theirs });
    for (const pc of [this, answerer]) {
      pc.iceConnectionState = 'connected';
      pc.fire('iceconnectionstatechange', {});
    }
    ours.open();
    theirs.open();
  }
}

export function createFakeWebRtc(): FakeWebRtc & { openGate(): void } {
  const byId = new Map<string, FakePeerConnection>();
  let openGate!: () => void;
  const statsGate = new Promise<void>((resolve) => (openGate = resolve));
  const connections: FakePeerConnection[] = [];
  const saved: Record<string, unknown> = {};
  const names = ['RTCPeerConnection', 'RTCSessionDescription', 'RTCIceCandidate'] as const;
  const world = { byId, gate: () => statsGate };
  const fakes: Record<(typeof names)[number], unknown> = {
    RTCPeerConnection: class extends FakePeerConnection {
      constructor() {
        super(world);
        connections.push(this);
      }
    },
    RTCSessionDescription: class {
      constructor(init: RTCSessionDescriptionInit) {
        Object.assign(this, init);
      }
    },
    RTCIceCandidate: class {
      constructor(init: RTCIceCandidateInit) {
        Object.assign(this, init);
      }
    },
  };
  return {
    connections,
    statsGate,
    openGate,
    install() {
      for (const n of names) {
        saved[n] = (globalThis as Record<string, unknown>)[n];
        (globalThis as Record<string, unknown>)[n] = fakes[n];
      }
    },
    uninstall() {
      for (const n of names) (globalThis as Record<string, unknown>)[n] = saved[n];
    },
  };
}
