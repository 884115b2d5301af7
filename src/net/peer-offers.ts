import { BUDGET_RESERVE, isFullMeshRoom, sample, type BoundedMesh } from '../core/mesh/bounded.ts';
import { isInitiator, type LinkState, type MeshView } from '../core/mesh/mesh.ts';
import { MAX_SERVED_TRANSFERS } from '../core/mesh/transfer.ts';
import { ok, type Result } from '../core/result.ts';
import { MAX_PRUNE_CANDIDATES } from '../core/wire/frames.ts';
import type { PeerConnection } from './link.ts';
import { encodeEnvelope, parseEnvelope, type Purpose } from './signal-envelope.ts';

/**
 * The peer manager's side of signalling (envelopes in signal-envelope.ts):
 * who answers an offer, two offers that cross, refusals both ways, and the
 * members named to a peer we turn away (peer exchange).
 */
export interface LinkEntry {
  conn: PeerConnection;
  state: LinkState;
  since: number;
  lostSince: number | null;
  initiator: boolean;
  purpose: Purpose;
  /** When we sent our PRUNE (the link closes after PRUNE_GRACE_MS). */
  pruneAt: number | null;
  /** When we told the dialler of this transfer link that it is idle (it closes after PRUNE_GRACE_MS). */
  idleAt: number | null;
  /** We, or the peer by a PRUNE, ended it on purpose: its close is no failure. */
  ending: boolean;
  /** Made anew by renewAll: its end is no failure either. */
  renewing: boolean;
  /** Last transfer work (requests asked or served) on a transfer link. */
  lastWork: number;
  /** Our id for this attempt, when we dialled (signal-envelope.ts). */
  attempt?: string;
  /** The attempt of ours this answer replaced when offers crossed: the peer ignores that offer if it arrives late. */
  yielded?: string;
  /** Our attempt wins a crossing (we dialled on unblocking the peer: see unban in peer-manager.ts). */
  wins?: true;
}

export interface OfferTally {
  refused: number;
  refusedBy: number;
  crossed: number;
  badSignals: number;
}

export interface OfferContext {
  self: string;
  conns: ReadonlyMap<string, LinkEntry>;
  banned: ReadonlySet<string>;
  mesh: BoundedMesh;
  tally: OfferTally;
  now(): number;
  random(): number;
  view(): MeshView;
  closed(): boolean;
  open(peer: string, initiator: boolean, purpose: Purpose, yielded?: string): PeerConnection;
  /** Ends a link on purpose (no failure). */
  end(peer: string, code: string, detail: string): void;
  /** Forgets our failed tries to `peer`: links to it are tried afresh. */
  forgive(peer: string): void;
  sendSignal(to: string, data: string): void;
  /** The peer runs another version of meshdrop (told once per peer). */
  incompatible?(peer: string, detail: string): void;
}

export function createOffers(c: OfferContext) {
  const toldIncompatible = new Set<string>();
  /**
   * Attempts each peer dropped when its offer crossed ours and lost (its answer says which). Its
   * offer may still arrive after our link opened: taken as the peer starting over, it replaced a
   * working link with one answering a connection that no longer exists (and, in tests, a HELLO
   * check then failed on the next link: an honest peer banned). A few per peer: crossings are rare.
   */
  const stale = new Map<string, string[]>();
  const dropped = (peer: string, attempt: string) => stale.set(peer, [...(stale.get(peer) ?? []).slice(-3), attempt]);

  /** Up to MAX_PRUNE_CANDIDATES members to try instead of us: live neighbours first, then candidates. */
  const exchange = (except: string): string[] => {
    const neighbours = [...c.conns].filter(([p, e]) => p !== except && e.purpose === 'mesh' && e.state === 'open').map(([p]) => p);
    const pool = c.mesh.candidates().filter((p) => p !== except && !c.conns.has(p) && !c.banned.has(p));
    return [...sample(neighbours, MAX_PRUNE_CANDIDATES, c.random), ...sample(pool, MAX_PRUNE_CANDIDATES, c.random)].slice(0, MAX_PRUNE_CANDIDATES);
  };

  const refuse = (peer: string) => {
    c.tally.refused++;
    c.sendSignal(peer, encodeEnvelope({ kind: 'refuse', candidates: exchange(peer) }));
  };

  /** Our attempt was refused: back off from that peer, and try the members it named. */
  const refused = (peer: string, candidates: string[]) => {
    const e = c.conns.get(peer);
    if (!e || !e.initiator || e.state !== 'connecting') return; // not the answer to an attempt of ours: stale
    c.tally.refusedBy++;
    c.mesh.learn(candidates.filter((p) => p !== c.self && !c.banned.has(p)), c.random);
    if (e.purpose === 'mesh') c.mesh.pruned(peer, c.now());
    e.conn.destroy('ERR_REFUSED', 'the peer has no room for another link');
  };

  /**
   * The holder closes our transfer link as idle: we end it now, on purpose, so
   * its close is no failure (a failure would keep the holder from a new
   * download's links, and from the mesh, for FAIL_BACKOFF_MS). Only for a
   * transfer link we dialled and that is open: anything else is stale.
   */
  const idled = (peer: string) => {
    const e = c.conns.get(peer);
    if (!e || !e.initiator || e.purpose !== 'transfer' || e.state !== 'open') return;
    c.end(peer, 'ERR_IDLE', 'the holder closed the idle link');
  };

  /** An offer from a peer we hold no connection to; `crossed`: we dialled it too and yield. */
  const offered = (from: string, purpose: Purpose, data: string, crossed: boolean, needy = false, yielded?: string): void => {
    const now = c.now();
    const v = c.view();
    c.mesh.learn([from], c.random);
    const full = isFullMeshRoom(v);
    if (full && !crossed) {
      // Today's full mesh: only the lower id dials. The higher one dials us when it did not take our tries
      // (it had blocked us, and now has not: we may have given up on it): we take its offer, and try afresh.
      if (isInitiator(c.self, from)) c.forgive(from);
      if (c.mesh.accept(c.view(), from, now, c.random)) c.open(from, false, 'mesh').signal(data);
      return;
    }
    const served = [...c.conns.values()].filter((e) => e.purpose === 'transfer' && !e.initiator).length;
    const yes = crossed
      ? c.mesh.spend()
      : purpose === 'mesh'
        ? c.mesh.accept(v, from, now, c.random, needy)
        : served < MAX_SERVED_TRANSFERS && c.mesh.spend(BUDGET_RESERVE);
    if (!yes) return refuse(from);
    c.open(from, false, full ? 'mesh' : purpose, yielded).signal(data);
  };

  /** Which of two crossing attempts wins: one made on unblocking (`wins`), else the lower id's. */
  const oursWins = (ours: LinkEntry, theirsWin: boolean, from: string) => {
    const ourWins = ours.wins === true;
    return ourWins === theirsWin ? isInitiator(c.self, from) : ourWins;
  };

  /** A signalling message from `from`: a malformed one is dropped, counted, and comes back as an error. */
  const signal = (from: string, data: string): Result<void> => {
    const parsed = parseEnvelope(data);
    if (!parsed.ok) {
      c.tally.badSignals++;
      if (parsed.code === 'ERR_VERSION' && !toldIncompatible.has(from)) {
        toldIncompatible.add(from);
        c.incompatible?.(from, parsed.error);
      }
      return parsed;
    }
    const m = parsed.value;
    if (c.closed() || c.banned.has(from)) return ok(undefined);
    if (m.kind === 'refuse') return ok(refused(from, m.candidates));
    if (m.kind === 'idle') return ok(idled(from));
    if (m.yielded !== undefined) dropped(from, m.yielded);
    if (m.dial && m.attempt !== undefined && stale.get(from)?.includes(m.attempt)) return ok(undefined);
    const e = c.conns.get(from);
    // An answer reaches only our own attempt; one for a connection we no longer hold is stale.
    if (!m.dial) return ok(e?.initiator ? e.conn.signal(m.data) : undefined);
    if (!e) return ok(offered(from, m.purpose, m.data, false, m.needy));
    if (!e.initiator) return ok(e.conn.signal(m.data)); // its offer, candidates, ICE restarts
    // We both dialled. Two offers crossed: exactly one wins, by what both sides see alike (never by
    // the room's kind, on which they may disagree for a moment: then both gave way, and each answered
    // an attempt the other had dropped). An attempt made on unblocking wins (`wins`: its dialler
    // refused ours until then, so ours may wait for an answer that will not come); otherwise the
    // lower id's. The other side drops its own attempt (no failure) and answers. On a link we think
    // open: the peer started over.
    if (e.state === 'connecting' && oursWins(e, m.wins === true, from)) return ok(undefined);
    const wasOpen = e.state === 'open';
    c.tally.crossed++;
    c.end(from, wasOpen ? 'ERR_REPLACED' : 'ERR_CROSSED', wasOpen ? 'the peer made a new link' : 'its offer crossed ours and won');
    return ok(offered(from, m.purpose, m.data, !wasOpen, false, wasOpen ? undefined : e.attempt));
  };

  /**
   * A transfer link we answered asked for nothing lately: its dialler is told,
   * and ends it without counting a failure (idled); we close it after
   * PRUNE_GRACE_MS (peer-manager.ts), should its end not come first.
   */
  const retireIdle = (peer: string, e: LinkEntry) => {
    e.idleAt = c.now();
    e.ending = true;
    c.sendSignal(peer, encodeEnvelope({ kind: 'idle' }));
  };

  return { signal, exchange, retireIdle };
}
