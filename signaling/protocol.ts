/**
 * The relay protocol: JSON text frames between a browser and the signalling relay.
 * Defined once here and imported by both the relay and the browser client.
 *
 * The relay only introduces peers. It sees a topic (a hash derived from the room
 * secret, never the secret) and opaque signalling strings addressed to one peer.
 * It stamps the sender itself: a client cannot claim to be someone else.
 *
 * Relay -> client, first frame on every socket
 *   { type: 'challenge',   nonce }               32 random bytes, base64url; new per socket
 * Client -> relay
 *   { type: 'join',   topic, key, sig }     enter a room topic, signed (see peer ids below)
 *   { type: 'leave',  topic }               leave it
 *   { type: 'signal', topic, to, data }     opaque payload for one peer in that topic
 * Relay -> client
 *   { type: 'welcome',     topic, self, peers, size }
 *                                                answer to join: your id; `size`, the members in the
 *                                                room counting you; and `peers`, other members: all
 *                                                of them when the room is small enough to list
 *                                                (peers.length === size - 1: clients replace their
 *                                                list, so a repeated join resyncs), else a uniformly
 *                                                random sample of MAX_WELCOME_PEERS (clients add it)
 *                        [iceServers, iceTtl]   optional: TURN servers with credentials minted for
 *                                                this peer (see ice.ts), valid for iceTtl seconds.
 *                                                Clients refresh them by joining again (a repeated
 *                                                join, newly signed), well before iceTtl runs out.
 *   { type: 'peer-joined', topic, peer }
 *   { type: 'peer-left',   topic, peer }
 *   { type: 'signal',      topic, from, data }   `from` is stamped by the relay
 *   { type: 'error',       code, message }
 *
 * Peer ids: each browser keeps an Ed25519 key pair (src/core/crypto/identity.ts).
 * A join carries the raw public key (`key`, 32 bytes base64url) and `sig`, its
 * signature (64 bytes base64url) of joinChallengeText(nonce, topic). The relay
 * checks it and derives the peer id as the first 16 base64url characters of
 * SHA-256(public key bytes), then stamps every message from that socket with it.
 * So an id cannot be claimed without the private key, a join signature cannot be
 * replayed on another socket (another nonce), and a reloading or reconnecting
 * browser gets its id back, replacing its own stale socket in that room without
 * the room seeing it leave. The key is never forwarded.
 *
 * Parsers never throw: they return { ok: false, error } for anything malformed.
 */

export const RELAY_PATH = '/ws';

/** Largest frame either side accepts. Signalling (SDP, ICE candidates) fits easily. */
export const MAX_FRAME_BYTES = 16 * 1024;
/** Largest opaque signal payload. */
export const MAX_SIGNAL_DATA = 12 * 1024;
/**
 * The relay's room cap: a join beyond it is refused ('room-full'). Large rooms are a
 * bounded mesh (src/core/mesh/bounded.ts), so a member holds a few links, not n - 1.
 */
export const MAX_PEERS_PER_ROOM = 256;
/**
 * Most other members one welcome lists. A bounded mesh needs a few dozen candidates,
 * not the room: a random sample keeps the welcome small and spreads new links evenly.
 */
export const MAX_WELCOME_PEERS = 32;

/** A topic is a lowercase hex SHA-256: the relay never sees a room's name or secret. */
const TOPIC_RE = /^[0-9a-f]{64}$/;
/** Peer ids: 16 base64url characters (96 bits of a SHA-256). */
const PEER_ID_RE = /^[A-Za-z0-9_-]{16}$/;
/** 32 bytes (an Ed25519 public key, a nonce) and 64 bytes (a signature), base64url without padding. */
const BYTES32_RE = /^[A-Za-z0-9_-]{43}$/;
const BYTES64_RE = /^[A-Za-z0-9_-]{86}$/;

/** What a join signs: bound to this socket's nonce and to the topic joined. */
export const joinChallengeText = (nonce: string, topic: string): string => `meshdrop/v1/join\n${nonce}\n${topic}`;

export type ClientMessage =
  | { type: 'join'; topic: string; key: string; sig: string }
  | { type: 'leave'; topic: string }
  | { type: 'signal'; topic: string; to: string; data: string };

export type RelayErrorCode =
  | 'bad-json'
  | 'bad-message'
  | 'too-large'
  | 'not-in-room'
  | 'unknown-peer'
  | 'room-full'
  | 'too-many-rooms'
  | 'rate-limited'
  | 'server-full'
  | 'bad-signature'
  | 'too-many-connections'
  | 'too-many-identities'
  | 'join-timeout'
  /** Another socket of this identity joined this room: this one left it (another tab, or a reconnect). */
  | 'replaced';

export type RelayMessage =
  | { type: 'challenge'; nonce: string }
  | { type: 'welcome'; topic: string; self: string; peers: string[]; size: number; iceServers?: IceServer[]; iceTtl?: number }
  | { type: 'peer-joined'; topic: string; peer: string }
  | { type: 'peer-left'; topic: string; peer: string }
  | { type: 'signal'; topic: string; from: string; data: string }
  | { type: 'error'; code: RelayErrorCode; message: string };

/** RTCIceServer as the relay hands it out (and as /config.json serves it). */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}
/** Most ICE server entries (and URLs per entry) anyone accepts: browsers try every one. */
export const MAX_ICE_SERVERS = 8;
const ICE_URL_RE = /^(stuns?|turns?):[^\s,]{1,250}$/;

/** Why `value` is not an RTCIceServer we accept (bounded sizes, known schemes), or null. */
export function checkIceServer(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'each entry must be an object';
  const s = value as Record<string, unknown>;
  const urls = typeof s.urls === 'string' ? [s.urls] : s.urls;
  if (!Array.isArray(urls) || urls.length === 0 || urls.length > MAX_ICE_SERVERS) return `"urls" must be a URL or a list of 1 to ${MAX_ICE_SERVERS} URLs`;
  const bad = urls.find((u) => typeof u !== 'string' || !ICE_URL_RE.test(u));
  if (bad !== undefined) return `${JSON.stringify(typeof bad === 'string' ? bad.slice(0, 60) : typeof bad)} is not a stun:, stuns:, turn: or turns: URL`;
  for (const key of ['username', 'credential'] as const) {
    if (s[key] !== undefined && (typeof s[key] !== 'string' || (s[key] as string).length > 512)) return `"${key}" must be a string of at most 512 characters`;
  }
  return null;
}

/** A copy holding only the fields browsers use: nothing else from the wire reaches RTCPeerConnection. */
function cleanIceServer(s: IceServer): IceServer {
  const out: IceServer = { urls: typeof s.urls === 'string' ? s.urls : [...s.urls] };
  if (s.username !== undefined) out.username = s.username;
  if (s.credential !== undefined) out.credential = s.credential;
  return out;
}

/** The optional ICE part of a welcome, or an error text. */
function parseWelcomeIce(m: Record<string, unknown>): { iceServers?: IceServer[]; iceTtl?: number } | string {
  if (m.iceServers === undefined) return m.iceTtl === undefined ? {} : 'welcome: iceTtl without iceServers';
  if (!Array.isArray(m.iceServers) || m.iceServers.length > MAX_ICE_SERVERS) return 'welcome: bad iceServers';
  const problem = m.iceServers.map(checkIceServer).find((p) => p !== null);
  if (problem) return `welcome: bad iceServers (${problem})`;
  const ttl = m.iceTtl;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > 30 * 24 * 3600) return 'welcome: iceTtl must be whole seconds';
  return { iceServers: (m.iceServers as IceServer[]).map(cleanIceServer), iceTtl: ttl };
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; code: RelayErrorCode; error: string };

const ERROR_CODES: ReadonlySet<string> = new Set<RelayErrorCode>([
  'bad-json', 'bad-message', 'too-large', 'not-in-room', 'unknown-peer',
  'room-full', 'too-many-rooms', 'rate-limited', 'server-full',
  'bad-signature', 'too-many-connections', 'too-many-identities', 'join-timeout', 'replaced',
]);

export const isTopic = (v: unknown): v is string => typeof v === 'string' && TOPIC_RE.test(v);
export const isPeerId = (v: unknown): v is string => typeof v === 'string' && PEER_ID_RE.test(v);
/** An Ed25519 public key, base64url. */
export const isPeerKey = (v: unknown): v is string => typeof v === 'string' && BYTES32_RE.test(v);
export const isNonce = (v: unknown): v is string => typeof v === 'string' && BYTES32_RE.test(v);
export const isSignature = (v: unknown): v is string => typeof v === 'string' && BYTES64_RE.test(v);

/** The peer id for a public key, given SHA-256 of its raw bytes (Node and browsers hash differently). */
export function peerIdFromDigest(digest: Uint8Array): string {
  let bin = '';
  for (const b of digest.subarray(0, 12)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_');
}
const isSignalData = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_SIGNAL_DATA;

function fail<T>(code: RelayErrorCode, error: string): Parsed<T> {
  return { ok: false, code, error };
}

/** Parses one JSON frame into a plain object, enforcing the frame size first. */
function parseFrame(raw: string): Parsed<Record<string, unknown>> {
  if (raw.length > MAX_FRAME_BYTES) return fail('too-large', `frame of ${raw.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail('bad-json', 'frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('bad-message', 'frame is not a JSON object');
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * Names a bad `type` for an error message without converting it: String() on an object
 * calls its toString, and {"toString":"x"} parses to one whose toString is not a function.
 */
function describeType(type: unknown): string {
  if (typeof type === 'string') return JSON.stringify(type.slice(0, 32));
  return type === null ? 'null' : Array.isArray(type) ? 'array' : typeof type;
}

export function parseClientMessage(raw: string): Parsed<ClientMessage> {
  const frame = parseFrame(raw);
  if (!frame.ok) return frame;
  const m = frame.value;
  switch (m.type) {
    case 'join':
      if (!isTopic(m.topic)) return fail('bad-message', 'join: topic must be 64 hex characters');
      if (!isPeerKey(m.key)) return fail('bad-message', 'join: key must be a 32-byte public key in base64url (43 characters)');
      if (!isSignature(m.sig)) return fail('bad-message', 'join: sig must be a 64-byte signature in base64url (86 characters)');
      return { ok: true, value: { type: 'join', topic: m.topic, key: m.key, sig: m.sig } };
    case 'leave':
      if (!isTopic(m.topic)) return fail('bad-message', 'leave: topic must be 64 hex characters');
      return { ok: true, value: { type: 'leave', topic: m.topic } };
    case 'signal':
      if (!isTopic(m.topic)) return fail('bad-message', 'signal: topic must be 64 hex characters');
      if (!isPeerId(m.to)) return fail('bad-message', 'signal: "to" is not a peer id');
      if (!isSignalData(m.data)) return fail('bad-message', `signal: data must be a string of 1..${MAX_SIGNAL_DATA} characters`);
      return { ok: true, value: { type: 'signal', topic: m.topic, to: m.to, data: m.data } };
    default:
      return fail('bad-message', `unknown message type ${describeType(m.type)}`);
  }
}

export function parseRelayMessage(raw: string): Parsed<RelayMessage> {
  const frame = parseFrame(raw);
  if (!frame.ok) return frame;
  const m = frame.value;
  switch (m.type) {
    case 'challenge':
      if (!isNonce(m.nonce)) return fail('bad-message', 'challenge: nonce must be 32 bytes in base64url');
      return { ok: true, value: { type: 'challenge', nonce: m.nonce } };
    case 'welcome': {
      const peers = m.peers;
      if (!isTopic(m.topic) || !isPeerId(m.self)) return fail('bad-message', 'welcome: bad topic or self');
      if (!Array.isArray(peers) || peers.length > MAX_WELCOME_PEERS || !peers.every(isPeerId)) {
        return fail('bad-message', 'welcome: bad peer list');
      }
      const size = m.size;
      if (typeof size !== 'number' || !Number.isInteger(size) || size < peers.length + 1 || size > MAX_PEERS_PER_ROOM) {
        return fail('bad-message', `welcome: size must be a whole number from ${peers.length + 1} (the list and you) to ${MAX_PEERS_PER_ROOM}`);
      }
      const ice = parseWelcomeIce(m);
      if (typeof ice === 'string') return fail('bad-message', ice);
      return { ok: true, value: { type: 'welcome', topic: m.topic, self: m.self, peers: peers as string[], size, ...ice } };
    }
    case 'peer-joined':
    case 'peer-left':
      if (!isTopic(m.topic) || !isPeerId(m.peer)) return fail('bad-message', `${m.type}: bad topic or peer`);
      return { ok: true, value: { type: m.type, topic: m.topic, peer: m.peer } };
    case 'signal':
      if (!isTopic(m.topic) || !isPeerId(m.from) || !isSignalData(m.data)) {
        return fail('bad-message', 'signal: bad topic, sender or data');
      }
      return { ok: true, value: { type: 'signal', topic: m.topic, from: m.from, data: m.data } };
    case 'error':
      if (typeof m.code !== 'string' || !ERROR_CODES.has(m.code) || typeof m.message !== 'string') {
        return fail('bad-message', 'error: bad code or message');
      }
      return { ok: true, value: { type: 'error', code: m.code as RelayErrorCode, message: m.message.slice(0, 200) } };
    default:
      return fail('bad-message', `unknown message type ${describeType(m.type)}`);
  }
}

export const encodeMessage = (m: ClientMessage | RelayMessage): string => JSON.stringify(m);
