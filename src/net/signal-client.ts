import {
  encodeMessage, parseRelayMessage, type ClientMessage, type RelayErrorCode,
} from '../../signaling/protocol.ts';

/**
 * The relay connection: joins one room topic, relays opaque signalling
 * strings, and reconnects by itself with exponential backoff and jitter (so a
 * restarted relay is not hit by every client in the same millisecond). Open
 * peer links do not depend on it: they keep running through an outage.
 */
export type RelayStatus = 'connecting' | 'online' | 'offline';

export interface SignalHandlers {
  onWelcome(peers: string[]): void;
  onPeerJoined(peer: string): void;
  onPeerLeft(peer: string): void;
  onSignal(from: string, data: string): void;
  onStatus(status: RelayStatus): void;
  onError(code: RelayErrorCode | 'bad-relay-message' | 'unauthenticated', message: string): void;
}

export interface SignalDeps {
  url: string;
  topic: string;
  /** This page's secret relay key; the relay derives our peer id from it. */
  key: string;
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
  close(): void;
}

export function createSignalClient(deps: SignalDeps, h: SignalHandlers): SignalClient {
  let socket: WebSocket | null = null;
  let attempt = 0;
  let retry: unknown = null;
  let closed = false;

  const send = (m: ClientMessage) => {
    if (socket?.readyState === deps.WebSocket.OPEN) socket.send(encodeMessage(m));
  };

  const onMessage = (ev: MessageEvent) => {
    if (typeof ev.data !== 'string') return h.onError('bad-relay-message', 'the relay sent a binary frame');
    const parsed = parseRelayMessage(ev.data);
    if (!parsed.ok) return h.onError('bad-relay-message', parsed.error);
    const m = parsed.value;
    if ('topic' in m && m.topic !== deps.topic) return; // not our room: ignore
    switch (m.type) {
      case 'welcome':
        if (m.self !== deps.self) return h.onError('bad-relay-message', 'the relay gave us an id that does not match our key');
        attempt = 0;
        h.onStatus('online');
        return h.onWelcome(m.peers.filter((p) => p !== deps.self));
      case 'peer-joined':
        return h.onPeerJoined(m.peer);
      case 'peer-left':
        return h.onPeerLeft(m.peer);
      case 'signal':
        return h.onSignal(m.from, m.data);
      case 'error':
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
    ws.onopen = () => send({ type: 'join', topic: deps.topic, key: deps.key });
    ws.onmessage = onMessage;
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      if (closed) return;
      h.onStatus('offline');
      scheduleReconnect();
    };
  };

  connect();
  return {
    sendSignal: (to, data) => send({ type: 'signal', topic: deps.topic, to, data }),
    close() {
      closed = true;
      if (retry !== null) deps.clearTimeout(retry);
      socket?.close();
      socket = null;
    },
  };
}
