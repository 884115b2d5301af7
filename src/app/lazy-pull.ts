import type { Announcement } from '../core/gossip/announcement.ts';
import { floods } from '../core/gossip/audience.ts';
import type { Catalogue } from '../core/gossip/catalogue.ts';
import { LazyWindow, parseLazyIds, statementId, type StatementId } from '../core/gossip/lazy.ts';
import type { GossipRules } from '../core/gossip/rules.ts';

export interface LazyPullDeps {
  /** A getter's object: the signing id may be learnt after startup (see RoomGossip). */
  self: { readonly id: string };
  catalogue: Catalogue;
  /** Where drops and malformed lists are counted (RoomGossip's rules). */
  rules: Pick<GossipRules, 'count'>;
  /** Open links. */
  neighbours(): string[];
  /** Present in the room: only members' statements are asked for. */
  members(): ReadonlySet<string>;
  send(peer: string, m: { type: 'gossip' | 'ihave' | 'iwant'; json: unknown }): void;
  now(): number;
  /** Only on proof: a malformed IHAVE or IWANT. */
  ban(peer: string, code: string, detail: string): void;
}

/**
 * Lazy gossip (core/gossip/lazy.ts), this peer's side: each heartbeat tells
 * every neighbour the ids of the statements we took in lately (IHAVE); a
 * neighbour's IHAVE is answered by asking for what we lack (IWANT), and its
 * IWANT by the statements themselves. Statements with an audience never take
 * this path (RoomGossip sends them in AUDIENCE frames only).
 */
export class LazyPull {
  private readonly window = new LazyWindow();

  constructor(private readonly deps: LazyPullDeps) {}

  /** A flooded statement taken in from `from` (null: our own): named in our next IHAVEs. */
  note(a: Announcement, from: string | null): void {
    this.window.note(statementId(a.origin, a.file.id, a.seq), from, this.deps.now());
  }

  /** Every HEARTBEAT_MS: tell each neighbour the ids of the statements we took in lately. */
  heartbeat(): void {
    const now = this.deps.now();
    for (const peer of this.deps.neighbours()) {
      const ids = this.window.ihave(peer, now);
      if (ids.length > 0) this.deps.send(peer, { type: 'ihave', json: ids });
    }
  }

  /** A neighbour's IHAVE: ask it for the statements we lack (newer than what we hold, from room members). */
  receiveIhave(from: string, json: unknown): void {
    const ids = this.lazyIds(from, json);
    if (!ids) return;
    const members = this.deps.members();
    const lacking = ids
      .filter((id) => id.origin !== this.deps.self.id && members.has(id.origin))
      .filter((id) => (this.deps.catalogue.latest(id.origin, id.fileId)?.seq ?? -1) < id.seq)
      .map((id) => statementId(id.origin, id.fileId, id.seq));
    const ask = this.window.toAsk(lacking, this.deps.now());
    if (ask.length > 0) this.deps.send(from, { type: 'iwant', json: ask });
  }

  /**
   * A neighbour's IWANT: each statement we still hold goes to it as live gossip
   * with one hop (it is not flooded on from there: the puller advertises it in
   * its own IHAVE, which is what keeps the pull spreading).
   */
  receiveIwant(from: string, json: unknown): void {
    const now = this.deps.now();
    for (const id of this.lazyIds(from, json) ?? []) {
      const held = this.deps.catalogue.latest(id.origin, id.fileId);
      // A statement with an audience is never served this way, whoever asks: an id can be guessed.
      if (held?.seq !== id.seq || !floods(held.file.audience) || !this.window.mayServe(from, statementId(id.origin, id.fileId, id.seq), now)) continue;
      this.deps.send(from, { type: 'gossip', json: { ...held, hops: 1 } });
    }
  }

  /** The ids of an IHAVE or IWANT, or null after banning its sender for a malformed list (proof). */
  private lazyIds(from: string, json: unknown): StatementId[] | null {
    const parsed = parseLazyIds(json);
    if (parsed.ok) return parsed.value;
    this.deps.rules.count('malformed');
    this.deps.ban(from, parsed.code, parsed.error);
    return null;
  }
}
