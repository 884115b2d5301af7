import { err, ok, type Result } from '../result.ts';

/**
 * Lazy gossip (gossipsub's IHAVE / IWANT): eager push over a bounded mesh
 * stops at the hop limit and at links that break mid-flood; every heartbeat
 * each peer also tells its neighbours the ids of the statements it took in
 * lately, and a neighbour that lacks one asks for it. A statement pulled this
 * way is recent again at the puller, so it keeps spreading one hop per
 * heartbeat until everyone holds it. Pure: the caller passes the clock.
 *
 * An id names one signed statement: `origin:fileId:seq` (the seen-cache key).
 */

/** gossipsub's heartbeat: often enough that a gap heals in seconds, rare enough to cost nothing idle. */
export const HEARTBEAT_MS = 1_000;
/** gossipsub's history_gossip is 3 heartbeats: ids are advertised that long after we took them in. */
export const IHAVE_WINDOW_MS = 3 * HEARTBEAT_MS;
/** Ids per IHAVE or IWANT: ~100 bytes each, so one frame stays well under the 32 KiB JSON limit. */
export const MAX_LAZY_IDS = 256;
/** An id asked for is not asked again (of anyone) before this: one answer is expected, not one per neighbour. */
export const IWANT_TIMEOUT_MS = 3 * HEARTBEAT_MS;

const ID_RE = /^([A-Za-z0-9_-]{16}):([0-9a-f]{64}):(\d{1,16})$/;

export interface StatementId {
  origin: string;
  fileId: string;
  seq: number;
}

export const statementId = (origin: string, fileId: string, seq: number): string => `${origin}:${fileId}:${seq}`;

export function parseStatementId(id: string): StatementId | null {
  const m = ID_RE.exec(id);
  if (!m) return null;
  const seq = Number(m[3]);
  return Number.isSafeInteger(seq) ? { origin: m[1]!, fileId: m[2]!, seq } : null;
}

/** An IHAVE or IWANT body: a list of at most MAX_LAZY_IDS well-formed ids. Anything else is proof of a bad peer. */
export function parseLazyIds(json: unknown): Result<StatementId[], 'ERR_BAD_GOSSIP'> {
  if (!Array.isArray(json)) return err('ERR_BAD_GOSSIP', 'lazy gossip is not a list');
  if (json.length > MAX_LAZY_IDS) return err('ERR_BAD_GOSSIP', `lazy gossip lists ${json.length} ids (max ${MAX_LAZY_IDS})`);
  const ids: StatementId[] = [];
  for (const item of json) {
    const id = typeof item === 'string' ? parseStatementId(item) : null;
    if (!id) return err('ERR_BAD_GOSSIP', 'malformed statement id in lazy gossip');
    ids.push(id);
  }
  return ok(ids);
}

/** Statements taken in lately, and whom each came from (no point advertising it back to them). */
export class LazyWindow {
  private recent = new Map<string, { at: number; from: string | null }>();
  private asked = new Map<string, number>();
  private served = new Map<string, number>();

  note(id: string, from: string | null, now: number): void {
    this.recent.delete(id); // re-insert: Map order stays oldest-first
    this.recent.set(id, { at: now, from });
  }

  /** The ids to advertise to `neighbour`: taken in within the window and not from it, newest kept when over the cap. */
  ihave(neighbour: string, now: number): string[] {
    this.expire(now);
    const ids = [...this.recent].filter(([, r]) => r.from !== neighbour).map(([id]) => id);
    return ids.slice(-MAX_LAZY_IDS);
  }

  /** Of ids we lack, those not asked for lately; they are marked asked. */
  toAsk(lacking: readonly string[], now: number): string[] {
    this.expire(now);
    const out: string[] = [];
    for (const id of lacking) {
      if ((this.asked.get(id) ?? -Infinity) + IWANT_TIMEOUT_MS > now) continue;
      this.asked.set(id, now);
      out.push(id);
    }
    return out;
  }

  /**
   * Whether to answer `peer`'s IWANT for `id`: once per IWANT_TIMEOUT_MS per
   * (peer, id), like gossipsub's retransmission limit, so a peer repeating an
   * IWANT cannot turn a small frame into a stream of our statements.
   */
  mayServe(peer: string, id: string, now: number): boolean {
    this.expire(now);
    const key = `${peer}|${id}`;
    if (this.served.has(key)) return false;
    this.served.set(key, now);
    return true;
  }

  get size(): number {
    return this.recent.size;
  }

  private expire(now: number): void {
    for (const [id, r] of this.recent) {
      if (r.at + IHAVE_WINDOW_MS > now) break;
      this.recent.delete(id);
    }
    for (const [id, at] of this.asked) if (at + IWANT_TIMEOUT_MS <= now) this.asked.delete(id);
    for (const [key, at] of this.served) if (at + IWANT_TIMEOUT_MS <= now) this.served.delete(key);
  }
}
