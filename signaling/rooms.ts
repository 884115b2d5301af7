/**
 * Room membership for the relay: who may enter a room as which identity, the
 * welcome / peer-joined / peer-left fan-out, and forwarding a signal between two
 * members of one room. Sockets, heartbeats and upgrades stay in relay.ts, which
 * hands in how to reply (send, bad, rateLimited) and what to count.
 *
 * A room may span relay instances: the bus (room-bus.ts) knows the members other
 * instances hold and carries joins, leaves and signals to them. Every check on what a
 * socket may do is made here, by the instance that holds the socket; other instances
 * only deliver. With localBus() there are no others and all of it is a no-op.
 */
import { createHash } from 'node:crypto';
import type { WebSocket } from 'ws';
import { verifyJoin } from './join-auth.ts';
import { tokenBucket, type RelayLimits } from './limits.ts';
import {
  MAX_FRAME_BYTES, MAX_PEERS_PER_ROOM, MAX_WELCOME_PEERS, encodeMessage, type IceServer, type RelayErrorCode, type RelayMessage,
} from './protocol.ts';
import type { Conn, Counters } from './relay-support.ts';
import type { RoomBus } from './room-bus.ts';

export interface RoomDeps {
  limits: RelayLimits;
  /** Shared with the relay's stats; rooms add to the refusal and signature counters. */
  counters: Counters;
  /** Clock for the per-pair signal buckets, in milliseconds. */
  now: () => number;
  /** Uniform in [0, 1): which members a welcome samples in a large room. */
  random: () => number;
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
  /** Members on other relay instances; attached here. */
  bus: RoomBus;
}

export interface Rooms {
  join(conn: Conn, topic: string, key: string, sig: string): void;
  /** Leaving a room one is not in is a no-op, so leave is idempotent. */
  leave(conn: Conn, topic: string): void;
  signal(conn: Conn, topic: string, to: string, data: string): void;
  /** Rooms with at least one member. */
  count(): number;
}

/**
 * The signal frame as the receiver gets it, or null if it would not fit: "from" is longer
 * than "to" and escapes can differ, so a frame that only just fitted coming in may not fit
 * going out, and the receiving client would refuse it.
 */
function stampedSignal(topic: string, from: string, data: string): string | null {
  const text = encodeMessage({ type: 'signal', topic, from, data });
  return Buffer.byteLength(text) > MAX_FRAME_BYTES ? null : text;
}

/**
 * Up to `k` of `items`, each subset of that size equally likely (the first k steps of a
 * Fisher-Yates shuffle). Random, not the longest-present or the first-listed: otherwise
 * every joiner would dial the same few members and the mesh would grow hubs and islands.
 */
export function randomSample<T>(items: readonly T[], k: number, random: () => number): T[] {
  const pool = [...items];
  const n = Math.min(k, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

/** Logs may say which room is busy, never which topic it is: only a short hash of it. */
const topicTag = (topic: string): string => createHash('sha256').update(topic).digest('hex').slice(0, 8);

export function createRooms(deps: RoomDeps): Rooms {
  const { limits, counters, now, log, send, bad, rateLimited, admitIdentity, bus } = deps;
  const rooms = new Map<string, Map<string, Conn>>();
  /** When each local member entered its room (`topic id`): the newer of two sockets of one identity wins. */
  const joinedAt = new Map<string, number>();

  const fail = (conn: Conn, code: RelayErrorCode, message: string): void =>
    send(conn.ws, { type: 'error', code, message });

  /**
   * The same identity on a new socket in a room where an older socket of it sits: the
   * browser reconnected before its old socket was noticed dead, or another tab of it
   * opened the same room. The old one leaves that room silently (the room keeps its
   * peer links to this identity) and is told why; once in no room it is closed. Its
   * other rooms are untouched: one browser identity may be in two rooms from two tabs.
   */
  function evictStale(id: string, by: Conn | null, topic: string): boolean {
    const room = rooms.get(topic);
    const old = room?.get(id);
    if (!room || !old || old === by) return false;
    room.delete(id);
    joinedAt.delete(`${topic} ${id}`);
    if (room.size === 0) rooms.delete(topic);
    old.topics.delete(topic);
    fail(old, 'replaced', 'another connection of this identity joined this room');
    if (old.topics.size === 0) old.ws.close(4000, 'replaced');
    log({ event: 'replaced-stale-socket' });
    return true;
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

  /** Everyone in `topic`, on this instance and others. */
  function members(topic: string): Set<string> {
    const all = new Set(rooms.get(topic)?.keys());
    for (const id of bus.remoteMembers(topic)) all.add(id);
    return all;
  }

  /**
   * Why a join may not enter `topic` (which it is not in yet), or null when it may.
   * Across instances the room cap can be overrun by simultaneous joins on different
   * instances (one each at most): the cap bounds work, it is not a security boundary.
   */
  function refuseEntry(conn: Conn, room: Map<string, Conn> | undefined, topic: string): [RelayErrorCode, string] | null {
    if (conn.topics.size >= limits.maxRoomsPerConnection) {
      return ['too-many-rooms', `at most ${limits.maxRoomsPerConnection} rooms per connection`];
    }
    const others = members(topic);
    others.delete(conn.id ?? ''); // its own stale socket on another instance is about to go
    if (others.size >= limits.maxPeersPerRoom) {
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
    const refusal = refuseEntry(conn, room, topic);
    if (refusal) {
      fail(conn, ...refusal);
      return false;
    }
    if (!room) rooms.set(topic, (room = new Map()));
    room.set(id, conn);
    conn.topics.add(topic);
    const at = now();
    joinedAt.set(`${topic} ${id}`, at);
    bus.joined(topic, id, at);
    // Every member hears of every join and leave, even in a bounded mesh: at the cap that is 255
    // frames of 123 bytes (31 KB) per join, and 256 x 255 / 2 = 32,640 frames to fill a room from
    // empty: small beside the signalling of the links themselves, and it keeps candidates fresh.
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
    const others = [...members(topic)].filter((other) => other !== id);
    // A repeated join (e.g. a client resyncing) is answered again but announced only once.
    if (!conn.topics.has(topic) && !enter(conn, id, topic)) return;
    const peers = randomSample(others, MAX_WELCOME_PEERS, deps.random);
    // Clients refuse a size above the cap: an overrun across instances (see refuseEntry) is cut. The
    // list is then a sample already (MAX_WELCOME_PEERS < MAX_PEERS_PER_ROOM), so nobody reads it as complete.
    const size = Math.min(others.length + 1, MAX_PEERS_PER_ROOM);
    send(conn.ws, { type: 'welcome', topic, self: id, peers, size, ...deps.mintIceServers?.(id) });
  }

  function leave(conn: Conn, topic: string): void {
    const room = rooms.get(topic);
    if (!conn.topics.delete(topic) || !room || conn.id === null || room.get(conn.id) !== conn) return;
    room.delete(conn.id);
    joinedAt.delete(`${topic} ${conn.id}`);
    if (room.size === 0) rooms.delete(topic);
    bus.left(topic, conn.id);
    // Still held elsewhere (it reconnected to another instance): it has not left the room.
    if ([...bus.remoteMembers(topic)].includes(conn.id)) return;
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
    if (!target && ![...bus.remoteMembers(topic)].includes(to)) return fail(conn, 'unknown-peer', 'no such peer in this room');
    if (!takePairSignal(conn, to)) return rateLimited(conn, 'too many signals to this peer; slow down');
    const text = stampedSignal(topic, conn.id, data);
    if (text === null) return fail(conn, 'too-large', 'signal too large to forward');
    if (target) send(target.ws, text);
    else bus.signal(topic, conn.id, to, data);
  }

  bus.attach({
    remoteJoined(topic, id, supersedes) {
      // The newest socket of an identity wins, wherever it is; this instance no longer holds it.
      const local = joinedAt.get(`${topic} ${id}`);
      if (local !== undefined && !supersedes(local)) return; // ours is newer: the other instance evicts its own
      if (evictStale(id, null, topic)) bus.left(topic, id);
      for (const other of rooms.get(topic)?.values() ?? []) send(other.ws, { type: 'peer-joined', topic, peer: id });
    },
    remoteLeft(topic, id) {
      const room = rooms.get(topic);
      if (!room || room.has(id)) return;
      for (const other of room.values()) send(other.ws, { type: 'peer-left', topic, peer: id });
    },
    deliver(topic, from, to, data) {
      const target = rooms.get(topic)?.get(to);
      const text = stampedSignal(topic, from, data);
      // Gone since the sender's instance last heard of it: dropped, as a signal to a socket closing here is.
      if (target && text !== null) send(target.ws, text);
    },
    snapshot: () => [...rooms].flatMap(([topic, room]) => [...room.keys()].map((id): [string, string] => [topic, id])),
  });

  return { join, leave, signal, count: () => rooms.size };
}
