/**
 * The signalling relay: introduces browsers that share a room topic, then forwards
 * opaque signalling strings (SDP, ICE) between them. Files never pass through it.
 *
 * Modelled on y-webrtc's bin/server.js, but typed and guarded:
 * - a socket is admitted to rooms only by signing its challenge with an Ed25519 key
 *   (join-auth.ts); the peer id is the key's hash and the relay stamps `from` itself,
 *   so nobody can impersonate; a reconnecting browser reclaims its id;
 * - every limit (room size, rooms per socket, sockets overall and per address, new
 *   identities per address, join deadline, message, join and per-pair signal rates,
 *   send backlog) is enforced here, because the relay is the one shared, public component;
 * - load never gets an honest client closed: over a rate or a receiver's backlog,
 *   messages are dropped and counted; only malformed input and bad signatures count
 *   towards closing a socket;
 * - nothing a client sends can throw out of a handler and take the process down.
 *
 * Logs are one JSON object per event and carry counts and short hashes only: never a
 * topic in clear, a key, a peer id, signal data, a peer's address or an Origin header value.
 * Every `statsLogMs` a 'stats' line sums up traffic and refusals (see RelayStats).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { addressKey, createAddressBook } from './address-book.ts';
import { originChecker, refuseUpgrade } from './admission.ts';
import { newNonce, verifyJoin } from './join-auth.ts';
import { DEFAULT_LIMITS, tokenBucket, type RelayLimits } from './limits.ts';
import {
  STATS_LOG_MS, closed, defaultTimer, errorText, listen, logJson, rawText, whenListening, withTimeout,
  type Counters, type Relay, type RelayOptions, type RelayStats,
} from './relay-support.ts';
import {
  MAX_FRAME_BYTES, RELAY_PATH, encodeMessage, parseClientMessage, type RelayErrorCode, type RelayMessage,
} from './protocol.ts';

export { STATS_LOG_MS, type Relay, type RelayOptions, type RelayStats } from './relay-support.ts';
export {
  DEFAULT_LIMITS, IDENTITY_WINDOW_MS, JOINS_PER_SECOND, JOIN_BURST, JOIN_TIMEOUT_MS, MAX_BAD_MESSAGES,
  MAX_BUFFERED_BYTES, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS, MAX_IDENTITIES_PER_ADDRESS, MAX_ROOMS,
  MAX_ROOMS_PER_CONNECTION, MESSAGES_PER_SECOND, MESSAGE_BURST, PAIR_SIGNALS_PER_SECOND, PAIR_SIGNAL_BURST,
  type RelayLimits,
} from './limits.ts';

interface Conn {
  /** Derived from the public key of the first join; null before it. */
  id: string | null;
  ws: WebSocket;
  /** This socket's challenge: every join on it must sign it. */
  nonce: string;
  /** For the per-address caps only; never logged. */
  address: string;
  topics: Set<string>;
  /** Cleared when we ping, set again by the pong. */
  alive: boolean;
  bad: number;
  takeMessage: () => boolean;
  takeJoin: () => boolean;
  /** Token buckets per target peer id, oldest first (bounded: see takePairSignal). */
  pairSignals: Map<string, () => boolean>;
  cancelJoinTimer: () => void;
}

/** Logs may say which room is busy, never which topic it is: only a short hash of it. */
const topicTag = (topic: string): string => createHash('sha256').update(topic).digest('hex').slice(0, 8);

export function createRelay(opts: RelayOptions = {}): Relay {
  const limits: RelayLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const now = opts.now ?? Date.now;
  const setTimer = opts.setTimer ?? defaultTimer;
  const log = opts.log ?? logJson;
  const originAllowed = originChecker(opts.allowedOrigins);
  const counters: Counters = {
    accepted: 0, messages: 0, badMessages: 0, rateLimited: 0,
    refusedOrigin: 0, refusedConnections: 0, refusedRooms: 0, refusedRoomFull: 0,
    refusedAddress: 0, refusedIdentities: 0, badSignatures: 0, joinTimeouts: 0, droppedSlow: 0,
  };
  const stats = (): RelayStats => ({ connections: conns.size, rooms: rooms.size, ...counters });
  const ownsServer = !opts.server;
  const server = opts.server ?? http.createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`WebSocket only, at ${RELAY_PATH}\n`);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const conns = new Set<Conn>();
  const rooms = new Map<string, Map<string, Conn>>();
  const addresses = createAddressBook(limits, now);

  /**
   * Sends to one socket. One that is not reading gets nothing more until it catches up:
   * dropped and counted, never closed, or anyone could get a victim kicked by flooding it.
   */
  function send(ws: WebSocket, msg: RelayMessage | string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > limits.maxBufferedBytes) {
      counters.droppedSlow += 1;
      return;
    }
    ws.send(typeof msg === 'string' ? msg : encodeMessage(msg));
  }

  const fail = (conn: Conn, code: RelayErrorCode, message: string): void =>
    send(conn.ws, { type: 'error', code, message });

  /** A malformed frame: tell the client why, and give up on clients that keep doing it. */
  function bad(conn: Conn, code: RelayErrorCode, message: string): void {
    fail(conn, code, message);
    counters.badMessages += 1;
    conn.bad += 1;
    if (conn.bad >= limits.maxBadMessages) {
      log({ event: 'too-many-bad-messages', count: conn.bad });
      conn.ws.close(1008, 'too many bad messages');
    }
  }

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
    if (!addresses.admitIdentity(conn.address, check.id)) {
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

  function join(conn: Conn, topic: string, key: string, sig: string): void {
    // The join token first: it bounds the signature checks a socket can make us do.
    if (!conn.takeJoin()) return rateLimited(conn, 'too many joins; slow down');
    const id = admit(conn, topic, key, sig);
    if (id === null) return;
    evictStale(id, conn, topic);
    let room = rooms.get(topic);
    const others = room ? [...room.keys()].filter((other) => other !== id) : [];
    // A repeated join (e.g. a client resyncing) is answered again but announced only once.
    if (!conn.topics.has(topic)) {
      const refusal = refuseEntry(conn, room);
      if (refusal) return fail(conn, ...refusal);
      if (!room) rooms.set(topic, (room = new Map()));
      room.set(id, conn);
      conn.topics.add(topic);
      for (const other of room.values()) {
        if (other !== conn) send(other.ws, { type: 'peer-joined', topic, peer: id });
      }
      log({ event: 'join', topic: topicTag(topic), size: room.size });
    }
    send(conn.ws, { type: 'welcome', topic, self: id, peers: others });
  }

  /** Leaving a room one is not in is a no-op, so leave is idempotent. */
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

  function rateLimited(conn: Conn, message: string): void {
    counters.rateLimited += 1;
    fail(conn, 'rate-limited', message);
  }

  function onMessage(conn: Conn, data: RawData, isBinary: boolean): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return; // frames still arriving after we closed
    counters.messages += 1;
    // Every frame costs a token before any parsing, so floods stay cheap to reject.
    if (!conn.takeMessage()) return rateLimited(conn, 'too many messages; slow down');
    if (isBinary) return bad(conn, 'bad-message', 'binary frames are not accepted');
    const parsed = parseClientMessage(rawText(data));
    if (!parsed.ok) return bad(conn, parsed.code, parsed.error);
    const msg = parsed.value;
    if (msg.type === 'join') join(conn, msg.topic, msg.key, msg.sig);
    else if (msg.type === 'leave') leave(conn, msg.topic);
    else signal(conn, msg.topic, msg.to, msg.data);
  }

  function onClose(conn: Conn): void {
    if (!conns.delete(conn)) return;
    conn.cancelJoinTimer();
    addresses.disconnect(conn.address);
    for (const topic of [...conn.topics]) leave(conn, topic);
    log({ event: 'disconnect', connections: conns.size });
  }

  /** A bug of ours must cost one connection at most, never the process. */
  function guard<A extends unknown[]>(conn: Conn, fn: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      try {
        fn(...args);
      } catch (err) {
        log({ event: 'handler-error', error: errorText(err) });
        try { conn.ws.close(1011, 'internal error'); } catch { conn.ws.terminate(); }
        onClose(conn);
      }
    };
  }

  /** Refuses a socket before it is counted: the reason, then a close. */
  function refuse(ws: WebSocket, code: RelayErrorCode, message: string): void {
    send(ws, { type: 'error', code, message });
    ws.close(1013, code);
  }

  function onConnection(ws: WebSocket, req: http.IncomingMessage): void {
    ws.on('error', (err) => {
      // ws reports frames it refused (oversized, bad UTF-8, bad opcode) as WS_ERR_* errors.
      if (String((err as { code?: unknown }).code).startsWith('WS_ERR_')) counters.badMessages += 1;
      log({ event: 'socket-error', error: errorText(err) });
    });
    if (conns.size >= limits.maxConnections) {
      counters.refusedConnections += 1;
      log({ event: 'server-full', connections: conns.size });
      return refuse(ws, 'server-full', 'relay is at capacity; try again later');
    }
    const address = addressKey(req.socket.remoteAddress);
    if (!addresses.connect(address)) {
      counters.refusedAddress += 1;
      log({ event: 'too-many-connections' });
      return refuse(ws, 'too-many-connections', `at most ${limits.maxConnectionsPerAddress} connections per address`);
    }
    const conn: Conn = {
      id: null, ws, nonce: newNonce(), address, topics: new Set(), alive: true, bad: 0,
      takeMessage: tokenBucket(limits.messageBurst, limits.messagesPerSecond, now),
      takeJoin: tokenBucket(limits.joinBurst, limits.joinsPerSecond, now),
      pairSignals: new Map(),
      cancelJoinTimer: () => undefined,
    };
    conns.add(conn);
    counters.accepted += 1;
    ws.on('message', guard(conn, (data: RawData, isBinary: boolean) => onMessage(conn, data, isBinary)));
    ws.on('pong', () => { conn.alive = true; });
    ws.on('close', guard(conn, () => onClose(conn)));
    conn.cancelJoinTimer = setTimer(guard(conn, () => joinTimedOut(conn)), limits.joinTimeoutMs);
    send(ws, { type: 'challenge', nonce: conn.nonce });
    log({ event: 'connect', connections: conns.size });
  }

  function joinTimedOut(conn: Conn): void {
    if (conn.id !== null || !conns.has(conn)) return;
    counters.joinTimeouts += 1;
    fail(conn, 'join-timeout', `no signed join within ${limits.joinTimeoutMs} ms`);
    conn.ws.close(1008, 'join timeout');
  }

  function onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if ((req.url ?? '').split('?')[0] !== RELAY_PATH) {
      // On a shared server (e.g. next to Vite's HMR socket) another listener may own this path.
      if (server.listenerCount('upgrade') > 1) return;
      socket.destroy();
      return;
    }
    if (!originAllowed(req.headers.origin)) {
      counters.refusedOrigin += 1;
      log({ event: 'origin-refused' }); // not the header: any page can put anything there
      refuseUpgrade(socket, 403, 'origin not allowed');
      return;
    }
    try {
      wss.handleUpgrade(req, socket, head, onConnection);
    } catch (err) {
      log({ event: 'upgrade-error', error: errorText(err) });
      socket.destroy();
    }
  }

  // Heartbeat: a socket that missed the previous ping is gone (sleeping phone, dead NAT).
  const heartbeat = setInterval(() => {
    addresses.sweep();
    for (const conn of conns) {
      try {
        if (!conn.alive) {
          log({ event: 'heartbeat-timeout' });
          conn.ws.terminate();
          continue;
        }
        conn.alive = false;
        conn.ws.ping();
      } catch (err) {
        log({ event: 'heartbeat-error', error: errorText(err) });
      }
    }
  }, opts.heartbeatMs ?? 30_000);
  heartbeat.unref();

  const statsLogMs = opts.statsLogMs ?? STATS_LOG_MS;
  const statsTimer = statsLogMs > 0 ? setInterval(() => log({ event: 'stats', ...stats() }), statsLogMs) : undefined;
  statsTimer?.unref();

  server.on('upgrade', onUpgrade);
  const ready = ownsServer ? listen(server, opts.port ?? 0, opts.host) : whenListening(server);

  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    clearInterval(heartbeat);
    clearInterval(statsTimer);
    server.off('upgrade', onUpgrade);
    // 1001 "going away" tells browsers to reconnect; give them a moment, then cut.
    const sockets = [...wss.clients];
    for (const ws of sockets) ws.close(1001, 'relay shutting down');
    await withTimeout(Promise.all(sockets.map(closed)), 1000);
    for (const ws of sockets) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    if (ownsServer && server.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  return {
    ready,
    address() {
      const a = server.address();
      if (!a || typeof a === 'string') throw new Error('relay is not listening');
      return { port: a.port, host: a.address };
    },
    close: () => (closing ??= shutdown()),
    stats,
  };
}
