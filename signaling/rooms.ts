/**
 * Room membership for the relay: who may enter a room as which identity, the
 * welcome / peer-joined / peer-left fan-out, and forwarding a signal between two
 * members of one room. Sockets, heartbeats and upgrades stay in relay.ts, which
 * hands in how to reply (send, bad, rateLimited) and what to count.
 */
import { createHash } from 'node:crypto';
import type { WebSocket } from 'ws';
import { verifyJoin } from './join-auth.ts';
import { tokenBucket, type RelayLimits } from './limits.ts';
import { MAX_FRAME_BYTES, encodeMessage, type IceServer, type RelayErrorCode, type RelayMessage } from './protocol.ts';
import type { Conn, Counters } from './relay-support.ts';

export interface RoomDeps {
  limits: RelayLimits;
  /** Shared with the relay's stats; rooms add to the refusal and signature counters. */
  counters: Counters;
  /** Clock for the per-pair signal buckets, in milliseconds. */
  now: () => number;
  log: (event: Record<string, unknown>) => void;
  /** Sends to one socket; drops (and counts) when its backlog is full. */
  send: (ws: WebSocket, msg: RelayMessage | string) => void;
  /** A malformed frame or bad signature: replied to and counted towards closing the socket. */
  bad: (conn: Conn, code: RelayErrorCode, message: string) => void;
  /** Over a rate: replied to and counted, never closed. */
  rateLimited: (conn: Conn, message: string) => void;
  /** Whether `address` may bring in one more new identity (see address-book.ts). */
  admitIdentity: (address: string, id: string) => boolean;
  /** TURN credentials for this peer, added to each welcome (a repeated join gets fresh ones). */
  mintIceServers?: (peerId: string) => { iceServers: IceServer[]; iceTtl: number };
}

export interface Rooms {
  join(conn: Conn, topic: string, key: string, sig: string): void;
  /** Leaving a room one is not in is a no-op, so leave is idempotent. */
  leave(conn: Conn, topic: string): void;
  signal(conn: Conn, topic: string, to: string, data: string): void;
  /** Rooms with at least one member. */
  count(): number;
}

/** Logs may say which room is busy, never which topic it is: only a short hash of it. */
const topicTag = (topic: string): string => createHash('sha256').update(topic).digest('hex').slice(0, 8);

export function createRooms(deps: RoomDeps): Rooms {
  const { limits, counters, now, log, send, bad, rateLimited, admitIdentity } = deps;
  const rooms = new Map<string, Map<string, Conn>>();

  const fail = (conn: Conn, code: RelayErrorCode, message: string): void =>
    send(conn.ws, { type: 'error', code, message });

  /**
   * The same identity on a new socket in a room where an older socket of it sits: the
   * browser reconnected before its old socket was noticed dead, or another tab of it
   * opened the same room. The old one leaves that room silently (the room keeps its
   * peer links to this identity) and is told why; once in no room it is closed. Its
   * other rooms are untouched: one browser identity may be in two rooms from two tabs.
   */
  function evictStale(id: string, by: Conn, topic: string): void {
    const room = rooms.get(topic);
    const old = room?.get(id);
    if (!room || !old || old === by) return;
    room.delete(id);
    old.topics.delete(topic);
    fail(old, 'replaced', 'another connection of this identity joined this room');
    if (old.topics.size === 0) old.ws.close(4000, 'replaced');
    log({ event: 'replaced-stale-socket' });
  }

  /** Checks the signature and who may join as what; the identity once that holds. */
  function admit(conn: Conn, topic: string, key: string, sig: string): string | null {
    const check = verifyJoin(conn.nonce, topic, key, sig);
    if (!check.ok) {
      counters.badSignatures += 1;
      bad(conn, 'bad-signature', check.error);
      return null;
    }
    if (conn.id !== null) {
      if (conn.id === check.id) return check.id;
      bad(conn, 'bad-message', 'a connection keeps the identity of its first join');
      return null;
    }
    if (!admitIdentity(conn.address, check.id)) {
      counters.refusedIdentities += 1;
      log({ event: 'too-many-identities' });
      fail(conn, 'too-many-identities', `at most ${limits.maxIdentitiesPerAddress} new identities per address per hour`);
      return null;
    }
    conn.id = check.id;
    conn.cancelJoinTimer();
    return check.id;
  }

  /** Why a join may not enter `topic` (which it is not in yet), or null when it may. */
  function refuseEntry(conn: Conn, room: Map<string, Conn> | undefined): [RelayErrorCode, string] | null {
    if (conn.topics.size >= limits.maxRoomsPerConnection) {
      return ['too-many-rooms', `at most ${limits.maxRoomsPerConnection} rooms per connection`];
    }
    if (room && room.size >= limits.maxPeersPerRoom) {
      counters.refusedRoomFull += 1;
      return ['room-full', `room already has ${limits.maxPeersPerRoom} peers`];
    }
    if (!room && rooms.size >= limits.maxRooms) {
      counters.refusedRooms += 1;
      log({ event: 'server-full', rooms: rooms.size });
      return ['server-full', 'relay has too many rooms; try again later'];
    }
    return null;
  }

  /** Puts `conn` into `topic` as `id` and tells the others; false (and why) when refused. */
  function enter(conn: Conn, id: string, topic: string): boolean {
    let room = rooms.get(topic);
    const refusal = refuseEntry(conn, room);
    if (refusal) {
      fail(conn, ...refusal);
      return false;
    }
    if (!room) rooms.set(topic, (room = new Map()));
    room.set(id, conn);
    conn.topics.add(topic);
    for (const other of room.values()) {
      if (other !== conn) send(other.ws, { type: 'peer-joined', topic, peer: id });
    }
    log({ event: 'join', topic: topicTag(topic), size: room.size });
    return true;
  }

  function join(conn: Conn, topic: string, key: string, sig: string): void {
    // The join token first: it bounds the signature checks a socket can make us do.
    if (!conn.takeJoin()) return rateLimited(conn, 'too many joins; slow down');
    const id = admit(conn, topic, key, sig);
    if (id === null) return;
    evictStale(id, conn, topic);
    const room = rooms.get(topic);
    const others = room ? [...room.keys()].filter((other) => other !== id) : [];
    // A repeated join (e.g. a client resyncing) is answered again but announced only once.
    if (!conn.topics.has(topic) && !enter(conn, id, topic)) return;
    send(conn.ws, { type: 'welcome', topic, self: id, peers: others, ...deps.mintIceServers?.(id) });
  }

  function leave(conn: Conn, topic: string): void {
    const room = rooms.get(topic);
    if (!conn.topics.delete(topic) || !room || conn.id === null || room.get(conn.id) !== conn) return;
    room.delete(conn.id);
    if (room.size === 0) rooms.delete(topic);
    for (const other of room.values()) send(other.ws, { type: 'peer-left', topic, peer: conn.id });
  }

  /** One bucket per (sender, target); the map is capped at what one socket can reach. */
  function takePairSignal(conn: Conn, to: string): boolean {
    let take = conn.pairSignals.get(to);
    if (!take) {
      if (conn.pairSignals.size >= limits.maxPeersPerRoom * limits.maxRoomsPerConnection) {
        conn.pairSignals.delete(conn.pairSignals.keys().next().value!);
      }
      take = tokenBucket(limits.pairSignalBurst, limits.pairSignalsPerSecond, now);
      conn.pairSignals.set(to, take);
    }
    return take();
  }

  /** Forwards to exactly one peer, and only between two members of the same room. */
  function signal(conn: Conn, topic: string, to: string, data: string): void {
    const room = rooms.get(topic);
    if (!room || !conn.topics.has(topic) || conn.id === null) return fail(conn, 'not-in-room', 'join the topic before signalling in it');
    const target = room.get(to);
    if (!target) return fail(conn, 'unknown-peer', 'no such peer in this room');
    if (!takePairSignal(conn, to)) return rateLimited(conn, 'too many signals to this peer; slow down');
    // "from" is longer than "to" and escapes can differ: a frame that only just fitted
    // coming in may not fit going out, and the receiving client would refuse it.
    const text = encodeMessage({ type: 'signal', topic, from: conn.id, data });
    if (Buffer.byteLength(text) > MAX_FRAME_BYTES) return fail(conn, 'too-large', 'signal too large to forward');
    send(target.ws, text);
  }

  return { join, leave, signal, count: () => rooms.size };
}
