/**
 * ICE configuration for browsers: which STUN/TURN servers they use and whether
 * they may use direct (host, server-reflexive) candidates at all.
 *
 * Read from the environment (parseIceConfig) once at startup:
 *   ICE_SERVERS  JSON list of RTCIceServer; replaces DEFAULT_STUN_SERVERS; [] turns STUN off.
 *   TURN_URLS    comma-separated turn:/turns: URLs of a coturn run with use-auth-secret.
 *   TURN_SECRET  coturn's static-auth-secret. It never leaves this process: browsers get
 *                credentials minted from it per peer, valid for TURN_TTL seconds.
 *   TURN_TTL     lifetime of minted credentials in seconds (default 3600).
 *   ICE_POLICY   'all' (default) or 'relay': browsers then use relayed candidates only,
 *                so peers never learn each other's addresses.
 *
 * Minted credentials follow coturn's "TURN REST API": username `${expiry}:${peer}`
 * (expiry in unix seconds), credential base64(HMAC-SHA1(secret, username)).
 * Neither the secret nor minted credentials are ever logged.
 */
import { createHmac } from 'node:crypto';
import { MAX_ICE_SERVERS, checkIceServer, type IceServer } from './protocol.ts';

export type { IceServer } from './protocol.ts';

export interface TurnConfig {
  urls: string[];
  secret: string;
  ttlSeconds: number;
}

export type IcePolicy = 'all' | 'relay';

export interface IceConfig {
  /** Served to every browser in /config.json (no secrets in here). */
  iceServers: IceServer[];
  /** Minted per peer by the relay in its welcome; null without TURN_URLS/TURN_SECRET. */
  turn: TurnConfig | null;
  policy: IcePolicy;
}

export type EnvResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Well-known public STUN servers: enough for most home networks (no relaying, no accounts). */
export const DEFAULT_STUN_SERVERS: readonly IceServer[] = Object.freeze([
  { urls: ['stun:stun.l.google.com:19302', 'stun:stun.cloudflare.com:3478'] },
]);
export const DEFAULT_TURN_TTL_SECONDS = 3600;
/** Shorter lifetimes would make clients re-join constantly; longer ones make leaked credentials last. */
export const MIN_TURN_TTL_SECONDS = 60;
export const MAX_TURN_TTL_SECONDS = 7 * 24 * 3600;

const TURN_URL_RE = /^turns?:[^\s,]{1,250}$/;
const MAX_SERVERS = MAX_ICE_SERVERS;

const fail = <T>(error: string): EnvResult<T> => ({ ok: false, error });

export function parseIceServersEnv(raw: string | undefined): EnvResult<IceServer[]> {
  if (raw === undefined || raw.trim() === '') return { ok: true, value: DEFAULT_STUN_SERVERS.map((s) => ({ ...s })) };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail('ICE_SERVERS must be JSON, e.g. [{"urls":"stun:stun.example.org:3478"}], or [] for none');
  }
  if (!Array.isArray(value) || value.length > MAX_SERVERS) return fail(`ICE_SERVERS must be a JSON list of at most ${MAX_SERVERS} objects with "urls"`);
  for (const entry of value) {
    const problem = checkIceServer(entry);
    if (problem) return fail(`ICE_SERVERS: ${problem}`);
  }
  return { ok: true, value: value as IceServer[] };
}

function parseTtl(raw: string | undefined): EnvResult<number> {
  if (raw === undefined || raw === '') return { ok: true, value: DEFAULT_TURN_TTL_SECONDS };
  const ttl = /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!(ttl >= MIN_TURN_TTL_SECONDS && ttl <= MAX_TURN_TTL_SECONDS)) {
    return fail(`TURN_TTL must be whole seconds from ${MIN_TURN_TTL_SECONDS} to ${MAX_TURN_TTL_SECONDS}, got ${JSON.stringify(raw)}`);
  }
  return { ok: true, value: ttl };
}

export function parseTurnEnv(env: Record<string, string | undefined>): EnvResult<TurnConfig | null> {
  const urlsRaw = env.TURN_URLS?.trim() ?? '';
  const secret = env.TURN_SECRET ?? '';
  if (!urlsRaw && !secret) return env.TURN_TTL ? fail('TURN_TTL is set but TURN_URLS and TURN_SECRET are not') : { ok: true, value: null };
  if (!urlsRaw || !secret) return fail('set both TURN_URLS and TURN_SECRET (coturn\'s static-auth-secret), or neither');
  const urls = urlsRaw.split(',').map((u) => u.trim()).filter(Boolean);
  const bad = urls.find((u) => !TURN_URL_RE.test(u));
  if (bad !== undefined) return fail(`TURN_URLS: ${JSON.stringify(bad)} is not a turn: or turns: URL (e.g. turn:turn.example.org:3478?transport=udp)`);
  if (urls.length > MAX_SERVERS) return fail(`TURN_URLS: at most ${MAX_SERVERS} URLs`);
  const ttl = parseTtl(env.TURN_TTL);
  if (!ttl.ok) return ttl;
  return { ok: true, value: { urls, secret, ttlSeconds: ttl.value } };
}

export function parseIceConfig(env: Record<string, string | undefined>): EnvResult<IceConfig> {
  const servers = parseIceServersEnv(env.ICE_SERVERS);
  if (!servers.ok) return servers;
  const turn = parseTurnEnv(env);
  if (!turn.ok) return turn;
  const policyRaw = env.ICE_POLICY?.trim() || 'all';
  if (policyRaw !== 'all' && policyRaw !== 'relay') return fail(`ICE_POLICY must be "all" or "relay", got ${JSON.stringify(policyRaw)}`);
  const hasTurn = turn.value !== null || servers.value.some((s) => [s.urls].flat().some((u) => u.startsWith('turn')));
  // Relay-only without any TURN server would leave every browser without a single candidate.
  if (policyRaw === 'relay' && !hasTurn) return fail('ICE_POLICY=relay needs a TURN server: set TURN_URLS and TURN_SECRET');
  return { ok: true, value: { iceServers: servers.value, turn: turn.value, policy: policyRaw } };
}

export const turnUsername = (expirySeconds: number, peerId: string): string => `${expirySeconds}:${peerId}`;

/** coturn's use-auth-secret check: base64(HMAC-SHA1(static-auth-secret, username)). */
export const turnCredential = (secret: string, username: string): string =>
  createHmac('sha1', secret).update(username).digest('base64');

/** Fresh TURN credentials for one peer, valid for turn.ttlSeconds from nowMs. */
export function mintTurnServer(turn: TurnConfig, peerId: string, nowMs: number): IceServer {
  const username = turnUsername(Math.floor(nowMs / 1000) + turn.ttlSeconds, peerId);
  return { urls: [...turn.urls], username, credential: turnCredential(turn.secret, username) };
}
