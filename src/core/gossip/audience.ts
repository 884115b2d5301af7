import { err, ok, type Result } from '../result.ts';

/**
 * Share with chosen people (issue 12, LionShare): the one place that says who
 * may learn of a file whose sharer chose its audience.
 *
 * An audience is a list of identities (peer ids, derived from identity keys),
 * sorted and without repeats so one set has one spelling (it is signed), at
 * most MAX_AUDIENCE of them, and always including whoever makes the statement
 * (a sharer, or a chosen downloader who re-announces). No audience means the
 * whole room, as before audiences existed.
 *
 * The rules, all pure:
 * - A statement with an audience reaches only the people in it, and only over
 *   a link whose HELLO proved that identity (the link is DTLS-encrypted end to
 *   end and bound to both identities: app/hello.ts). It never enters the flood
 *   (GOSSIP, CATALOGUE, IHAVE/IWANT). One that arrives there was misrouted by
 *   its sender and is dropped (counted): nothing honest sends it there.
 * - Whoever holds pieces of such a file serves its manifest and pieces, and
 *   sends HAVE/BITFIELD for it, only to people in the audience; anyone else is
 *   answered exactly as for a file we do not have.
 * - Widening: the audience may grow (more people) or end (the whole room), by
 *   a newer statement from someone already in it. It never shrinks: people
 *   once told cannot be made to forget.
 */
export const MAX_AUDIENCE = 64;

/** Who a file is for: undefined is the whole room. */
export type Audience = readonly string[] | undefined;

const PEER_ID_RE = /^[A-Za-z0-9_-]{16}$/;

/** The canonical audience of `chosen` plus `self` (the one making the statement), or why there is none. */
export function makeAudience(self: string, chosen: Iterable<string>): Result<string[]> {
  const ids = [...new Set([self, ...chosen])].sort();
  if (ids.some((id) => !PEER_ID_RE.test(id))) return err('bad-audience', 'an audience member is not a peer id');
  if (ids.length < 2) return err('bad-audience', 'nobody was chosen');
  if (ids.length > MAX_AUDIENCE) return err('bad-audience', `at most ${MAX_AUDIENCE - 1} people can be chosen`);
  return ok(ids);
}

/** Parses an audience from a peer: canonical (sorted, no repeats), 1..MAX_AUDIENCE peer ids. Never throws. */
export function parseAudience(v: unknown): Result<string[]> {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_AUDIENCE) return err('bad-announcement', 'audience is not a list of 1 to 64 ids');
  for (let i = 0; i < v.length; i++) {
    const id: unknown = v[i];
    if (typeof id !== 'string' || !PEER_ID_RE.test(id)) return err('bad-announcement', 'audience member is not a peer id');
    if (i > 0 && !((v[i - 1] as string) < id)) return err('bad-announcement', 'audience is not sorted without repeats');
  }
  return ok([...(v as string[])]);
}

/** May `peer` learn of a file with this audience (its name, size, id, pieces)? */
export const mayKnow = (audience: Audience, peer: string): boolean => audience === undefined || audience.includes(peer);

/** Does a statement with this audience go into the flood (GOSSIP, CATALOGUE, IHAVE/IWANT)? */
export const floods = (audience: Audience): boolean => audience === undefined;

/**
 * Who hears a statement with an audience from us: the members we have a
 * proven link to (linked: the peers whose HELLO we checked), never ourselves.
 */
export const recipients = (audience: readonly string[], self: string, linked: Iterable<string>): string[] =>
  [...linked].filter((peer) => peer !== self && audience.includes(peer));

/**
 * A statement with an audience, sent to us by `from`: what to do with it.
 * 'for-us' only when we are in it and so is the sender (an outsider could
 * hold it only if someone leaked it; taking it would not spread it further,
 * but it is no statement meant to reach us from there).
 */
export function judgeDelivery(audience: readonly string[], self: string, from: string): 'for-us' | 'not-for-us' | 'sender-outside' {
  if (!audience.includes(self)) return 'not-for-us';
  if (!audience.includes(from)) return 'sender-outside';
  return 'for-us';
}

/** Is `next` the same as or wider than `current` (a superset, or the whole room)? */
export function widens(current: Audience, next: Audience): boolean {
  if (next === undefined) return true;
  if (current === undefined) return false;
  const wider = new Set(next);
  return current.every((id) => wider.has(id));
}

/**
 * What we hold a file for (`current`), after a newer statement about it by
 * `origin` with audience `next`: the wider audience if the statement widens
 * it and comes from someone already in it, else null (no change). A
 * narrower one changes nothing: we keep serving those already told, and only them.
 */
export function widenedBy(current: Audience, origin: string, next: Audience): Audience | null {
  if (current === undefined || !current.includes(origin)) return null;
  if (!widens(current, next)) return null;
  if (next !== undefined && next.length === current.length) return null; // the same set
  return next;
}

/** The sorted union of an audience and more people; undefined stays the whole room. Bounded by MAX_AUDIENCE. */
export function widenWith(current: Audience, more: Iterable<string>): Result<string[] | undefined> {
  if (current === undefined) return ok(undefined);
  const ids = [...new Set([...current, ...more])].sort();
  return ids.length > MAX_AUDIENCE ? err('bad-audience', `an audience holds at most ${MAX_AUDIENCE} people`) : ok(ids);
}
