import type { RoomKeys } from '../core/crypto/room-keys.ts';
import type { SignalClient, SignalHandlers } from './signal-client.ts';

/**
 * Seals every signalling payload before it reaches the relay and opens every
 * payload that comes back, bound to (topic, sender, recipient, sequence number):
 * the relay stamps the sender, so a message it re-addresses or re-attributes
 * fails to open. What fails is dropped before simple-peer ever sees it.
 *
 * Replays: the relay (or anyone on its path) could otherwise send a recorded
 * offer again, later, and have it accepted. Each sealed message carries a
 * sequence number, in clear as `${seq}.${sealed}` and bound into the AEAD's
 * associated data, so changing it fails to open. The receiver keeps the highest
 * seq per sender and drops anything not above it, and anything older than
 * FRESHNESS_MS by its own clock. The sender's numbers are wall-clock based,
 * max(now * 1000, last + 1), so they keep growing across reloads (the peer id
 * now survives a reload, and a receiver may still remember its last number).
 *
 * Sealing is asynchronous, and an offer must not overtake its ICE candidates,
 * so each peer's messages go through their own promise chain, in order.
 */
/** How old a sealed signal may be, by the receiver's clock: generous, for clock skew. */
export const FRESHNESS_MS = 10 * 60 * 1000;
/** Sequence numbers count microseconds of wall-clock time (the sender's). */
const SEQ_PER_MS = 1000;
const SEQ_RE = /^[0-9]{1,16}$/;

export interface SealOptions {
  /** Wall-clock time in ms (Date.now): sequence numbers must survive a reload, so not a monotonic page clock. */
  now?: () => number;
}

/** `${seq}.${sealed}` split, or null when the clear part is not a sequence number. */
function splitSeq(wire: string): { seq: number; sealed: string } | null {
  const dot = wire.indexOf('.');
  const text = wire.slice(0, dot);
  if (dot < 0 || !SEQ_RE.test(text)) return null;
  const seq = Number(text);
  return Number.isSafeInteger(seq) ? { seq, sealed: wire.slice(dot + 1) } : null;
}

/** The highest sequence number seen per sender; forgets senders once their number is stale anyway. */
function replayGuard(now: () => number) {
  const highest = new Map<string, number>();
  const staleBefore = () => (now() - FRESHNESS_MS) * SEQ_PER_MS;
  return {
    /** Why this (authentic) message must be dropped, or null if it is new. */
    check(from: string, seq: number): string | null {
      if (seq < staleBefore()) return 'it is older than 10 minutes (or the sender\'s clock is far behind)';
      const last = highest.get(from);
      if (last !== undefined && seq <= last) return 'it was received before (a replay) or arrived out of order';
      return null;
    },
    accept(from: string, seq: number): void {
      highest.set(from, seq);
      if (highest.size > 64) {
        const stale = staleBefore();
        for (const [peer, last] of highest) if (last < stale) highest.delete(peer);
      }
    },
  };
}

export function sealSignals(
  keys: RoomKeys,
  self: string,
  connect: (h: SignalHandlers) => SignalClient,
  opts: SealOptions = {},
): (h: SignalHandlers) => SignalClient {
  const now = opts.now ?? Date.now;
  let lastSeq = 0;
  const nextSeq = () => (lastSeq = Math.max(Math.floor(now() * SEQ_PER_MS), lastSeq + 1));
  return (handlers) => {
    const inbound = new Map<string, Promise<void>>();
    const outbound = new Map<string, Promise<void>>();
    const replays = replayGuard(now);
    const context = (from: string, to: string, seq: number) => `${keys.topic}|${from}|${to}|${seq}`;
    const inOrder = (chains: Map<string, Promise<void>>, peer: string, step: () => Promise<void>) => {
      const next = (chains.get(peer) ?? Promise.resolve()).then(step);
      chains.set(peer, next);
      void next.finally(() => chains.get(peer) === next && chains.delete(peer));
    };
    const unauthenticated = () =>
      handlers.onError('unauthenticated', 'Ignored a connection attempt that did not carry this room\'s key.');

    const client = connect({
      ...handlers,
      onSignal(from, wire) {
        inOrder(inbound, from, async () => {
          const parts = splitSeq(wire);
          if (!parts) return unauthenticated();
          const data = await keys.open(context(from, self, parts.seq), parts.sealed);
          if (data === null) return unauthenticated();
          const replayed = replays.check(from, parts.seq);
          if (replayed) return handlers.onError('replayed', `Ignored a signalling message from a peer because ${replayed}.`);
          replays.accept(from, parts.seq);
          handlers.onSignal(from, data);
        });
      },
      onPeerLeft(peer) {
        // The replay guard keeps its number for this peer: the relay could fake a leave to reset it.
        inbound.delete(peer);
        outbound.delete(peer);
        handlers.onPeerLeft(peer);
      },
    });
    return {
      sendSignal(to, data) {
        inOrder(outbound, to, async () => {
          const seq = nextSeq();
          client.sendSignal(to, `${seq}.${await keys.seal(context(self, to, seq), data)}`);
        });
      },
      reconnect: () => client.reconnect(),
      close: () => client.close(),
    };
  };
}
