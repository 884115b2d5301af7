import { toBase64Url, utf8 } from '../bytes.ts';
import { MAX_NAME_BYTES } from '../names.ts';
import { err, ok, type Result } from '../result.ts';
import { statementProblem, verifySigned, type IdOf, type Signer, type Verifier, type VerifyCode } from './announcement.ts';
import { OriginBuckets } from './rules.ts';

/**
 * Presence by gossip: in a bounded mesh most members are not our neighbours,
 * and the relay may list only a sample of the room, so each member says "I am
 * here" (and "I am gone" when it leaves) in a signed statement that floods
 * like an announcement. Who is here is then known room-wide, and so whose
 * announcements to accept (rules.ts: only members may be origins).
 *
 * Signed the way announcements are (announcement.ts): the origin id is its
 * key's id, the signature covers everything but `hops`. It also covers the
 * ROOM (the relay topic the HELLO binds links to), which the statement does
 * not carry: a statement taken from one room fails verification in another.
 * `seq` is wall-clock based and grows across reloads; for one origin the
 * newest seq wins whatever order copies arrive in, so a stale 'here' never
 * undoes a 'gone'.
 *
 * Pure: the caller passes the clock and the neighbours.
 */
export interface Presence {
  v: 1;
  origin: string;
  /** The origin's raw Ed25519 public key, base64url. */
  key: string;
  seq: number;
  /**
   * The seq this session of the origin began with (its page load): a bigger
   * one means it restarted, and what it said before is no longer its word.
   */
  since: number;
  kind: 'here' | 'gone';
  /** Display name as the person typed it: hostile input, cleaned (names.ts) before it is shown. */
  name: string;
  /** Whether the person is at the page (see pageStatus); absent from peers before wire version 5: nothing is shown. */
  status?: PresenceStatus;
  hops: number;
  sig: string;
}

export type UnsignedPresence = Omit<Presence, 'v' | 'sig'>;

export const PRESENCE_STATUSES = ['active', 'idle', 'away'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

/**
 * Hidden this long, a person is away, not just idle. Five minutes is when
 * Chrome starts its intensive throttling of hidden pages' timers and when
 * phones commonly freeze a background page: by then the person has moved on,
 * and the page may stop answering soon. Shorter would flap for someone who
 * glanced at another tab; longer would show "idle" for a page already frozen.
 */
export const AWAY_MS = 5 * 60_000;

/** From the page's visibility only, never from guesses: visible is active, hidden is idle, hidden for AWAY_MS is away. */
export function pageStatus(hiddenSince: number | null, now: number): PresenceStatus {
  if (hiddenSince === null) return 'active';
  return now - hiddenSince >= AWAY_MS ? 'away' : 'idle';
}

export const PRESENCE_CONTEXT = 'meshdrop/v1/presence';
/** Each member says it is here this often... */
export const REFRESH_MS = 60_000;
/** ...and is taken for gone after three missed refreshes. */
export const EXPIRE_MS = 3 * REFRESH_MS;
/** Per origin: a few statements at once (join, renames), then one every 5 s; an honest one sends one a minute. */
export const PRESENCE_BURST = 8;
export const PRESENCE_PER_SECOND = 0.2;
/** Origins remembered (here or gone): four times the relay's room cap, so forged identities cannot grow it without end. */
export const MAX_PRESENCE_ORIGINS = 1024;

/** The signed bytes: a fixed list; the status, when there is one, goes last (a statement without one signs as before). */
export function presenceBytes(p: Omit<UnsignedPresence, 'hops'>, room: string): Uint8Array {
  const fields = [PRESENCE_CONTEXT, 1, room, p.origin, p.key, p.seq, p.since, p.kind, p.name];
  return utf8(JSON.stringify(p.status === undefined ? fields : [...fields, p.status]));
}

export async function signPresence(fields: UnsignedPresence, room: string, sign: Signer): Promise<Presence> {
  const { origin, key, seq, since, kind, name, hops, status } = fields;
  const copy = { origin, key, seq, since, kind, name, hops, ...(status === undefined ? {} : { status }) };
  return { v: 1, ...copy, sig: toBase64Url(await sign(presenceBytes(copy, room))) };
}

export async function verifyPresence(p: Presence, room: string, verify: Verifier, idOf: IdOf): Promise<Result<Presence, VerifyCode>> {
  const checked = await verifySigned(p, presenceBytes(p, room), verify, idOf, 'presence statement');
  return checked.ok ? ok(p) : checked;
}

function presenceProblem(p: Record<string, unknown>): string | null {
  const problem = statementProblem(p, ['here', 'gone']);
  if (problem) return problem;
  const seq = p.seq as number;
  if (typeof p.since !== 'number' || !Number.isSafeInteger(p.since) || p.since < 0 || p.since > seq) return 'bad session start';
  if (typeof p.name !== 'string' || utf8(p.name).length > MAX_NAME_BYTES) return 'bad name';
  if (p.status !== undefined && !(PRESENCE_STATUSES as readonly unknown[]).includes(p.status)) return 'bad status';
  return null;
}

/** Validates a PRESENCE frame's JSON (shape and limits, not the signature); never throws; drops unknown fields. */
export function parsePresence(v: unknown): Result<Presence> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return err('bad-presence', 'presence is not an object');
  const p = v as Record<string, unknown>;
  const problem = presenceProblem(p);
  if (problem) return err('bad-presence', `presence: ${problem}`);
  return ok({
    v: 1, origin: p.origin as string, key: p.key as string, seq: p.seq as number, since: p.since as number, kind: p.kind as Presence['kind'],
    name: p.name as string, ...(p.status === undefined ? {} : { status: p.status as PresenceStatus }), hops: p.hops as number, sig: p.sig as string,
  });
}

export type PresenceDrop = 'own' | 'duplicate' | 'stale' | 'over-budget' | 'over-limit';
/** What an accepted statement changed: someone arrived, left, renamed, changed status, or nothing visible (a refresh). */
export type PresenceChange = 'arrived' | 'left' | 'renamed' | 'status' | 'none';
export type PresenceVerdict =
  | { action: 'drop'; reason: PresenceDrop }
  /** restarted: a session of the origin we had not heard of (first word, or a reload). */
  | { action: 'accept'; forwardTo: string[]; message: Presence; change: PresenceChange; restarted: boolean };

export interface PresenceCounters {
  accepted: number;
  forwarded: number;
  own: number;
  duplicate: number;
  stale: number;
  'over-budget': number;
  'over-limit': number;
  malformed: number;
  'bad-signature': number;
  'bad-origin': number;
  'verify-failed': number;
  /** From identities this person blocked: not taken in, not passed on. */
  blocked: number;
}

interface Entry {
  /** The origin's newest statement, as signed (a 'gone' is kept so older copies of 'here' stay stale). */
  statement: Presence;
  here: boolean;
  /** When (our clock) we took in its newest statement: expiry runs from here. */
  heardAt: number;
}

export interface PresenceOptions {
  self: string;
  expireMs?: number;
  burst?: number;
  perSecond?: number;
  maxOrigins?: number;
}

/**
 * Who is here by their own word. Like GossipRules, judging is two steps around
 * the (asynchronous) signature check: screen() rules out what is not worth
 * verifying, admit() decides after. Over a budget is dropped and counted.
 */
export class PresenceBook {
  readonly counters: PresenceCounters = {
    accepted: 0, forwarded: 0, own: 0, duplicate: 0, stale: 0, 'over-budget': 0, 'over-limit': 0,
    malformed: 0, 'bad-signature': 0, 'bad-origin': 0, 'verify-failed': 0, blocked: 0,
  };
  /** Map order is last-update order: the longest-silent entries come first (eviction, expiry). */
  private entries = new Map<string, Entry>();
  private buckets: OriginBuckets;

  constructor(private readonly opts: PresenceOptions) {
    this.buckets = new OriginBuckets(opts.burst ?? PRESENCE_BURST, opts.perSecond ?? PRESENCE_PER_SECOND);
  }

  count(name: keyof PresenceCounters, n = 1): void {
    this.counters[name] += n;
  }

  /** Before checking the signature: is this worth verifying? Drops are counted here. */
  screen(p: Presence, now: number): { ok: true } | { ok: false; reason: PresenceDrop } {
    const reason = this.cheapReason(p) ?? (this.buckets.tokens(p.origin, now) < 1 ? 'over-budget' : null);
    if (!reason) return { ok: true };
    this.count(reason);
    return { ok: false, reason };
  }

  /** After the signature checked out: record it and say where it goes on (flooding as in rules.ts). */
  admit(p: Presence, from: string, neighbours: readonly string[], now: number): PresenceVerdict {
    const reason = this.cheapReason(p) ?? (this.buckets.take(p.origin, now) ? null : 'over-budget');
    if (reason) {
      this.count(reason);
      return { action: 'drop', reason };
    }
    const before = this.entries.get(p.origin);
    const change = changeOf(before, p);
    const restarted = before === undefined || p.since > before.statement.since;
    this.entries.delete(p.origin); // re-insert: newest last
    this.entries.set(p.origin, { statement: p, here: p.kind === 'here', heardAt: now });
    this.count('accepted');
    const message = { ...p, hops: Math.max(0, p.hops - 1) };
    const forwardTo = message.hops > 0 ? neighbours.filter((n) => n !== from && n !== p.origin) : [];
    this.count('forwarded', forwardTo.length);
    return { action: 'accept', forwardTo, message, change, restarted };
  }

  /**
   * Our own word that `origin` left (the relay says so): it is no longer here
   * at the seq we hold, so copies of that statement still travelling are
   * stale; a newer 'here' from it brings it back. True if it was here.
   */
  absent(origin: string): boolean {
    const e = this.entries.get(origin);
    if (!e?.here) return false;
    e.here = false;
    return true;
  }

  /** Origins that were here and not heard from for expireMs: now taken for gone (returned once). */
  expire(now: number): string[] {
    const ttl = this.opts.expireMs ?? EXPIRE_MS;
    const out: string[] = [];
    for (const [origin, e] of this.entries) {
      if (e.heardAt + ttl > now) break; // newest last: the rest were heard later
      if (!e.here) continue;
      e.here = false;
      out.push(origin);
    }
    return out;
  }

  isHere(origin: string): boolean {
    return this.entries.get(origin)?.here ?? false;
  }

  here(): string[] {
    return [...this.entries].filter(([, e]) => e.here).map(([origin]) => origin);
  }

  /** When the origin's current session began, as far as we heard (kept after it left: older statements stay stale). */
  since(origin: string): number | undefined {
    return this.entries.get(origin)?.statement.since;
  }

  /** The name in the origin's newest statement while it is here (raw: the caller cleans it). */
  nameOf(origin: string): string | null {
    const e = this.entries.get(origin);
    return e?.here ? e.statement.name : null;
  }

  /** The status in the origin's newest statement while it is here; null when it said none. */
  statusOf(origin: string): PresenceStatus | null {
    const e = this.entries.get(origin);
    return e?.here ? (e.statement.status ?? null) : null;
  }

  /** The statements of everyone here, as signed: what a new neighbour needs to know who is in the room. */
  statements(): Presence[] {
    return [...this.entries.values()].filter((e) => e.here).map((e) => e.statement);
  }

  get size(): number {
    return this.entries.size;
  }

  private cheapReason(p: Presence): PresenceDrop | null {
    if (p.origin === this.opts.self) return 'own';
    const held = this.entries.get(p.origin)?.statement;
    if (held && held.seq === p.seq) return 'duplicate';
    if (held && held.seq > p.seq) return 'stale';
    if (!held && !this.roomForOne()) return 'over-limit';
    return null;
  }

  /** Room for a new origin: the longest-silent entry that is not here makes way; those here never do. */
  private roomForOne(): boolean {
    if (this.entries.size < (this.opts.maxOrigins ?? MAX_PRESENCE_ORIGINS)) return true;
    for (const [origin, e] of this.entries) {
      if (e.here) continue;
      this.entries.delete(origin);
      this.buckets.delete(origin);
      return true;
    }
    return false;
  }
}

function changeOf(before: Entry | undefined, p: Presence): PresenceChange {
  const wasHere = before?.here ?? false;
  if (p.kind === 'gone') return wasHere ? 'left' : 'none';
  if (!wasHere) return 'arrived';
  if (before!.statement.name !== p.name) return 'renamed';
  return before!.statement.status === p.status ? 'none' : 'status';
}
