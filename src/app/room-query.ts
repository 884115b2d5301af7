import { toBase64Url, utf8 } from '../core/bytes.ts';
import type { Announcement } from '../core/gossip/announcement.ts';
import { packByBytes } from '../core/gossip/pack.ts';
import {
  MIN_QUERY_CHARS, MAX_QUERY_TEXT_BYTES, ownMatches, parseQueryHit, parseRoomQuery, QueryRouter, type RoomQuery,
} from '../core/gossip/query.ts';
import { MAX_JSON_BYTES } from '../core/wire/frames.ts';

/**
 * Searching a bounded room (core/gossip/query.ts): our searches go out as
 * queries when some member is not our neighbour (a full mesh hears every
 * statement from its origin, so its catalogue already holds every file);
 * others' queries are answered with our matching files and passed on; answers
 * travel back along the path and, at the asker, enter the catalogue as any
 * statement does (verified by RoomGossip.receiveHits), so they show in the
 * same list. Only a malformed frame is held against a neighbour.
 */
export interface RoomQueryDeps {
  self: string;
  /** Our display name: a query may name the person it looks for. */
  name(): string;
  neighbours(): string[];
  members(): ReadonlySet<string>;
  /** Our signed statements and everyone else's (we answer with our own). */
  statements(): Iterable<Announcement>;
  /**
   * Whether a statement of ours may go to anyone in the room: a query's asker
   * is unknown, so an answer must suit every member. The one place to point
   * at audience rules (files shared with chosen people are never answered).
   */
  answerable(a: Announcement): boolean;
  send(peer: string, m: { type: 'query' | 'query-hit'; json: unknown }): void;
  /** Answers to our own query: verified and merged into the catalogue. */
  merge(from: string, hits: Announcement[]): Promise<void>;
  ban(peer: string, code: string, detail: string): void;
  now(): number;
  randomBytes(n: number): Uint8Array;
}

/** Hit frames leave room for the id around the announcements. */
const HITS_BYTES = MAX_JSON_BYTES - 64;
/** The same search again within this is not asked again: the answers are already in the catalogue. */
export const REPEAT_MS = 30_000;

export class RoomQueries {
  readonly router = new QueryRouter();
  private last = { text: '', at: -Infinity };

  constructor(private readonly deps: RoomQueryDeps) {}

  /** Some member is no neighbour of ours: the catalogue may lack files only they know of. */
  bounded(): boolean {
    const linked = new Set(this.deps.neighbours());
    for (const m of this.deps.members()) if (m !== this.deps.self && !linked.has(m)) return true;
    return false;
  }

  /** Asks the room (the search box, debounced): false when not worth it (short, unchanged, full mesh, too long). */
  search(text: string): boolean {
    const trimmed = text.trim();
    const now = this.deps.now();
    if (trimmed.length < MIN_QUERY_CHARS || utf8(trimmed).length > MAX_QUERY_TEXT_BYTES || !this.bounded()) return false;
    if (trimmed === this.last.text && now - this.last.at < REPEAT_MS) return false;
    this.last = { text: trimmed, at: now };
    const id = toBase64Url(this.deps.randomBytes(12));
    const { query, sendTo } = this.router.ask(id, trimmed, this.deps.neighbours(), now);
    for (const peer of sendTo) this.deps.send(peer, { type: 'query', json: query });
    return true;
  }

  /** A QUERY or QUERY_HIT from neighbour `from`; resolves once answers to our own query are merged. */
  async receive(from: string, kind: 'query' | 'query-hit', json: unknown): Promise<void> {
    if (kind === 'query') this.onQuery(from, json);
    else await this.onHit(from, json);
  }

  neighbourGone(peer: string): void {
    this.router.neighbourGone(peer);
  }

  stats(): Record<string, number> {
    return { ...this.router.counters };
  }

  private onQuery(from: string, json: unknown): void {
    const parsed = parseRoomQuery(json);
    if (!parsed.ok) return this.malformed(from, parsed.error);
    const verdict = this.router.receive(from, parsed.value, this.deps.neighbours(), this.deps.now());
    if (verdict.action === 'drop') return;
    for (const peer of verdict.forwardTo) this.deps.send(peer, { type: 'query', json: verdict.forward });
    this.answer(from, parsed.value);
  }

  private answer(to: string, q: RoomQuery): void {
    const hits = ownMatches(this.deps.statements(), this.deps.self, this.deps.name(), q.text, (a) => this.deps.answerable(a));
    if (hits.length === 0) return;
    this.router.answered(hits.length);
    for (const chunk of packByBytes(hits, HITS_BYTES)) this.deps.send(to, { type: 'query-hit', json: { id: q.id, hits: chunk } });
  }

  private async onHit(from: string, json: unknown): Promise<void> {
    const parsed = parseQueryHit(json);
    if (!parsed.ok) return this.malformed(from, parsed.error);
    const verdict = this.router.hits(from, parsed.value, this.deps.now());
    if (verdict.action === 'mine') await this.deps.merge(from, verdict.hits);
    else if (verdict.action === 'forward') {
      for (const chunk of packByBytes(verdict.hits, HITS_BYTES)) this.deps.send(verdict.to, { type: 'query-hit', json: { id: parsed.value.id, hits: chunk } });
    }
  }

  private malformed(from: string, detail: string): void {
    this.router.malformed();
    this.deps.ban(from, 'ERR_BAD_QUERY', detail);
  }
}
