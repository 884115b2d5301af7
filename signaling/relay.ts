/**
 * The signalling relay: introduces browsers that share a room topic, then forwards
 * opaque signalling strings (SDP, ICE) between them. Files never pass through it.
 *
 * Modelled on y-webrtc's bin/server.js, but typed and guarded:
 * - peer ids are derived from a per-client key (see protocol.ts) and the relay stamps
 *   `from` itself, so nobody can impersonate; a reconnecting client reclaims its id;
 * - every limit (room size, rooms per socket, sockets, message and join rates, send
 *   backlog) is enforced here, because the relay is the one shared, public component;
 * - nothing a client sends can throw out of a handler and take the process down.
 *
 * Logs are one JSON object per event and carry counts and short hashes only: never a
 * topic in clear, a key, signal data, a peer's address or an Origin header value.
 * Every `statsLogMs` a 'stats' line sums up traffic and refusals (see RelayStats).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { originChecker, refuseUpgrade } from './admission.ts';
import { DEFAULT_LIMITS, tokenBucket, type RelayLimits } from './limits.ts';
import {
  STATS_LOG_MS, closed, errorText, listen, logJson, rawText, whenListening, withTimeout,
  type Counters, type Relay, type RelayOptions, type RelayStats,
} from './relay-support.ts';
import {
  MAX_FRAME_BYTES, RELAY_PATH, encodeMessage, parseClientMessage, peerIdFromDigest,
  type RelayErrorCode, type RelayMessage,
} from './protocol.ts';

export { STATS_LOG_MS, type Relay, type RelayOptions, type RelayStats } from './relay-support.ts';
export {
  DEFAULT_LIMITS, JOINS_PER_SECOND, JOIN_BURST, MAX_BAD_MESSAGES, MAX_BUFFERED_BYTES, MAX_CONNECTIONS, MAX_ROOMS,
  MAX_ROOMS_PER_CONNECTION, MESSAGES_PER_SECOND, MESSAGE_BURST, type RelayLimits,
} from './limits.ts';

interface Conn {
  /** Derived from the key of the first join; null before it. */
  id: string | null;
  ws: WebSocket;
  topics: Set<string>;
  /** Cleared when we ping, set again by the pong. */
  alive: boolean;
  bad: number;
  takeMessage: () => boolean;
  takeJoin: () => boolean;
}

/** Logs may say which room is busy, never which topic it is: only a short hash of it. */
const topicTag = (topic: string): string => createHash('sha256').update(topic).digest('hex').slice(0, 8);

/** 16 base64url characters of SHA-256(key): only the key's holder can have this id. */
const peerIdForKey = (key: string): string => peerIdFromDigest(createHash('sha256').update(key, 'utf8').digest());

export function createRelay(opts: RelayOptions = {}): Relay {
  const limits: RelayLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const now = opts.now ?? Date.now;
  const log = opts.log ?? logJson;
  const originAllowed = originChecker(opts.allowedOrigins);
  const counters: Counters = {
    accepted: 0, messages: 0, badMessages: 0, rateLimited: 0,
    refusedOrigin: 0, refusedConnections: 0, refusedRooms: 0, refusedRoomFull: 0,
  };
  const stats = (): RelayStats => ({ connections: conns.size, rooms: rooms.size, ...counters });
  const ownsServer = !opts.server;
  const server = opts.server ?? http.createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`WebSocket only, at ${RELAY_PATH}\n`);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const conns = new Set<Conn>();
  const rooms = new Map<string, Map<string, Conn>>();

  /** Sends to one socket; one that stops reading is cut off rather than buffered for ever. */
  function send(ws: WebSocket, msg: RelayMessage | string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > limits.maxBufferedBytes) {
      log({ event: 'slow-consumer', buffered: ws.bufferedAmount });
      ws.terminate(); // 'close' follows asynchronously and does the room cleanup
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
   * The same client on a new socket (its old one not yet noticed dead): the old
   * socket leaves silently, so the room keeps its open peer links to this client.
   */
  function evictStale(id: string, by: Conn): void {
    for (const old of conns) {
      if (old === by || old.id !== id) continue;
      for (const topic of old.topics) {
        const room = rooms.get(topic);
        room?.delete(id);
        if (room?.size === 0) rooms.delete(topic);
      }
      old.topics.clear();
      conns.delete(old);
      old.ws.terminate();
      log({ event: 'replaced-stale-socket' });
    }
  }

  function join(conn: Conn, topic: string, key: string): void {
    const id = peerIdForKey(key);
    if (conn.id !== null && conn.id !== id) return bad(conn, 'bad-message', 'a connection keeps the key of its first join');
    if (!conn.takeJoin()) return rateLimited(conn, 'too many joins; slow down');
    if (conn.id === null) {
      evictStale(id, conn);
      conn.id = id;
    }
    let room = rooms.get(topic);
    const others = room ? [...room.keys()].filter((other) => other !== id) : [];
    // A repeated join (e.g. a client resyncing) is answered again but announced only once.
    if (!conn.topics.has(topic)) {
      if (conn.topics.size >= limits.maxRoomsPerConnection) {
        return fail(conn, 'too-many-rooms', `at most ${limits.maxRoomsPerConnection} rooms per connection`);
      }
      if (room && room.size >= limits.maxPeersPerRoom) {
        counters.refusedRoomFull += 1;
        return fail(conn, 'room-full', `room already has ${limits.maxPeersPerRoom} peers`);
      }
      if (!room && rooms.size >= limits.maxRooms) {
        counters.refusedRooms += 1;
        log({ event: 'server-full', rooms: rooms.size });
        return fail(conn, 'server-full', 'relay has too many rooms; try again later');
      }
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
    if (!conn.topics.delete(topic) || !room || conn.id === null) return;
    room.delete(conn.id);
    if (room.size === 0) rooms.delete(topic);
    for (const other of room.values()) send(other.ws, { type: 'peer-left', topic, peer: conn.id });
  }

  /** Forwards to exactly one peer, and only between two members of the same room. */
  function signal(conn: Conn, topic: string, to: string, data: string): void {
    const room = rooms.get(topic);
    if (!room || !conn.topics.has(topic) || conn.id === null) return fail(conn, 'not-in-room', 'join the topic before signalling in it');
    const target = room.get(to);
    if (!target) return fail(conn, 'unknown-peer', 'no such peer in this room');
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
    if (msg.type === 'join') join(conn, msg.topic, msg.key);
    else if (msg.type === 'leave') leave(conn, msg.topic);
    else signal(conn, msg.topic, msg.to, msg.data);
  }

  function onClose(conn: Conn): void {
    if (!conns.delete(conn)) return;
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

  function onConnection(ws: WebSocket): void {
    ws.on('error', (err) => {
      // ws reports frames it refused (oversized, bad UTF-8, bad opcode) as WS_ERR_* errors.
      if (String((err as { code?: unknown }).code).startsWith('WS_ERR_')) counters.badMessages += 1;
      log({ event: 'socket-error', error: errorText(err) });
    });
    if (conns.size >= limits.maxConnections) {
      counters.refusedConnections += 1;
      log({ event: 'server-full', connections: conns.size });
      send(ws, { type: 'error', code: 'server-full', message: 'relay is at capacity; try again later' });
      ws.close(1013, 'server full');
      return;
    }
    const conn: Conn = {
      id: null, ws, topics: new Set(), alive: true, bad: 0,
      takeMessage: tokenBucket(limits.messageBurst, limits.messagesPerSecond, now),
      takeJoin: tokenBucket(limits.joinBurst, limits.joinsPerSecond, now),
    };
    conns.add(conn);
    counters.accepted += 1;
    ws.on('message', guard(conn, (data: RawData, isBinary: boolean) => onMessage(conn, data, isBinary)));
    ws.on('pong', () => { conn.alive = true; });
    ws.on('close', guard(conn, () => onClose(conn)));
    log({ event: 'connect', connections: conns.size });
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
