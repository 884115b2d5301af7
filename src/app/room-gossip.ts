import { toBase64Url } from '../core/bytes.ts';
import {
  MAX_HOPS, parseAnnouncement, signAnnouncement, verifyAnnouncement, type Announcement,
} from '../core/gossip/announcement.ts';
import { floods, judgeDelivery, mayKnow, recipients } from '../core/gossip/audience.ts';
import { Catalogue } from '../core/gossip/catalogue.ts';
import { packByBytes } from '../core/gossip/pack.ts';
import { GossipRules, type Situation } from '../core/gossip/rules.ts';
import type { Sha256 } from '../core/hash.ts';
import { draftIdFor } from '../core/manifest/draft.ts';
import type { FileMeta } from '../core/manifest/manifest.ts';
import { MAX_JSON_BYTES } from '../core/wire/frames.ts';
import { LazyPull } from './lazy-pull.ts';

/**
 * The room's catalogue as this peer knows it, kept by signed gossip. Our own
 * announcements are signed and sent to every neighbour; anyone's are
 * verified, judged by core/gossip/rules.ts (who may say what, what it costs,
 * where it goes on) and applied to the catalogue; a new neighbour gets every
 * statement we hold. Links are only banned on proof: malformed JSON, an
 * origin that is not its key's id, a bad signature. Load is dropped and
 * counted, never punished.
 *
 * Statements about a file shared with chosen people (core/gossip/audience.ts)
 * never enter the flood: they go in AUDIENCE frames to the members of their
 * audience we have a proven link to, now or when the link is proven
 * (syncAudienceTo), and are never forwarded, listed in IHAVE or served by IWANT.
 */
export interface RoomGossipDeps {
  self: { id: string; publicKey: Uint8Array; sign(data: Uint8Array): Promise<Uint8Array> };
  verify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /** Checks that a draft's id is bound to its origin. */
  sha256: Sha256;
  idOf(publicKey: Uint8Array): string;
  /** Open links. */
  neighbours(): string[];
  /** Links whose HELLO proved the peer's identity: only these may hear statements with an audience. */
  linked(): string[];
  /** Present in the room: the relay's word, neighbours, and presence by gossip. */
  members(): ReadonlySet<string>;
  send(peer: string, m: { type: 'gossip' | 'catalogue' | 'audience' | 'ihave' | 'iwant'; json: unknown }): void;
  /** Monotonic clock (ms) for budgets and the seen cache. */
  now(): number;
  /** Wall clock (ms), for our own seq numbers, so they keep growing across reloads. */
  wallClock(): number;
  /** The catalogue changed (UI refresh). */
  changed(): void;
  /** Only on proof: malformed shape, bad signature, origin/key mismatch. */
  ban(peer: string, code: string, detail: string): void;
  /** `origin` has just become a holder of `fileId` (a download may gain a source). */
  added?(origin: string, fileId: string): void;
  /** A newer statement from someone else was taken in (it may widen the audience of a file we hold). */
  taken?(a: Announcement): void;
  /** Wall-clock ms our session began: our seqs start there, so peers that heard our presence take them as this session's. */
  since?: number;
  /** When `origin`'s current session began, by its presence: anything it said before is stale. */
  sessionStart?(origin: string): number | undefined;
  /** A presence statement from `origin` still being verified (room-presence.ts): judged first, it may make the origin a member. */
  pending?(origin: string): Promise<void> | undefined;
  /** Per-origin budget, for tests; defaults in core/gossip/rules.ts. */
  limits?: { burst?: number; perSecond?: number };
}

export class RoomGossip {
  readonly catalogue = new Catalogue();
  private readonly rules: GossipRules;
  private readonly pull: LazyPull;
  private lastSeq: number;

  constructor(private readonly deps: RoomGossipDeps) {
    const { self } = deps;
    // A getter: the engine may only learn its signing id after startup (see EngineDeps.identity).
    this.rules = new GossipRules({ get self() { return self.id; }, ...deps.limits });
    this.lastSeq = (deps.since ?? 1) - 1;
    this.pull = new LazyPull({ ...deps, catalogue: this.catalogue, rules: this.rules });
  }

  /**
   * Signs and sends our own statement about a file to every neighbour. False when the
   * room cannot take it: we already offer MAX_FILES_PER_ORIGIN files (every peer would drop it).
   */
  async announce(kind: Announcement['kind'], meta: FileMeta, was?: string): Promise<boolean> {
    // Taken before the await: statements made in order keep their order.
    const seq = (this.lastSeq = Math.max(this.lastSeq + 1, Math.floor(this.deps.wallClock())));
    const { self } = this.deps;
    const a = await signAnnouncement(
      { origin: self.id, key: toBase64Url(self.publicKey), seq, kind, file: meta, hops: MAX_HOPS, ...(was === undefined ? {} : { was }) },
      (data) => self.sign(data),
    );
    const applied = this.catalogue.apply(a);
    if (applied === 'over-limit') {
      this.rules.count('over-limit');
      return false;
    }
    if (applied === 'changed') this.deps.changed();
    if (a.file.audience) {
      this.deliver(a, recipients(a.file.audience, self.id, this.deps.linked()));
      return true;
    }
    const neighbours = this.deps.neighbours();
    this.pull.note(a, null);
    const sent = { ...a, hops: this.rules.originHops(neighbours, this.deps.members()) }; // hops are not signed
    for (const peer of this.rules.originate(sent, neighbours, this.deps.now())) this.deps.send(peer, { type: 'gossip', json: sent });
    return true;
  }

  /** One announcement from neighbour `from`: a GOSSIP frame (live, forwarded on) or one item of its catalogue sync. */
  async receive(from: string, json: unknown, live: boolean): Promise<void> {
    const parsed = parseAnnouncement(json);
    if (!parsed.ok) {
      this.rules.count('malformed');
      return this.deps.ban(from, 'ERR_BAD_GOSSIP', parsed.error);
    }
    if (!floods(parsed.value.file.audience)) return this.rules.count('misrouted');
    if ((await this.consider(from, parsed.value, live)) === 'changed') this.deps.changed();
  }

  /**
   * An AUDIENCE frame: statements about files shared with chosen people, sent
   * to us as one of them. Taken only when we and the sender are both in the
   * audience; never forwarded.
   */
  receiveAudience(from: string, json: unknown): Promise<void> {
    const self = this.deps.self.id;
    return this.receiveList(from, json, (a) => a.file.audience !== undefined && judgeDelivery(a.file.audience, self, from) === 'for-us');
  }

  /** A CATALOGUE frame: a neighbour's statements, bringing us up to date. Not forwarded. */
  receiveCatalogue(from: string, json: unknown): Promise<void> {
    return this.receiveList(from, json, (a) => floods(a.file.audience));
  }

  /** A list of statements not forwarded: each one that `fits` the way it came is considered; the others were misrouted. */
  private async receiveList(from: string, json: unknown, fits: (a: Announcement) => boolean): Promise<void> {
    const parsed = this.parseList(from, json);
    if (!parsed) return;
    let changed = false;
    for (const a of parsed) {
      if (!fits(a)) {
        this.rules.count('misrouted');
        continue;
      }
      const outcome = await this.consider(from, a, false);
      if (outcome === 'banned') return;
      changed = outcome === 'changed' || changed;
    }
    if (changed) this.deps.changed();
  }

  /**
   * Answers to our own room query (app/room-query.ts), passed along by
   * `from`: judged, verified and applied like any statement, never forwarded.
   * A bad signature is dropped and counted, not held against `from`: it only
   * passed the answer back from a peer we cannot name.
   */
  async receiveHits(from: string, hits: readonly Announcement[]): Promise<void> {
    let changed = false;
    for (const a of hits) {
      // A file shared with chosen people is never an answer to a query (core/gossip/audience.ts).
      if (!floods(a.file.audience)) this.rules.count('misrouted');
      else changed = (await this.consider(from, a, false, false)) === 'changed' || changed;
    }
    if (changed) this.deps.changed();
  }

  /** A list of announcements (CATALOGUE, AUDIENCE), or null after banning its sender for a malformed one (proof). */
  private parseList(from: string, json: unknown): Announcement[] | null {
    const fail = (error: string) => {
      this.rules.count('malformed');
      this.deps.ban(from, 'ERR_BAD_GOSSIP', error);
      return null;
    };
    if (!Array.isArray(json)) return fail('catalogue is not a list');
    const parsed: Announcement[] = [];
    for (const item of json) {
      const p = parseAnnouncement(item);
      if (!p.ok) return fail(p.error);
      parsed.push(p.value);
    }
    return parsed;
  }

  /**
   * Brings a newly connected neighbour up to date: every statement we hold
   * (all signed), tombstones included, but those with an audience, which
   * wait for its HELLO to prove who it is (syncAudienceTo).
   */
  syncTo(peer: string): void {
    const room = this.catalogue.announcements().filter((a) => floods(a.file.audience));
    const chunks = packByBytes(room, MAX_JSON_BYTES, () => this.rules.count('oversize'));
    for (const chunk of chunks) this.deps.send(peer, { type: 'catalogue', json: chunk });
  }

  /** `peer` proved who it is: the statements whose audience it is in (anyone's, tombstones too). */
  syncAudienceTo(peer: string): void {
    const chosen = this.catalogue.announcements().filter((a) => !floods(a.file.audience) && mayKnow(a.file.audience, peer));
    for (const chunk of packByBytes(chosen, MAX_JSON_BYTES, () => this.rules.count('oversize'))) this.deps.send(peer, { type: 'audience', json: chunk });
  }

  /** Our statement with an audience, to those of its members we are linked to. Not forwarded by them: hops 0. */
  private deliver(a: Announcement, peers: readonly string[]): void {
    for (const peer of peers) this.deps.send(peer, { type: 'audience', json: [{ ...a, hops: 0 }] });
  }

  /** Lazy gossip (app/lazy-pull.ts): every HEARTBEAT_MS, IHAVE to each neighbour. */
  heartbeat(): void {
    this.pull.heartbeat();
  }

  receiveIhave(from: string, json: unknown): void {
    this.pull.receiveIhave(from, json);
  }

  receiveIwant(from: string, json: unknown): void {
    this.pull.receiveIwant(from, json);
  }

  /** `origin` began a new session at `since` (a reload): what it said before goes. */
  restarted(origin: string, since: number): void {
    if (this.catalogue.dropBefore(origin, since)) this.deps.changed();
  }

  /** `peer` left the room: forget what it said. */
  peerGone(peer: string): void {
    this.rules.forget(peer);
    if (this.catalogue.removePeer(peer)) this.deps.changed();
  }

  /** After a relay (re)welcome: origins in none of `present` (the relay's list, links, presence) are gone. True if anything visible changed. */
  keepOnly(present: ReadonlySet<string>): boolean {
    const neighbours = new Set(this.deps.neighbours());
    let changed = false;
    for (const origin of this.catalogue.originIds()) {
      if (origin === this.deps.self.id || present.has(origin) || neighbours.has(origin)) continue;
      this.rules.forget(origin);
      changed = this.catalogue.removePeer(origin) || changed;
    }
    if (changed) this.deps.changed();
    return changed;
  }

  stats(): Record<string, number> {
    return { ...this.rules.counters, origins: this.catalogue.originIds().length, files: this.catalogue.entries().length };
  }

  private situation(a: Announcement): Situation {
    return {
      neighbours: this.deps.neighbours(), members: this.deps.members(), now: this.deps.now(),
      held: this.catalogue.latest(a.origin, a.file.id), since: this.deps.sessionStart?.(a.origin),
    };
  }

  /**
   * Screen, verify, admit, apply, forward. Seq decides, so the order verifications finish in does not matter.
   * `vouched`: `from` checked it before passing it on, as honest peers do with gossip, so a bad one is proof
   * against `from`; answers to a query are passed back unchecked, so a bad one is only dropped.
   */
  private async consider(from: string, a: Announcement, live: boolean, vouched = true): Promise<'changed' | 'unchanged' | 'banned'> {
    const presence = this.deps.pending?.(a.origin);
    if (presence) await presence;
    if (!this.rules.screen(a, this.situation(a)).ok) return 'unchanged';
    const verified = await verifyAnnouncement(a, (k, d, s) => this.deps.verify(k, d, s), (k) => this.deps.idOf(k));
    if (!verified.ok) {
      this.rules.count(verified.code);
      if (verified.code === 'verify-failed' || !vouched) return 'unchanged'; // our verifier failed, or `from` passed it on unchecked: no proof
      this.deps.ban(from, verified.code === 'bad-origin' ? 'ERR_BAD_ORIGIN' : 'ERR_BAD_SIGNATURE', verified.error);
      return 'banned';
    }
    // A draft id is bound to its origin (core/manifest/draft.ts): one that is not was made up, and honest peers check before forwarding.
    if (a.file.draft !== undefined && (await draftIdFor(a.origin, a.file.draft, this.deps.sha256)) !== a.file.id) {
      this.rules.count('bad-origin');
      if (!vouched) return 'unchanged';
      this.deps.ban(from, 'ERR_BAD_ORIGIN', `draft ${a.file.id.slice(0, 8)} is not bound to ${a.origin}`);
      return 'banned';
    }
    const verdict = this.rules.admit(a, from, live, this.situation(a));
    if (verdict.action === 'drop') return 'unchanged';
    const applied = this.catalogue.apply(a);
    if (applied === 'over-limit') {
      this.rules.count('over-limit');
      return 'unchanged';
    }
    if (floods(a.file.audience)) this.pull.note(a, from);
    this.deps.taken?.(a);
    for (const peer of verdict.forwardTo) this.deps.send(peer, { type: 'gossip', json: verdict.message });
    if (applied === 'changed' && a.kind === 'add') this.deps.added?.(a.origin, a.file.id);
    return applied === 'changed' ? 'changed' : 'unchanged';
  }
}
