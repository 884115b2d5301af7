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
 *   send backlog) is enforced by the relay (here and in rooms.ts), because it is the one
 *   shared, public component;
 * - load never gets an honest client closed: over a rate or a receiver's backlog,
 *   messages are dropped and counted; only malformed input and bad signatures count
 *   towards closing a socket;
 * - nothing a client sends can throw out of a handler and take the process down.
 *
 * This file wires sockets: upgrade, connection, message dispatch, heartbeat, shutdown.
 * Room membership and signal forwarding are in rooms.ts.
 *
 * Logs are one JSON object per event and carry counts and short hashes only: never a
 * topic in clear, a key, a peer id, signal data, a peer's address or an Origin header value.
 * Every `statsLogMs` a 'stats' line sums up traffic and refusals (see RelayStats).
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { addressKey, createAddressBook } from './address-book.ts';
import { originChecker, refuseUpgrade } from './admission.ts';
import { newNonce } from './join-auth.ts';
import { DEFAULT_LIMITS, tokenBucket, type RelayLimits } from './limits.ts';
import {
  STATS_LOG_MS, closed, defaultTimer, errorText, listen, logJson, rawText, whenListening, withTimeout,
  type Conn, type Counters, type Relay, type RelayOptions, type RelayStats,
} from './relay-support.ts';
import {
  MAX_FRAME_BYTES, RELAY_PATH, encodeMessage, parseClientMessage, type RelayErrorCode, type RelayMessage,
} from './protocol.ts';
import { localBus } from './room-bus.ts';
import { createRooms } from './rooms.ts';

export { STATS_LOG_MS, type Relay, type RelayOptions, type RelayStats } from './relay-support.ts';
export {
  DEFAULT_LIMITS, IDENTITY_WINDOW_MS, JOINS_PER_SECOND, JOIN_BURST, JOIN_TIMEOUT_MS, MAX_BAD_MESSAGES,
  MAX_BUFFERED_BYTES, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS, MAX_IDENTITIES_PER_ADDRESS, MAX_ROOMS,
  MAX_ROOMS_PER_CONNECTION, MESSAGES_PER_SECOND, MESSAGE_BURST, PAIR_SIGNALS_PER_SECOND, PAIR_SIGNAL_BURST,
  type RelayLimits,
} from './limits.ts';

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
  const stats = (): RelayStats => ({ connections: conns.size, rooms: rooms.count(), ...counters });
  const ownsServer = !opts.server;
  const server = opts.server ?? http.createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`WebSocket only, at ${RELAY_PATH}\n`);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const conns = new Set<Conn>();
  const addresses = createAddressBook(limits, now);
  const bus = opts.bus ?? localBus();

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

  function rateLimited(conn: Conn, message: string): void {
    counters.rateLimited += 1;
    fail(conn, 'rate-limited', message);
  }

  const rooms = createRooms({
    limits, counters, now, random: opts.random ?? Math.random, log, send, bad, rateLimited, mintIceServers: opts.mintIceServers, bus,
    admitIdentity: (address, id) => addresses.admitIdentity(address, id),
  });

  function onMessage(conn: Conn, data: RawData, isBinary: boolean): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return; // frames still arriving after we closed
    counters.messages += 1;
    // Every frame costs a token before any parsing, so floods stay cheap to reject.
    if (!conn.takeMessage()) return rateLimited(conn, 'too many messages; slow down');
    if (isBinary) return bad(conn, 'bad-message', 'binary frames are not accepted');
    const parsed = parseClientMessage(rawText(data));
    if (!parsed.ok) return bad(conn, parsed.code, parsed.error);
    const msg = parsed.value;
    if (msg.type === 'join') rooms.join(conn, msg.topic, msg.key, msg.sig);
    else if (msg.type === 'leave') rooms.leave(conn, msg.topic);
    else rooms.signal(conn, msg.topic, msg.to, msg.data);
  }

  function onClose(conn: Conn): void {
    if (!conns.delete(conn)) return;
    conn.cancelJoinTimer();
    addresses.disconnect(conn.address);
    for (const topic of [...conn.topics]) rooms.leave(conn, topic);
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
    await bus.close(); // after the sockets: their leaves go out before the bye
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
