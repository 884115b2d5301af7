import {
  encodeMessage, joinChallengeText, parseRelayMessage, type ClientMessage, type IceServer, type RelayErrorCode,
} from '../../signaling/protocol.ts';
import { toBase64Url, utf8 } from '../core/bytes.ts';

/**
 * The relay connection: answers the relay's challenge with a signed join of one
 * room topic, relays opaque signalling strings, and reconnects by itself with
 * exponential backoff and jitter (so a restarted relay is not hit by every client
 * in the same millisecond; each new socket brings a new challenge). Open peer
 * links do not depend on it: they keep running through an outage.
 */
export type RelayStatus = 'connecting' | 'online' | 'offline';

/**
 * Relay codes, plus the client's own: 'bad-relay-message' (the relay broke the protocol),
 * 'unauthenticated' and 'replayed' (a sealed signal that failed to open, or came again:
 * see sealed-signal.ts), 'sign-failed' (this browser's identity could not sign).
 */
export type SignalErrorCode = RelayErrorCode | 'bad-relay-message' | 'unauthenticated' | 'replayed' | 'sign-failed';

export interface SignalHandlers {
  /**
   * The relay's answer to our join: `size` members in the room counting us, and `peers`, others
   * in it: all of them when peers.length === size - 1, else a random sample (a large room).
   */
  onWelcome(peers: string[], size: number): void;
  onPeerJoined(peer: string): void;
  onPeerLeft(peer: string): void;
  onSignal(from: string, data: string): void;
  onStatus(status: RelayStatus): void;
  onError(code: SignalErrorCode, message: string): void;
  /** TURN servers minted for us by the relay (latest welcome); new links should use these. */
  onIceServers?(servers: IceServer[]): void;
}

/**
 * When to fetch fresh TURN credentials: at 80% of their lifetime (at least 30 s), by
 * joining again on the same socket; the relay answers a repeated join with a new welcome.
 */
export const iceRefreshMs = (ttlSeconds: number): number => Math.max(30, ttlSeconds * 0.8) * 1000;

export interface SignalDeps {
  url: string;
  topic: string;
  /** This browser's identity: the relay admits a signed join and derives our peer id from the public key. */
  identity: { publicKey: Uint8Array; sign(data: Uint8Array): Promise<Uint8Array> };
  /** Our peer id (peerIdFromPublicKey(identity.publicKey)): the relay's welcome must match it. */
  self: string;
  WebSocket: typeof WebSocket;
  random: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 8_000;

export interface SignalClient {
  sendSignal(to: string, data: string): void;
  /**
   * Replaces the relay socket now, without backoff: after a network change the old
   * socket may be dead without knowing it (no close until TCP times out, minutes later).
   */
  reconnect(): void;
  close(): void;
}

export function createSignalClient(deps: SignalDeps, h: SignalHandlers): SignalClient {
  let socket: WebSocket | null = null;
  let attempt = 0;
  let retry: unknown = null;
  let closed = false;
  let iceRefresh: unknown = null;
  let lastNonce: string | null = null;

  const send = (m: ClientMessage) => {
    if (socket?.readyState === deps.WebSocket.OPEN) socket.send(encodeMessage(m));
  };

  const cancelIceRefresh = () => {
    if (iceRefresh !== null) deps.clearTimeout(iceRefresh);
    iceRefresh = null;
  };

  /** Fresh credentials before these expire: a repeated join on this socket, signed again for its nonce. */
  const scheduleIceRefresh = (ws: WebSocket, ttlSeconds: number) => {
    cancelIceRefresh();
    iceRefresh = deps.setTimeout(() => {
      iceRefresh = null;
      if (socket === ws && lastNonce !== null) void answerChallenge(ws, lastNonce);
    }, iceRefreshMs(ttlSeconds));
  };

  /** Signs this socket's challenge; a socket replaced meanwhile gets nothing. */
  const answerChallenge = async (ws: WebSocket, nonce: string) => {
    let sig: Uint8Array;
    try {
      sig = await deps.identity.sign(utf8(joinChallengeText(nonce, deps.topic)));
    } catch (e) {
      return h.onError('sign-failed', `this browser's identity could not sign the relay's challenge: ${(e as Error).message}`);
    }
    if (socket !== ws) return;
    send({ type: 'join', topic: deps.topic, key: toBase64Url(deps.identity.publicKey), sig: toBase64Url(sig) });
  };

  /** Another tab of this browser took our place in the room: reconnecting would only take it back. */
  const stepAside = (message: string) => {
    closed = true;
    cancelIceRefresh();
    socket?.close();
    socket = null;
    h.onStatus('offline');
    h.onError('replaced', `This room is open in another tab of this browser, which now holds this connection (${message}).`);
  };

  const onMessage = (ws: WebSocket, ev: MessageEvent) => {
    if (socket !== ws) return; // a socket we already gave up on
    if (typeof ev.data !== 'string') return h.onError('bad-relay-message', 'the relay sent a binary frame');
    const parsed = parseRelayMessage(ev.data);
    if (!parsed.ok) return h.onError('bad-relay-message', parsed.error);
    const m = parsed.value;
    if ('topic' in m && m.topic !== deps.topic) return; // not our room: ignore
    switch (m.type) {
      case 'challenge':
        lastNonce = m.nonce;
        return void answerChallenge(ws, m.nonce);
      case 'welcome':
        if (m.self !== deps.self) return h.onError('bad-relay-message', 'the relay gave us an id that does not match our key');
        attempt = 0;
        if (m.iceServers && m.iceTtl !== undefined) {
          h.onIceServers?.(m.iceServers);
          scheduleIceRefresh(ws, m.iceTtl);
        }
        h.onStatus('online');
        return h.onWelcome(m.peers.filter((p) => p !== deps.self), m.size);
      case 'peer-joined':
        return h.onPeerJoined(m.peer);
      case 'peer-left':
        return h.onPeerLeft(m.peer);
      case 'signal':
        return h.onSignal(m.from, m.data);
      case 'error':
        if (m.code === 'replaced') return stepAside(m.message);
        return h.onError(m.code, m.message);
    }
  };

  const scheduleReconnect = () => {
    if (closed || retry !== null) return;
    // Full jitter: spreads a crowd of reconnecting clients over the window.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
    attempt++;
    retry = deps.setTimeout(() => {
      retry = null;
      connect();
    }, ceiling / 2 + (deps.random() * ceiling) / 2);
  };

  const connect = () => {
    h.onStatus('connecting');
    let ws: WebSocket;
    try {
      ws = new deps.WebSocket(deps.url);
    } catch (e) {
      h.onError('bad-relay-message', `cannot open ${deps.url}: ${(e as Error).message}`);
      h.onStatus('offline');
      return scheduleReconnect();
    }
    socket = ws;
    // The relay speaks first (its challenge): nothing to send on open.
    ws.onmessage = (ev) => onMessage(ws, ev);
    // An error event says nothing (browsers hide the reason) and is always followed by close, handled below.
    // Listening matters in Node, where `ws` throws an error nobody listens to (closing a socket still connecting).
    ws.onerror = () => undefined;
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      cancelIceRefresh();
      if (closed) return;
      h.onStatus('offline');
      scheduleReconnect();
    };
  };

  connect();
  return {
    sendSignal: (to, data) => send({ type: 'signal', topic: deps.topic, to, data }),
    reconnect() {
      if (closed) return;
      if (retry !== null) deps.clearTimeout(retry);
      retry = null;
      cancelIceRefresh();
      const old = socket;
      socket = null; // its close, whenever it comes, is no longer ours to handle
      old?.close();
      attempt = 0;
      connect();
    },
    close() {
      closed = true;
      if (retry !== null) deps.clearTimeout(retry);
      cancelIceRefresh();
      socket?.close();
      socket = null;
    },
  };
}
