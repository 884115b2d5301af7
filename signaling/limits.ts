/**
 * The relay's limits against hostile or broken clients, and the token bucket that
 * enforces its rates. Re-exported by relay.ts, which is where callers import them.
 *
 * Worst case with the defaults: 2,000 sockets x 4 rooms = 8,000 rooms, so MAX_ROOMS
 * only bites when someone raises maxConnections; it bounds the room map directly
 * instead of relying on that product.
 */
import { MAX_PEERS_PER_ROOM } from './protocol.ts';

export const MAX_ROOMS_PER_CONNECTION = 4;
export const MAX_CONNECTIONS = 2000;
/** Rooms on the whole relay: a join that would open one more is refused with 'server-full'. */
export const MAX_ROOMS = 10_000;
/** Malformed frames tolerated per socket before it is closed with 1008 (policy violation). */
export const MAX_BAD_MESSAGES = 20;
/**
 * A socket with more than this queued for it is not reading: what is sent to it is dropped
 * and counted (droppedSlow), never a reason to close it: otherwise anyone could get a
 * victim kicked by flooding it. The heartbeat ends sockets that really stopped reading.
 */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Joining a full mesh signals every member (offer, answer, a few candidates each): allow a burst. */
export const MESSAGE_BURST = 300;
export const MESSAGES_PER_SECOND = 50;
export const JOIN_BURST = 8;
export const JOINS_PER_SECOND = 0.5;
/**
 * Sockets per address (IPv4, or an IPv6 /64). Many people behind one NAT share an
 * address: raise it for a relay serving a big office or school from outside.
 */
export const MAX_CONNECTIONS_PER_ADDRESS = 20;
/** A socket must join (sign the challenge) within this, or it is closed: idle sockets cost memory. */
export const JOIN_TIMEOUT_MS = 15_000;
/**
 * Distinct identities one address may join with per IDENTITY_WINDOW_MS. An identity
 * already seen from that address is free, so a browser reconnecting never hits it;
 * minting keys to get fresh ids does.
 */
export const MAX_IDENTITIES_PER_ADDRESS = 10;
export const IDENTITY_WINDOW_MS = 60 * 60 * 1000;
/**
 * Signals from one peer to one other peer: joining a mesh sends an offer or answer and
 * a dozen ICE candidates to each member, so allow a burst, then a trickle.
 */
export const PAIR_SIGNAL_BURST = 60;
export const PAIR_SIGNALS_PER_SECOND = 5;

export const DEFAULT_LIMITS = Object.freeze({
  /** Keep <= MAX_PEERS_PER_ROOM: a welcome's size is cut to that (clients refuse more), so a larger room would look smaller. */
  maxPeersPerRoom: MAX_PEERS_PER_ROOM,
  maxRoomsPerConnection: MAX_ROOMS_PER_CONNECTION,
  maxConnections: MAX_CONNECTIONS,
  maxRooms: MAX_ROOMS,
  maxBadMessages: MAX_BAD_MESSAGES,
  maxBufferedBytes: MAX_BUFFERED_BYTES,
  messageBurst: MESSAGE_BURST,
  messagesPerSecond: MESSAGES_PER_SECOND,
  joinBurst: JOIN_BURST,
  joinsPerSecond: JOINS_PER_SECOND,
  maxConnectionsPerAddress: MAX_CONNECTIONS_PER_ADDRESS,
  joinTimeoutMs: JOIN_TIMEOUT_MS,
  maxIdentitiesPerAddress: MAX_IDENTITIES_PER_ADDRESS,
  identityWindowMs: IDENTITY_WINDOW_MS,
  pairSignalBurst: PAIR_SIGNAL_BURST,
  pairSignalsPerSecond: PAIR_SIGNALS_PER_SECOND,
});
export type RelayLimits = { [K in keyof typeof DEFAULT_LIMITS]: number };

/** Token bucket on an injectable clock: `burst` tokens, refilled at `perSecond`. */
export function tokenBucket(burst: number, perSecond: number, now: () => number): () => boolean {
  let tokens = burst;
  let last = now();
  return () => {
    const t = now();
    tokens = Math.min(burst, tokens + (Math.max(0, t - last) / 1000) * perSecond);
    last = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}
