import type { SignalClient, SignalHandlers } from '../../../../src/net/signal-client.ts';
import { BACKOFF_MAX_MS, BACKOFF_MIN_MS } from '../../../../src/net/signal-client.ts';
import type { SimClock } from './clock.ts';

/**
 * An in-memory signalling relay with one room, in virtual time, plus the
 * client side the engine gets from connectRelay (what signal-client.ts does
 * over a WebSocket): welcome on join, peer-joined / peer-left to the others,
 * signals forwarded to one peer, reconnect with jittered exponential backoff.
 * An outage drops every socket without a single peer-left (the relay process
 * died); once it is back, clients rejoin and get a fresh welcome.
 */
export interface SimRelay {
  /** The engine's connectRelay for peer `self`. */
  connect(self: string, h: SignalHandlers): SignalClient;
  down(): void;
  up(): void;
  readonly isUp: boolean;
  /** Peers whose socket is in the room right now. */
  inRoom(): string[];
}

/** One-way relay message delay. */
export const RELAY_DELAY_MS = 15;
/** Time to open a WebSocket and join. */
export const CONNECT_MS = 30;

interface Client {
  self: string;
  h: SignalHandlers;
  /** Bumped whenever the socket drops: messages for an older socket are lost. */
  socket: number;
  joined: boolean;
  closed: boolean;
  attempt: number;
  cancelRetry: (() => void) | null;
}

export function createRelay(clock: SimClock, random: () => number): SimRelay {
  const room = new Map<string, Client>();
  let isUp = true;

  /** Relay -> client: delivered after the delay unless that socket died meanwhile. */
  const deliver = (c: Client, fn: () => void) => {
    const socket = c.socket;
    clock.setTimeout(() => {
      if (c.socket === socket && !c.closed) fn();
    }, RELAY_DELAY_MS);
  };

  const join = (c: Client) => {
    const others = [...room.keys()].filter((p) => p !== c.self);
    const stale = room.get(c.self);
    if (stale && stale !== c) drop(stale, false);
    room.set(c.self, c);
    c.joined = true;
    for (const other of room.values()) if (other !== c) deliver(other, () => other.h.onPeerJoined(c.self));
    deliver(c, () => {
      c.attempt = 0;
      c.h.onStatus('online');
      c.h.onWelcome(others, others.length + 1);
    });
  };

  const leave = (c: Client) => {
    if (room.get(c.self) !== c) return;
    room.delete(c.self);
    c.joined = false;
    for (const other of room.values()) deliver(other, () => other.h.onPeerLeft(c.self));
  };

  /** The socket closed under the client: it says offline and retries, as signal-client does. */
  const drop = (c: Client, reconnect: boolean) => {
    c.socket++;
    c.joined = false;
    if (c.closed) return;
    c.h.onStatus('offline');
    if (reconnect) scheduleReconnect(c);
  };

  const scheduleReconnect = (c: Client) => {
    if (c.closed || c.cancelRetry) return;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** c.attempt);
    c.attempt++;
    c.cancelRetry = clock.setTimeout(() => {
      c.cancelRetry = null;
      open(c);
    }, ceiling / 2 + (random() * ceiling) / 2);
  };

  const open = (c: Client) => {
    c.h.onStatus('connecting');
    const socket = c.socket;
    clock.setTimeout(() => {
      if (c.closed || c.socket !== socket) return;
      if (isUp) return join(c);
      drop(c, true); // the relay is not there: the connection attempt fails
    }, CONNECT_MS);
  };

  const signal = (from: Client, to: string, data: string) => {
    if (!from.joined || !isUp) return; // signal-client sends only on an open socket
    const socket = from.socket;
    clock.setTimeout(() => {
      if (!isUp || from.socket !== socket) return;
      const target = room.get(to);
      if (!target) return deliver(from, () => from.h.onError('unknown-peer', 'no such peer in this room'));
      deliver(target, () => target.h.onSignal(from.self, data));
    }, RELAY_DELAY_MS);
  };

  return {
    connect(self, h) {
      const c: Client = { self, h, socket: 0, joined: false, closed: false, attempt: 0, cancelRetry: null };
      open(c);
      return {
        sendSignal: (to, data) => signal(c, to, data),
        reconnect() {
          // A new socket at once, as signal-client does; the relay swaps it in for the old one.
          if (c.closed) return;
          c.cancelRetry?.();
          c.cancelRetry = null;
          c.socket++;
          c.joined = false;
          c.attempt = 0;
          open(c);
        },
        close() {
          if (c.closed) return;
          if (isUp) leave(c);
          c.closed = true;
          c.socket++;
          c.cancelRetry?.();
          c.cancelRetry = null;
        },
      };
    },
    down() {
      if (!isUp) return;
      isUp = false;
      const clients = [...room.values()];
      room.clear();
      for (const c of clients) drop(c, true);
    },
    up() {
      isUp = true;
    },
    get isUp() {
      return isUp;
    },
    inRoom: () => [...room.keys()],
  };
}
