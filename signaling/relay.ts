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
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import {
  MAX_FRAME_BYTES, MAX_PEERS_PER_ROOM, RELAY_PATH, encodeMessage, parseClientMessage, peerIdFromDigest,
  type RelayErrorCode, type RelayMessage,
} from './protocol.ts';

export const MAX_ROOMS_PER_CONNECTION = 4;
export const MAX_CONNECTIONS = 2000;
/** Malformed frames tolerated per socket before it is closed with 1008 (policy violation). */
export const MAX_BAD_MESSAGES = 20;
/** A socket with more than this queued for it is not reading: cut it off (slow consumer). */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Joining a full mesh signals every member (offer, answer, a few candidates each): allow a burst. */
export const MESSAGE_BURST = 300;
export const MESSAGES_PER_SECOND = 50;
export const JOIN_BURST = 8;
export const JOINS_PER_SECOND = 0.5;

export const DEFAULT_LIMITS = Object.freeze({
  /** Keep <= MAX_PEERS_PER_ROOM: clients reject a welcome listing more peers than that. */
  maxPeersPerRoom: MAX_PEERS_PER_ROOM,
  maxRoomsPerConnection: MAX_ROOMS_PER_CONNECTION,
  maxConnections: MAX_CONNECTIONS,
  maxBadMessages: MAX_BAD_MESSAGES,
  maxBufferedBytes: MAX_BUFFERED_BYTES,
  messageBurst: MESSAGE_BURST,
  messagesPerSecond: MESSAGES_PER_SECOND,
  joinBurst: JOIN_BURST,
  joinsPerSecond: JOINS_PER_SECOND,
});
export type RelayLimits = { [K in keyof typeof DEFAULT_LIMITS]: number };

export interface RelayOptions {
  /** Attach to this server (upgrades on RELAY_PATH only). Otherwise the relay listens itself. */
  server?: http.Server | https.Server;
  /** Only without `server`. Port 0 (the default) picks a free port; see address(). */
  port?: number;
  host?: string;
  heartbeatMs?: number;
  /** Clock for the rate limiters, in milliseconds. */
  now?: () => number;
  log?: (event: Record<string, unknown>) => void;
  limits?: Partial<RelayLimits>;
}

export interface RelayStats { connections: number; rooms: number }

export interface Relay {
  ready: Promise<void>;
  address(): { port: number; host: string };
  close(): Promise<void>;
  stats(): RelayStats;
}

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

/** Default logger: one JSON object per line on stdout. */
function logJson(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
}

/** Logs may say which room is busy, never which topic it is: only a short hash of it. */
const topicTag = (topic: string): string => createHash('sha256').update(topic).digest('hex').slice(0, 8);

/** 16 base64url characters of SHA-256(key): only the key's holder can have this id. */
const peerIdForKey = (key: string): string => peerIdFromDigest(createHash('sha256').update(key, 'utf8').digest());

/** Token bucket on an injectable clock: `burst` tokens, refilled at `perSecond`. */
function tokenBucket(burst: number, perSecond: number, now: () => number): () => boolean {
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

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err)).slice(0, 200);

export function createRelay(opts: RelayOptions = {}): Relay {
  const limits: RelayLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const now = opts.now ?? Date.now;
  const log = opts.log ?? logJson;
  const ownsServer = !opts.server;
  const server = opts.server ?? http.createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`WebSocket only, at ${RELAY_PATH}\n`);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const conns = new Set<Conn>();
  const rooms = new Map<string, Map<string, Conn>>();

  /** Sends to one socket; one that stops reading is cut off rather than buffered for ever. */
  function send(ws: WebSocket, msg: RelayMessage): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > limits.maxBufferedBytes) {
      log({ event: 'slow-consumer', buffered: ws.bufferedAmount });
      ws.terminate(); // 'close' follows asynchronously and does the room cleanup
      return;
    }
    ws.send(encodeMessage(msg));
  }

  const fail = (conn: Conn, code: RelayErrorCode, message: string): void =>
    send(conn.ws, { type: 'error', code, message });

  /** A malformed frame: tell the client why, and give up on clients that keep doing it. */
  function bad(conn: Conn, code: RelayErrorCode, message: string): void {
    fail(conn, code, message);
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
    if (!conn.takeJoin()) return fail(conn, 'rate-limited', 'too many joins; slow down');
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
        return fail(conn, 'room-full', `room already has ${limits.maxPeersPerRoom} peers`);
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
    send(target.ws, { type: 'signal', topic, from: conn.id, data });
  }

  function onMessage(conn: Conn, data: RawData, isBinary: boolean): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return; // frames still arriving after we closed
    // Every frame costs a token before any parsing, so floods stay cheap to reject.
    if (!conn.takeMessage()) return fail(conn, 'rate-limited', 'too many messages; slow down');
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
    ws.on('error', (err) => log({ event: 'socket-error', error: errorText(err) }));
    if (conns.size >= limits.maxConnections) {
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

  server.on('upgrade', onUpgrade);
  const ready = ownsServer ? listen(server, opts.port ?? 0, opts.host) : whenListening(server);

  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    clearInterval(heartbeat);
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
    stats: () => ({ connections: conns.size, rooms: rooms.size }),
  };
}

function listen(server: http.Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function whenListening(server: http.Server | https.Server): Promise<void> {
  return server.listening ? Promise.resolve() : new Promise((resolve) => server.once('listening', () => resolve()));
}

const closed = (ws: WebSocket): Promise<void> =>
  ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise((resolve) => ws.once('close', () => resolve()));

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}
