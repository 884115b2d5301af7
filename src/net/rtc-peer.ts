import SimplePeer from 'simple-peer';
import { sdpFingerprint } from '../core/crypto/verification-code.ts';
import { LOW_WATER, type LinkHandlers, type LinkRoute, type PeerConnection } from './link.ts';

export interface RtcPeerOptions {
  initiator: boolean;
  /** Read when the link is made, so a link made later gets fresh TURN credentials. */
  iceServers: () => RTCIceServer[];
  /** 'relay': TURN-relayed candidates only, so the other side never learns our address. Read when the link is made. */
  iceTransportPolicy?: () => RTCIceTransportPolicy;
  /** A STUN/TURN server refused us (e.g. 401: wrong or expired TURN credentials). */
  onIceError?(errorCode: number, url: string, text: string): void;
}

type StatsReport = { type: string; id: string; selectedCandidatePairId?: string; nominated?: boolean; state?: string };
type PairStats = { localCandidateId?: string; remoteCandidateId?: string; currentRoundTripTime?: number };

/** The selected candidate pair in a getStats() report, if there is one yet. */
function selectedPair(stats: RTCStatsReport): PairStats | undefined {
  let pairId: string | undefined;
  stats.forEach((r: StatsReport) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
  });
  if (!pairId) {
    stats.forEach((r: StatsReport) => {
      if (!pairId && r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pairId = r.id;
    });
  }
  return pairId ? (stats.get(pairId) as PairStats | undefined) : undefined;
}

/**
 * Which way the selected candidate pair runs, from getStats(): through a TURN relay
 * (ours, or the other side's when it hides its address), or straight.
 */
export async function selectedRoute(pc: RTCPeerConnection): Promise<LinkRoute | null> {
  const stats = await pc.getStats();
  const pair = selectedPair(stats);
  const typeOf = (id: string | undefined) => (id ? (stats.get(id) as { candidateType?: string } | undefined)?.candidateType : undefined);
  const local = typeOf(pair?.localCandidateId);
  const remote = typeOf(pair?.remoteCandidateId);
  if (!local || !remote) return null;
  return local === 'relay' || remote === 'relay' ? 'relay' : 'direct';
}

/** The selected pair's current round trip in ms (STUN consent checks measure it), null when not known. */
export async function selectedRoundTrip(pc: RTCPeerConnection): Promise<number | null> {
  const rtt = selectedPair(await pc.getStats())?.currentRoundTripTime;
  return typeof rtt === 'number' && Number.isFinite(rtt) ? rtt * 1000 : null;
}

/** A message's bytes as the app's frames: binaryType is 'arraybuffer'; text (which the app never sends) as UTF-8, for the decoder to refuse. */
function frameBytes(data: unknown): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new TextEncoder().encode(String(data));
}

/**
 * The only file that knows simple-peer. Wraps one WebRTC peer connection with
 * one data channel behind PeerConnection: one destroy path, string error
 * codes, onClose exactly once, and bufferedamountlow-driven backpressure.
 */
export function createRtcPeer(opts: RtcPeerOptions, h: LinkHandlers): PeerConnection {
  const config: RTCConfiguration = { iceServers: opts.iceServers(), iceTransportPolicy: opts.iceTransportPolicy?.() ?? 'all' };
  // Every offer restarts ICE: the first one has nothing to restart, and any later
  // one exists only to find a new path (we never add tracks).
  const peer = new SimplePeer({ initiator: opts.initiator, trickle: true, config, offerOptions: { iceRestart: true } });
  let closed = false;
  let opened = false;
  /** simple-peer can deliver the other side's first frames before its own 'connect': hold them. */
  let early: Uint8Array[] = [];
  let waiters: (() => void)[] = [];
  const channel = (): RTCDataChannel | undefined => (peer as unknown as { _channel?: RTCDataChannel })._channel;
  const connection = (): RTCPeerConnection | undefined => (peer as unknown as { _pc?: RTCPeerConnection })._pc;

  const receive = (data: Uint8Array) => {
    if (closed) return;
    if (!opened) {
      if (early.length >= 64) return destroy('ERR_FLOOD', 'too much data before the connection opened');
      early.push(data);
      return;
    }
    h.onFrame(data);
  };
  // simple-peer pushes every message through a Node-style Readable (a Buffer, the
  // stream's bookkeeping, a nextTick per chunk): a measurable share of a transfer's
  // CPU. We take the channel's messages ourselves by replacing its onmessage the moment
  // simple-peer sets it up, before any message can be dispatched, so nothing ever goes
  // through the stream and no frame is delivered twice or out of order. simple-peer's
  // destroy clears onmessage as before.
  const takeMessages = () => {
    const ch = channel();
    if (!ch) return;
    ch.onmessage = (ev: MessageEvent) => receive(frameBytes(ev.data));
  };
  takeMessages(); // the initiator's channel exists already
  // The answerer's arrives with 'datachannel': simple-peer's ondatachannel was set
  // first in its constructor, so it runs before this listener, in the same dispatch.
  connection()?.addEventListener('datachannel', takeMessages);

  connection()?.addEventListener('icecandidateerror', (ev) => {
    const e = ev as RTCPeerConnectionIceErrorEvent;
    opts.onIceError?.(e.errorCode, e.url ?? '', e.errorText ?? '');
  });

  const readStats = async <T>(read: (pc: RTCPeerConnection) => Promise<T | null>): Promise<T | null> => {
    const pc = connection();
    if (closed || !pc) return null;
    try {
      return await read(pc);
    } catch {
      return null; // getStats on a connection closing under us: simply not known
    }
  };

  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };

  const destroy = (code: string, detail?: string) => {
    if (closed) return;
    closed = true;
    wake();
    peer.destroy();
    h.onClose(code, detail);
  };

  peer.on('signal', (data) => h.onSignal(JSON.stringify(data)));
  peer.on('connect', () => {
    const ch = channel();
    if (ch) {
      ch.bufferedAmountLowThreshold = LOW_WATER;
      ch.addEventListener('bufferedamountlow', wake);
    }
    opened = true;
    h.onOpen();
    const held = early;
    early = [];
    for (const frame of held) if (!closed) h.onFrame(frame);
  });
  // Only if simple-peer ever kept the channel out of our reach (takeMessages found none).
  peer.on('data', receive);
  peer.on('iceStateChange', (state: RTCIceConnectionState) => {
    // 'failed' is not here: simple-peer destroys the link then, and the peer manager makes a new one.
    if (!opened || closed) return;
    if (state === 'disconnected') h.onHealth?.(true);
    else if (state === 'connected' || state === 'completed') h.onHealth?.(false);
  });
  peer.on('error', (e: Error & { code?: string }) => destroy(e.code ?? 'ERR_WEBRTC', e.message));
  peer.on('close', () => destroy('ERR_CLOSED', 'the connection closed'));

  return {
    signal(data: string) {
      if (closed) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        destroy('ERR_SIGNAL', 'signalling message is not JSON');
        return;
      }
      if (typeof parsed !== 'object' || parsed === null) return destroy('ERR_SIGNAL', 'signalling message is not an object');
      try {
        peer.signal(parsed as SimplePeer.SignalData);
      } catch (e) {
        destroy('ERR_SIGNAL', (e as Error).message);
      }
    },
    send(frame: Uint8Array) {
      if (closed) return;
      try {
        peer.send(frame);
      } catch (e) {
        destroy('ERR_SEND', (e as Error).message);
      }
    },
    get bufferedAmount() {
      return channel()?.bufferedAmount ?? 0;
    },
    drained() {
      if (closed || (channel()?.bufferedAmount ?? 0) <= LOW_WATER) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    fingerprints() {
      const pc = connection();
      const local = sdpFingerprint(pc?.localDescription?.sdp);
      const remote = sdpFingerprint(pc?.remoteDescription?.sdp);
      return local && remote ? { local, remote } : null;
    },
    route: () => readStats(selectedRoute),
    roundTrip: () => readStats(selectedRoundTrip),
    restartIce() {
      if (closed || !opened) return;
      try {
        // The initiator sends an ICE-restart offer; the other side asks the initiator to.
        (peer as unknown as { negotiate(): void }).negotiate(); // missing from @types/simple-peer
      } catch (e) {
        destroy('ERR_ICE_RESTART', (e as Error).message);
      }
    },
    destroy,
  };
}
