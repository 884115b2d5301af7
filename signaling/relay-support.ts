/**
 * What the relay exposes (options, stats, handle), the per-socket state it keeps,
 * and the plain socket and server helpers it uses; the room logic itself is in rooms.ts.
 */
import type http from 'node:http';
import type https from 'node:https';
import { WebSocket, type RawData } from 'ws';
import type { RelayLimits } from './limits.ts';
import type { IceServer } from './protocol.ts';
import type { RoomBus } from './room-bus.ts';

/** How often the relay logs a 'stats' line by default. */
export const STATS_LOG_MS = 60_000;

export interface RelayOptions {
  /** Attach to this server (upgrades on RELAY_PATH only). Otherwise the relay listens itself. */
  server?: http.Server | https.Server;
  /** Only without `server`. Port 0 (the default) picks a free port; see address(). */
  port?: number;
  host?: string;
  heartbeatMs?: number;
  /** Clock for the rate limiters and the identity window, in milliseconds. */
  now?: () => number;
  /** Uniform in [0, 1) (default Math.random): which members a welcome lists in a large room. */
  random?: () => number;
  /** Schedules the join timeout; returns a cancel function. Tests inject one to fire it at will. */
  setTimer?: (fn: () => void, ms: number) => () => void;
  log?: (event: Record<string, unknown>) => void;
  /** Interval of the 'stats' log line (default STATS_LOG_MS); 0 turns it off. */
  statsLogMs?: number;
  limits?: Partial<RelayLimits>;
  /**
   * Origins (e.g. 'https://drop.example.org') whose pages may open a socket; others get
   * HTTP 403 before the upgrade. Unset: every origin may (see admission.ts for why).
   */
  allowedOrigins?: readonly string[];
  /**
   * TURN servers with credentials minted for one peer (ice.ts), sent in every welcome to it.
   * Its results are never logged.
   */
  mintIceServers?: (peerId: string) => { iceServers: IceServer[]; iceTtl: number };
  /**
   * Other relay instances sharing the rooms (room-bus.ts); default localBus(), a relay
   * alone. The relay owns it from here: close() closes it.
   */
  bus?: RoomBus;
}

/** `connections` and `rooms` are current; the rest count events since the relay started. */
export interface RelayStats {
  connections: number;
  rooms: number;
  /** Sockets accepted. */
  accepted: number;
  /** Frames received, good or bad. */
  messages: number;
  /** Frames refused as malformed: bad JSON or fields, binary, oversized or invalid frames. */
  badMessages: number;
  /** Frames and joins dropped by the rate limits. */
  rateLimited: number;
  /** Upgrades refused by the origin allow-list (HTTP 403). */
  refusedOrigin: number;
  /** Sockets refused at maxConnections ('server-full'). */
  refusedConnections: number;
  /** Joins refused because they would open a room beyond maxRooms ('server-full'). */
  refusedRooms: number;
  /** Joins refused because the room had maxPeersPerRoom peers ('room-full'). */
  refusedRoomFull: number;
  /** Sockets refused at maxConnectionsPerAddress ('too-many-connections'). */
  refusedAddress: number;
  /** First joins refused at maxIdentitiesPerAddress ('too-many-identities'). */
  refusedIdentities: number;
  /** Joins whose signature did not verify ('bad-signature'; also counted in badMessages). */
  badSignatures: number;
  /** Sockets closed for not joining within joinTimeoutMs. */
  joinTimeouts: number;
  /** Messages not sent because the receiver had more than maxBufferedBytes queued. */
  droppedSlow: number;
}
export type Counters = Omit<RelayStats, 'connections' | 'rooms'>;

/** One accepted socket, as relay.ts and rooms.ts see it. */
export interface Conn {
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
  /** Token buckets per target peer id, oldest first (bounded: see takePairSignal in rooms.ts). */
  pairSignals: Map<string, () => boolean>;
  cancelJoinTimer: () => void;
}

export interface Relay {
  ready: Promise<void>;
  address(): { port: number; host: string };
  close(): Promise<void>;
  stats(): RelayStats;
}

/** Default logger: one JSON object per line on stdout. */
export function logJson(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
}

export function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}

export function defaultTimer(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err)).slice(0, 200);

export function listen(server: http.Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function whenListening(server: http.Server | https.Server): Promise<void> {
  return server.listening ? Promise.resolve() : new Promise((resolve) => server.once('listening', () => resolve()));
}

export const closed = (ws: WebSocket): Promise<void> =>
  ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise((resolve) => ws.once('close', () => resolve()));

export async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}
