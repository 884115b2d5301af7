import type { Announcement } from '../core/gossip/announcement.ts';
import { floods, makeAudience, mayKnow, widenWith, widenedBy, type Audience } from '../core/gossip/audience.ts';
import type { Manifest } from '../core/manifest/manifest.ts';
import { ReachLog, type HeldForAudience, type ReachPlan, type ReachView } from '../core/mesh/reach.ts';
import type { Result } from '../core/result.ts';
import { err, ok } from '../core/result.ts';
import type { Downloads } from './downloads.ts';
import type { Library, LocalFile } from './library.ts';
import type { RoomGossip } from './room-gossip.ts';
import type { Session } from './session.ts';

/**
 * Files shared with chosen people, as this peer applies the rules of
 * core/gossip/audience.ts: whom we tell what we hold of a file (HAVE,
 * BITFIELD), whom we serve its manifest and pieces, whom a download may ask,
 * and what a widening does to a file we hold. The audience of a file we hold
 * is its library record's (it survives a reload); of one we only fetch, its
 * download's (from the statement it started from).
 *
 * Someone outside a file's audience is answered exactly as for a file we do
 * not have; that is counted (`refused`), never punished: an id can be
 * guessed, or known from before it was widened.
 */
export interface AudiencesDeps {
  self: string;
  library: Library;
  downloads(): Downloads;
  gossip: RoomGossip;
  sessions: ReadonlyMap<string, Session>;
  /** In the room now (relay, presence, links): a chosen person we may reach. */
  here(peer: string): boolean;
  /** The start of a peer's page load, from its presence: a reload makes it untold. */
  since(peer: string): number | undefined;
  /** Re-announces a file we hold (engine's announce: only whole files of this room). */
  announce(local: LocalFile): void;
  changed(): void;
}

export class Audiences {
  /** Asks from outside a file's audience, answered as for a file we do not have. */
  refused = 0;
  /** HAVE and BITFIELD for a file with an audience, from someone outside it: dropped, so they never show as a holder. */
  outsideHaves = 0;
  private readonly reached = new ReachLog();

  constructor(private readonly deps: AudiencesDeps) {}

  audienceOf(fileId: string): Audience {
    return (this.deps.library.get(fileId) ?? this.deps.downloads().get(fileId))?.meta.audience;
  }

  /** May `peer` learn anything of this file from us: its manifest, pieces, what we hold, that we have it? */
  mayKnow(peer: string, fileId: string): boolean {
    return mayKnow(this.audienceOf(fileId), peer);
  }

  /** A file we serve to `peer`: of this room, held, and `peer` may know of it; else undefined (counted when it is the audience). */
  servable(peer: string, fileId: string): LocalFile | undefined {
    const local = this.deps.library.servable(fileId);
    if (!local || mayKnow(local.meta.audience, peer)) return local;
    this.refused++;
    return undefined;
  }

  /** A verified manifest that bounds `peer`'s piece numbers: none for an outsider, who must not learn its length. */
  manifestFor(peer: string, fileId: string): Manifest | undefined {
    return this.mayKnow(peer, fileId) ? this.deps.library.get(fileId)?.manifest : undefined;
  }

  /** The links that may hear what we hold of a file: every started one for a room file, proven members for a chosen audience. */
  hearers(fileId: string): Session[] {
    const audience = this.audienceOf(fileId);
    const sessions = [...this.deps.sessions.values()];
    return floods(audience) ? sessions.filter((s) => s.started) : sessions.filter((s) => s.ready && audience!.includes(s.id));
  }

  /** Of `peers`, those a download of the file may ask (its audience, when it has one). */
  sources(fileId: string, peers: string[]): string[] {
    const audience = this.audienceOf(fileId);
    return floods(audience) ? peers : peers.filter((p) => audience!.includes(p));
  }

  /**
   * A HAVE or BITFIELD from `peer`: taken unless the file has an audience
   * (ours, or the statement we heard) that `peer` is outside of. Counted, not
   * punished: an outsider may hold it from before a widening, or guess.
   */
  takesHave(peer: string, fileId: string): boolean {
    const audience = this.audienceOf(fileId) ?? this.deps.gossip.catalogue.meta(fileId)?.audience;
    if (mayKnow(audience, peer)) return true;
    this.outsideHaves++;
    return false;
  }

  /**
   * Whom the peer manager links to so they hear of files we hold for them
   * (core/mesh/reach.ts): the chosen people here we have no proven link to
   * and have not told, and those told (their links stay while in use).
   */
  reach(): ReachPlan {
    return this.reached.plan(this.reachView());
  }

  private reachView(): ReachView {
    const files: HeldForAudience[] = [];
    for (const f of this.deps.library.roomFiles()) {
      const audience = f.meta.audience;
      if (audience && f.have.count > 0 && this.deps.library.servable(f.meta.id)) files.push({ fileId: f.meta.id, audience });
    }
    const { here, since, sessions, gossip } = this.deps;
    return {
      self: this.deps.self, files, here, since,
      proven: (peer) => sessions.get(peer)?.ready ?? false,
      holdsWhole: (peer, fileId) => gossip.catalogue.wholeHolders(fileId).includes(peer),
    };
  }

  /** `session` proved who it is: the statements meant for it, and our partial files it may know of. */
  proven(session: Session): void {
    this.reached.note(this.reachView());
    this.deps.gossip.syncAudienceTo(session.id);
    for (const f of this.deps.library.roomFiles()) {
      if (floods(f.meta.audience) || !mayKnow(f.meta.audience, session.id)) continue; // room files went at link open
      if (!f.have.complete && f.have.count > 0 && this.deps.library.servable(f.meta.id)) session.send({ type: 'bitfield', fileId: f.meta.id, bits: f.have.bytes });
    }
  }

  /** The audience for files we share now with `chosen` (we are in it too). */
  choose(chosen: readonly string[]): Result<string[]> {
    return makeAudience(this.deps.self, chosen);
  }

  /**
   * The person widens the audience of a file we hold in this room: to more
   * people, or to the whole room ('room'). Our newer statement says so.
   */
  widen(fileId: string, more: readonly string[] | 'room'): Result<true> {
    const local = this.deps.library.inRoom(fileId);
    if (!local) return err('ERR_UNKNOWN', 'the file is not here');
    const next = more === 'room' ? ok(undefined) : widenWith(local.meta.audience, more);
    if (!next.ok) return next;
    this.apply(local, next.value);
    return ok(true);
  }

  /** A newer statement from someone else: if it widens the audience of a file we hold, so do we (core/gossip/audience.ts widenedBy). */
  taken(a: Announcement): void {
    const local = this.deps.library.get(a.file.id);
    if (!local || a.kind !== 'add') return;
    const next = widenedBy(local.meta.audience, a.origin, a.file.audience);
    if (next !== null) this.apply(local, next);
  }

  private apply(local: LocalFile, next: Audience): void {
    const before = local.meta.audience;
    this.deps.library.setAudience(local.meta.id, next);
    if (local.meta.draft !== undefined && local.source === 'shared') void this.deps.gossip.announce('add', local.meta); // our draft, still hashing
    else if (local.have.complete) this.deps.announce(local);
    else if (local.have.count > 0 && this.deps.library.servable(local.meta.id)) {
      // A partial copy: those newly let in hear what we hold, as every member did.
      for (const s of this.hearers(local.meta.id)) if (!mayKnow(before, s.id)) s.send({ type: 'bitfield', fileId: local.meta.id, bits: local.have.bytes });
    }
    this.deps.changed();
  }
}
