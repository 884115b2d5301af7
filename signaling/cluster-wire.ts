/**
 * Messages between relay instances over a broker (Redis pub/sub), as JSON text: each
 * published text is a batch, a JSON array of the messages one instance had for one
 * channel in one turn of its event loop (one PUBLISH per batch, not per signal).
 * Every message names its sender instance `i` (random per process start).
 *
 * On the rooms channel, heard by every instance:
 *   { t: 'hb',    i }                       I am alive (every heartbeat)
 *   { t: 'join',  i, topic, id, at }        a socket of mine entered topic as id at time at (ms)
 *   { t: 'leave', i, topic, id }            ... left it
 *   { t: 'hello', i, rooms }                I (re)connected: here is all I hold; send me yours
 *   { t: 'bye',   i }                       I am shutting down: drop my members now
 * On an instance's own channel:
 *   { t: 'state', i, rooms }                all I hold (answer to hello or ask)
 *   { t: 'ask',   i }                       I heard you but do not know your members
 *   { t: 'signal', i, topic, from, to, data } for your member `to`
 * `rooms` maps topic -> peer ids.
 *
 * Pub/sub delivers at most once and only while subscribed, so the full lists in hello and
 * state are what repair a view after a reconnect; join and leave are just the fast path.
 * A broker is not trusted to be well-formed: parseBusMessage returns an error value for
 * anything it does not expect, and the caller counts and drops it.
 */
import { MAX_SIGNAL_DATA, isPeerId, isTopic } from './protocol.ts';

export type Members = Record<string, string[]>;

export type BusMessage =
  | { t: 'hb' | 'bye' | 'ask'; i: string }
  | { t: 'join'; i: string; topic: string; id: string; at: number }
  | { t: 'leave'; i: string; topic: string; id: string }
  | { t: 'hello' | 'state'; i: string; rooms: Members }
  | { t: 'signal'; i: string; topic: string; from: string; to: string; data: string };

export type BusParsed = { ok: true; value: BusMessage } | { ok: false; error: string };

/** Entries in one hello or state: far above what one instance admits (connections x rooms). */
export const MAX_SNAPSHOT_ENTRIES = 1_000_000;

const INSTANCE_RE = /^[A-Za-z0-9_-]{8,32}$/;
export const isInstanceId = (v: unknown): v is string => typeof v === 'string' && INSTANCE_RE.test(v);

const fail = (error: string): BusParsed => ({ ok: false, error });

/** A topic -> ids map with only valid topics and ids, or an error text. */
function parseMembers(raw: unknown): Members | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'rooms must be an object';
  const out: Members = Object.create(null) as Members;
  let count = 0;
  for (const [topic, ids] of Object.entries(raw as Record<string, unknown>)) {
    if (!isTopic(topic) || !Array.isArray(ids) || !ids.every(isPeerId)) return 'rooms: bad topic or peer ids';
    count += ids.length;
    if (count > MAX_SNAPSHOT_ENTRIES) return 'rooms: too many entries';
    out[topic] = ids as string[];
  }
  return out;
}

function parseFields(m: Record<string, unknown>): BusParsed {
  const i = m.i as string;
  switch (m.t) {
    case 'hb': case 'bye': case 'ask':
      return { ok: true, value: { t: m.t, i } };
    case 'join':
      if (!isTopic(m.topic) || !isPeerId(m.id) || !Number.isFinite(m.at)) return fail('join: bad topic, id or time');
      return { ok: true, value: { t: 'join', i, topic: m.topic, id: m.id, at: m.at as number } };
    case 'leave':
      if (!isTopic(m.topic) || !isPeerId(m.id)) return fail('leave: bad topic or id');
      return { ok: true, value: { t: 'leave', i, topic: m.topic, id: m.id } };
    case 'hello': case 'state': {
      const rooms = parseMembers(m.rooms);
      return typeof rooms === 'string' ? fail(`${m.t}: ${rooms}`) : { ok: true, value: { t: m.t, i, rooms } };
    }
    case 'signal': {
      const { topic, from, to, data } = m;
      if (!isTopic(topic) || !isPeerId(from) || !isPeerId(to)) return fail('signal: bad topic or peer ids');
      if (typeof data !== 'string' || data.length === 0 || data.length > MAX_SIGNAL_DATA) return fail('signal: bad data');
      return { ok: true, value: { t: 'signal', i, topic, from, to, data } };
    }
    default:
      return fail('unknown message type');
  }
}

/** Most messages in one batch; the sender splits longer runs. */
export const MAX_BATCH = 1000;

function parseMessage(m: unknown): BusParsed {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return fail('not an object');
  const fields = m as Record<string, unknown>;
  if (!isInstanceId(fields.i)) return fail('bad instance id');
  return parseFields(fields);
}

/** Each message of a batch on its own (one bad message does not spoil the others), or why the batch is unreadable. Never throws. */
export function parseBusBatch(text: string): { ok: true; value: BusParsed[] } | { ok: false; error: string } {
  let batch: unknown;
  try {
    batch = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  if (!Array.isArray(batch) || batch.length > MAX_BATCH) return { ok: false, error: `not an array of at most ${MAX_BATCH} messages` };
  return { ok: true, value: batch.map(parseMessage) };
}

export const encodeBusBatch = (batch: BusMessage[]): string => JSON.stringify(batch);
