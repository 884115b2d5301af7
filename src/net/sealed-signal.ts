import type { RoomKeys } from '../core/crypto/room-keys.ts';
import type { RelayConnector } from './mesh-transport.ts';

/**
 * Seals every signalling payload before it reaches the relay (or the mesh, while
 * the relay is away: see mesh-transport.ts) and opens every payload that comes
 * back by either, bound to (topic, sender, recipient, sequence number): the
 * relay stamps the sender, so a message it re-addresses or re-attributes fails
 * to open. What fails is dropped before simple-peer ever sees it.
 *
 * Replays: the relay (or anyone on its path) could otherwise send a recorded
 * offer again, later, and have it accepted. Each sealed message carries a
 * sequence number, in clear as `${seq}.${sealed}` and bound into the AEAD's
 * associated data, so changing it fails to open. The receiver drops a seq it
 * has taken before, anything older than FRESHNESS_MS by its own clock, and
 * anything more than REORDER_WINDOW_MS below the sender's highest: signals may
 * come by two paths (the relay, the mesh: a flood copy and a learned route) and
 * overtake each other, so an unseen seq a little below the highest is taken.
 * The sender's numbers are wall-clock based, max(now * 1000, last + 1), so they
 * keep growing across reloads (the peer id now survives a reload, and a
 * receiver may still remember its last number).
 *
 * Sealing is asynchronous, and an offer must not overtake its ICE candidates,
 * so each peer's messages go through their own promise chain, in order.
 */
/** How old a sealed signal may be, by the receiver's clock: generous, for clock skew. */
export const FRESHNESS_MS = 10 * 60 * 1000;
/** How far (by the sender's clock) a signal may arrive behind a later one of the same sender. */
export const REORDER_WINDOW_MS = 30_000;
/** Sequence numbers kept per sender inside the window; a dialling burst is a few dozen. */
export const MAX_WINDOW_SEQS = 256;
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

/**
 * Per sender: the sequence numbers accepted within REORDER_WINDOW_MS (of the
 * sender's clock) below its highest, and a floor under which nothing is taken.
 * Senders are forgotten once their numbers are stale anyway.
 */
interface SenderWindow {
  highest: number;
  floor: number;
  seen: Set<number>;
}

function replayGuard(now: () => number) {
  const senders = new Map<string, SenderWindow>();
  const staleBefore = () => (now() - FRESHNESS_MS) * SEQ_PER_MS;
  return {
    /** Why this (authentic) message must be dropped, or null if it is new. */
    check(from: string, seq: number): string | null {
      if (seq < staleBefore()) return 'it is older than 10 minutes (or the sender\'s clock is far behind)';
      const w = senders.get(from);
      if (w?.seen.has(seq)) return 'it was received before (a replay)';
      if (w && seq <= w.floor) return 'it is older than the ones received since (a replay, or held back too long)';
      return null;
    },
    accept(from: string, seq: number): void {
      const w = senders.get(from) ?? { highest: seq, floor: -1, seen: new Set<number>() };
      senders.set(from, w);
      w.seen.add(seq);
      w.highest = Math.max(w.highest, seq);
      w.floor = Math.max(w.floor, w.highest - REORDER_WINDOW_MS * SEQ_PER_MS);
      for (const s of w.seen) if (s <= w.floor) w.seen.delete(s);
      // Bounded: past the cap the oldest numbers go, and the floor rises to them.
      while (w.seen.size > MAX_WINDOW_SEQS) {
        const oldest = Math.min(...w.seen);
        w.seen.delete(oldest);
        w.floor = oldest;
      }
      if (senders.size > 64) {
        const stale = staleBefore();
        for (const [peer, s] of senders) if (s.highest < stale) senders.delete(peer);
      }
    },
  };
}

export function sealSignals(
  keys: RoomKeys,
  self: string,
  connect: RelayConnector,
  opts: SealOptions = {},
): RelayConnector {
  const now = opts.now ?? Date.now;
  let lastSeq = 0;
  const nextSeq = () => (lastSeq = Math.max(Math.floor(now() * SEQ_PER_MS), lastSeq + 1));
  return (handlers, mesh) => {
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
    }, mesh);
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
