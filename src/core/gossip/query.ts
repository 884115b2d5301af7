import { utf8 } from '../bytes.ts';
import { err, ok, type Result } from '../result.ts';
import { fileMatches, parseQuery } from '../search.ts';
import { parseAnnouncement, type Announcement } from './announcement.ts';
import { OriginBuckets } from './rules.ts';

/**
 * Room queries: Gnutella's QUERY and QUERY_HIT, for rooms whose catalogue is
 * not fully replicated (a bounded mesh, where most members are not our
 * neighbours). A query travels hop by hop with a hop limit; each peer takes a
 * given query id once (a seen cache with a TTL, which also remembers the link
 * it came by), forwards it while hops remain, and answers with its own signed
 * announcements that match. Answers go back along the path the query came
 * (each forwarder sends them to the link it had the query from), so the asker
 * needs no link to the holders and no peer learns who asked beyond its
 * neighbour. Pure: the caller passes the clock, the neighbours and the ids.
 *
 * What it costs and who pays: queries are unsigned, so the budget is per
 * link (a neighbour's own queries and those it forwards); hits are bounded per
 * answer and per query at every forwarder, so an answer cannot be blown up
 * into a flood. Over a budget: dropped and counted, never banned. Only a
 * malformed frame is proof (parseRoomQuery, parseQueryHit).
 *
 *   QUERY      0x15 | utf8 JSON { id, text, hops }
 *   QUERY_HIT  0x16 | utf8 JSON { id, hits: [announcement, ...] }   packed by bytes (gossip/pack.ts)
 */

/** Hops of our own queries: with ~6 neighbours each, three hops reach a couple of hundred peers, the relay's room cap. */
export const QUERY_HOPS = 3;
/** Anything more is no honest peer's: a malformed frame. */
export const MAX_QUERY_HOPS = 4;
/** What a person types in a search box; more is not a search. */
export const MAX_QUERY_TEXT_BYTES = 256;
/** Shorter text matches most of the room: not worth asking it. */
export const MIN_QUERY_CHARS = 2;
/** A query id is taken once this long; its route back is kept as long (answers come within seconds). */
export const QUERY_SEEN_TTL_MS = 60_000;
export const MAX_QUERIES_SEEN = 4_096;
/** Per link: a person typing makes a query a second at most (debounced); forwarding others' adds some. */
export const QUERY_BURST = 20;
export const QUERIES_PER_SECOND = 4;
/** One peer's answer to one query, and all answers one peer passes back for one query. */
export const MAX_HITS_PER_ANSWER = 50;
export const MAX_HITS_PER_QUERY = 200;
/** 12 random bytes, base64url. */
const QUERY_ID_RE = /^[A-Za-z0-9_-]{16}$/;

export interface RoomQuery {
  id: string;
  text: string;
  hops: number;
}

export interface QueryHit {
  id: string;
  hits: Announcement[];
}

export type QueryDrop = 'duplicate' | 'over-budget' | 'unknown-query' | 'over-hits';

export interface QueryCounters {
  asked: number;
  taken: number;
  forwarded: number;
  answered: number;
  'hits-routed': number;
  'hits-received': number;
  duplicate: number;
  'over-budget': number;
  'unknown-query': number;
  'over-hits': number;
  malformed: number;
}

const bad = (detail: string) => err('ERR_BAD_QUERY', detail);

/** A QUERY body from a peer: shape and limits; never throws. */
export function parseRoomQuery(json: unknown): Result<RoomQuery, 'ERR_BAD_QUERY'> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return bad('query is not an object');
  const { id, text, hops } = json as Record<string, unknown>;
  if (typeof id !== 'string' || !QUERY_ID_RE.test(id)) return bad('bad query id');
  if (typeof text !== 'string' || text.trim().length < MIN_QUERY_CHARS || utf8(text).length > MAX_QUERY_TEXT_BYTES) return bad('bad query text');
  if (typeof hops !== 'number' || !Number.isInteger(hops) || hops < 1 || hops > MAX_QUERY_HOPS) return bad('bad query hop count');
  return ok({ id, text, hops });
}

/** A QUERY_HIT body: its id and at most MAX_HITS_PER_ANSWER well-formed announcements (signatures are checked later). */
export function parseQueryHit(json: unknown): Result<QueryHit, 'ERR_BAD_QUERY'> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return bad('query hit is not an object');
  const { id, hits } = json as Record<string, unknown>;
  if (typeof id !== 'string' || !QUERY_ID_RE.test(id)) return bad('bad query id');
  if (!Array.isArray(hits) || hits.length === 0 || hits.length > MAX_HITS_PER_ANSWER) return bad(`a query hit holds 1 to ${MAX_HITS_PER_ANSWER} announcements`);
  const parsed: Announcement[] = [];
  for (const h of hits) {
    const a = parseAnnouncement(h);
    if (!a.ok) return bad(`query hit: ${a.error}`);
    if (a.value.kind !== 'add') return bad('query hit: an answer names files held, not removed');
    parsed.push(a.value);
  }
  return ok({ id, hits: parsed });
}

/** What to do with a query from a neighbour. */
export type QueryVerdict =
  | { action: 'drop'; reason: QueryDrop }
  | { action: 'take'; forwardTo: string[]; forward: RoomQuery };

/** What to do with hits from a neighbour: ours (merge them), pass on (to `to`), or drop. */
export type HitVerdict =
  | { action: 'drop'; reason: QueryDrop }
  | { action: 'mine'; hits: Announcement[] }
  | { action: 'forward'; to: string; hits: Announcement[] };

interface Route {
  /** The neighbour it came from; null for our own query. */
  from: string | null;
  expires: number;
  /** Hits passed back so far. */
  hits: number;
}

export class QueryRouter {
  readonly counters: QueryCounters = {
    asked: 0, taken: 0, forwarded: 0, answered: 0, 'hits-routed': 0, 'hits-received': 0,
    duplicate: 0, 'over-budget': 0, 'unknown-query': 0, 'over-hits': 0, malformed: 0,
  };
  /** Query id -> its route back; Map order is arrival order, so the oldest are forgotten first. */
  private routes = new Map<string, Route>();
  /** Per link (queries are unsigned: the link is all we know); a token bucket keyed by anything works the same. */
  private readonly buckets: OriginBuckets;
  private readonly maxSeen: number;
  private readonly ttlMs: number;

  constructor(opts: { burst?: number; perSecond?: number; maxSeen?: number; ttlMs?: number } = {}) {
    this.buckets = new OriginBuckets(opts.burst ?? QUERY_BURST, opts.perSecond ?? QUERIES_PER_SECOND);
    this.maxSeen = opts.maxSeen ?? MAX_QUERIES_SEEN;
    this.ttlMs = opts.ttlMs ?? QUERY_SEEN_TTL_MS;
  }

  /** Our own query (`id` random): sent to every neighbour with QUERY_HOPS; its hits will be ours. */
  ask(id: string, text: string, neighbours: readonly string[], now: number): { query: RoomQuery; sendTo: string[] } {
    this.remember(id, null, now);
    this.counters.asked++;
    return { query: { id, text, hops: QUERY_HOPS }, sendTo: [...neighbours] };
  }

  /** A query from neighbour `from`: drop it, or take it (answer it) and forward it to `forwardTo` with one hop less. */
  receive(from: string, q: RoomQuery, neighbours: readonly string[], now: number): QueryVerdict {
    if (this.live(q.id, now)) return this.drop('duplicate');
    if (!this.buckets.take(from, now)) return this.drop('over-budget');
    this.remember(q.id, from, now);
    this.counters.taken++;
    const forward = { ...q, hops: q.hops - 1 };
    const forwardTo = forward.hops > 0 ? neighbours.filter((n) => n !== from) : [];
    this.counters.forwarded += forwardTo.length;
    return { action: 'take', forwardTo, forward };
  }

  /** We answered a query we took with `count` hits (once per query: copies of it are dropped as duplicates). */
  answered(count: number): void {
    this.counters.answered += count;
  }

  /** Hits from neighbour `from` for query `id`: back along the route, within MAX_HITS_PER_QUERY. */
  hits(from: string, hit: QueryHit, now: number): HitVerdict {
    const route = this.live(hit.id, now);
    if (!route || route.from === from) return this.drop('unknown-query');
    // Counted by hits, not frames: how much answering the room did that went nowhere.
    const hits = hit.hits.slice(0, Math.max(0, MAX_HITS_PER_QUERY - route.hits));
    this.counters['over-hits'] += hit.hits.length - hits.length;
    if (hits.length === 0) return { action: 'drop', reason: 'over-hits' };
    route.hits += hits.length;
    if (route.from === null) {
      this.counters['hits-received'] += hits.length;
      return { action: 'mine', hits };
    }
    this.counters['hits-routed'] += hits.length;
    return { action: 'forward', to: route.from, hits };
  }

  /** A bad frame was seen (the caller bans its sender). */
  malformed(): void {
    this.counters.malformed++;
  }

  /** A neighbour went: its budget goes (routes through it simply find no link). */
  neighbourGone(peer: string): void {
    this.buckets.delete(peer);
  }

  private drop(reason: QueryDrop): { action: 'drop'; reason: QueryDrop } {
    this.counters[reason]++;
    return { action: 'drop', reason };
  }

  private live(id: string, now: number): Route | undefined {
    const r = this.routes.get(id);
    return r && r.expires > now ? r : undefined;
  }

  private remember(id: string, from: string | null, now: number): void {
    this.routes.delete(id);
    this.routes.set(id, { from, expires: now + this.ttlMs, hits: 0 });
    for (const [key, r] of this.routes) {
      if (r.expires > now && this.routes.size <= this.maxSeen) break;
      this.routes.delete(key);
    }
  }
}

/**
 * What we answer a query with: our own live statements (files we hold) whose
 * file matches the text by the search box's rules (core/search.ts), our name
 * counting as the holder's, and that `answerable` lets go to anyone who may
 * ask (a query's asker is unknown, so an answer must suit the whole room).
 */
export function ownMatches(
  statements: Iterable<Announcement>, self: string, selfName: string, text: string, answerable: (a: Announcement) => boolean,
): Announcement[] {
  const q = parseQuery(text);
  const out: Announcement[] = [];
  for (const a of statements) {
    if (a.origin !== self || a.kind !== 'add' || !answerable(a)) continue;
    if (!fileMatches({ name: a.file.name, path: a.file.path, mime: a.file.mime, people: [selfName] }, q)) continue;
    out.push({ ...a, hops: 0 }); // hops are not signed; an answer is not gossip and is never flooded on
    if (out.length === MAX_HITS_PER_ANSWER) break;
  }
  return out;
}
