import { BUDGET_RESERVE, BoundedMesh, isFullMeshRoom } from '../core/mesh/bounded.ts';
import { shouldDropOnLeave, type LinkState, type MeshView } from '../core/mesh/mesh.ts';
import { TRANSFER_IDLE_MS, planTransfers } from '../core/mesh/transfer.ts';
import type { Result } from '../core/result.ts';
import { isTransferFrame } from '../core/wire/frames.ts';
import type { PeerConnection } from './link.ts';
import type { MeshStats, PeerEvents, PeerManager, PeerManagerDeps } from './peer-manager-types.ts';
import { createOffers, type LinkEntry } from './peer-offers.ts';
import { PeerRole } from './peer-role.ts';
import { encodeEnvelope, type Purpose } from './signal-envelope.ts';

export type { MeshStats, PeerEvents, PeerManager, PeerManagerDeps } from './peer-manager-types.ts';

/** A link that has not opened by then will not: ICE gathering and checks take a few seconds at most. */
export const CONNECT_TIMEOUT_MS = 20_000;
/**
 * A link whose path is lost gets an ICE restart at once; one that has not found a
 * new path by then is replaced by a fresh link (new candidates, new TURN allocation).
 */
export const LOST_GIVE_UP_MS = 15_000;
/** A link open this long before it ended was a working link: its end starts a fresh count of tries. */
export const STABLE_LINK_MS = 30_000;
/** Failed links to a peer that is still here are retried this many times, then left until it rejoins. */
export const MAX_RETRIES = 3;
/** The pruner closes this long after its PRUNE if the other side has not: time for the frame to arrive (an idle notice too). */
export const PRUNE_GRACE_MS = 3_000;
/** Links that end for these reasons are not retried (until the peer joins again): another try ends the same way. */
const FINAL_CODES = new Set(['ERR_PEER_LEFT', 'ERR_BANNED', 'ERR_BLOCKED', 'ERR_SHUTDOWN', 'ERR_VERSION']);

/**
 * Keeps the room's mesh: applies the pure mesh rules (core/mesh) to what the
 * relay and the peers tell us, creates and destroys peer connections, and
 * routes signalling to them. Rooms of up to D_HIGH others are a full mesh
 * (the lower id dials); larger ones a bounded mesh (either side dials a
 * random candidate, offers may cross, a full peer refuses, an over-full one
 * prunes), plus transfer links to holders of what we download. Every
 * connection constructed is counted against the tab's budget (BoundedMesh).
 * Every way a peer ends goes through its connection's destroy(code).
 */
export function createPeerManager(deps: PeerManagerDeps, events: PeerEvents): PeerManager {
  const random = deps.random ?? Math.random;
  const present = new Set<string>();
  const banned = new Set<string>(deps.banned ?? []);
  const conns = new Map<string, LinkEntry>();
  /**
   * The link whose opening the engine was told of, per peer: the only one whose
   * frames and close reach it. A replaced link's late frames would otherwise
   * reach the newer link's session (its HELLO, signed for the old link, fails
   * there: a ban), and its close would end the newer session. A close is
   * told for this link or the current one (an attempt that never opened).
   */
  const told = new Map<string, LinkEntry>();
  const failures = new Map<string, number>();
  const wants = new Map<string, ReadonlySet<string>>();
  let reaching = { reach: new Set<string>(), keep: new Set<string>() };
  const counts = { iceRestarts: 0, replacedLost: 0 };
  const tally = { refused: 0, refusedBy: 0, pruned: 0, prunedBy: 0, crossed: 0, badSignals: 0, transferDialled: 0, reachDialled: 0 };
  const role = new PeerRole(deps, deps.now());
  const mesh = new BoundedMesh({ self: deps.self, bounds: role.bounds(random), budget: deps.budget });
  let closed = false;
  const offers = createOffers({
    self: deps.self, conns, banned, mesh, tally, now: deps.now, random, view: () => view(), closed: () => closed,
    open: (peer, initiator, purpose, yielded) => open(peer, initiator, purpose, yielded), end: (peer, code, detail) => end(peer, code, detail),
    forgive: (peer) => failures.delete(peer),
    sendSignal: deps.sendSignal, incompatible: events.incompatible,
  });

  const restart = (conn: PeerConnection) => {
    if (!conn.restartIce) return;
    counts.iceRestarts++;
    conn.restartIce();
  };
  const givenUp = (p: string) => (failures.get(p) ?? 0) > MAX_RETRIES;
  const fullMesh = () => isFullMeshRoom({ self: deps.self, present, links: new Map(), banned });

  /** In a full mesh every link is a mesh link; in a bounded one, transfer and pruned links are kept apart. */
  const view = (): MeshView => {
    const full = fullMesh();
    const links = new Map<string, LinkState>();
    const others = new Set<string>();
    for (const [p, e] of conns) {
      if (full || (e.purpose === 'mesh' && e.pruneAt === null)) links.set(p, e.state);
      else others.add(p);
    }
    // Peers we gave up on look banned to the planner until they rejoin.
    return { self: deps.self, present, links, others, banned: new Set([...banned, ...[...failures.keys()].filter(givenUp)]) };
  };

  const open = (peer: string, initiator: boolean, purpose: Purpose, yielded?: string, wins = false): PeerConnection => {
    const now = deps.now();
    // Dialling with fewer than D_LOW open links: a full peer may still take us (BoundedMesh.accept).
    const needy = initiator && purpose === 'mesh' && !fullMesh() && [...view().links.values()].filter((l) => l === 'open').length < mesh.bounds.low;
    const entry: LinkEntry = {
      state: 'connecting', since: now, lostSince: null, initiator, purpose, pruneAt: null, idleAt: null, ending: false, renewing: false,
      lastWork: now, conn: undefined as unknown as PeerConnection,
      ...(initiator ? { attempt: Math.floor(random() * 36 ** 8).toString(36) } : {}), ...(yielded === undefined ? {} : { yielded }),
      ...(wins && initiator ? { wins: true as const } : {}),
    };
    const ids = { ...(entry.attempt === undefined ? {} : { attempt: entry.attempt }), ...(yielded === undefined ? {} : { yielded }), ...(entry.wins ? { wins: entry.wins } : {}) };
    entry.conn = deps.createConnection(
      { initiator },
      {
        onSignal: (data) => deps.sendSignal(peer, encodeEnvelope({ kind: 'rtc', purpose: entry.purpose, dial: initiator, data, ...(needy ? { needy: true } : {}), ...ids })),
        onOpen: () => {
          if (conns.get(peer) !== entry) return entry.conn.destroy('ERR_REPLACED', 'a newer link to the peer took its place');
          told.set(peer, entry);
          entry.state = 'open';
          entry.since = deps.now();
          mesh.opened(peer);
          events.onOpen(peer, entry.conn);
          events.onPresence();
        },
        onFrame: (bytes) => {
          if (told.get(peer) !== entry) return;
          if (entry.purpose === 'transfer' && isTransferFrame(bytes)) entry.lastWork = deps.now();
          events.onFrame(peer, bytes);
        },
        onHealth: (lost) => {
          if (conns.get(peer) !== entry) return;
          if (lost === (entry.lostSince !== null)) return;
          entry.lostSince = lost ? deps.now() : null;
          if (lost) restart(entry.conn);
          events.onPresence();
        },
        onClose: (code, detail) => {
          const current = conns.get(peer) === entry;
          if (current) conns.delete(peer);
          if (current || told.get(peer) === entry) {
            told.delete(peer);
            events.onClose(peer, code, detail);
          }
          events.onPresence();
          ended(peer, entry, code);
        },
      },
    );
    conns.set(peer, entry);
    return entry.conn;
  };

  /** After a link closed: what its end means for retries and backoff. */
  const ended = (peer: string, entry: LinkEntry, code: string) => {
    if (closed || entry.ending) return; // a decision (prune, crossing, transfer done), not a failure
    const now = deps.now();
    const bounded = !fullMesh();
    if (entry.purpose === 'transfer') {
      // Only the downloader redials (another holder, or this one after a backoff).
      if (entry.initiator) mesh.failed(peer, now);
      return entry.initiator ? apply() : undefined;
    }
    if (FINAL_CODES.has(code) || banned.has(peer)) {
      // A bounded mesh re-plans every tick: it must not redial a peer that ends the same way each time.
      if (bounded && !banned.has(peer)) failures.set(peer, MAX_RETRIES + 1);
      return bounded ? apply() : undefined;
    }
    if (!entry.renewing) mesh.failed(peer, now);
    if (!present.has(peer)) return bounded ? apply() : undefined;
    // A link that failed while both of us are still here is retried, a few times.
    // A link that served a while earns fresh tries; one that opens and dies at once (the other side
    // refuses our hello, say) counts as a failure, or we would redial it in a tight loop.
    const served = entry.renewing || (entry.state === 'open' && now - entry.since >= STABLE_LINK_MS);
    failures.set(peer, served ? 1 : (failures.get(peer) ?? 0) + 1);
    apply();
  };

  /** Plans and acts; `quiet` (the heartbeat): tell the app only if something was done. */
  const apply = (quiet = false) => {
    if (closed) return;
    const now = deps.now();
    if (fullMesh()) for (const e of conns.values()) e.purpose = 'mesh'; // a room small again: every link is a mesh link
    const actions = mesh.plan(view(), now, random);
    for (const action of actions) {
      if (action.kind === 'connect') open(action.peer, true, 'mesh');
      else if (action.kind === 'prune') prune(action.peer, now);
      else destroyPeer(action.peer, action.reason === 'banned' ? 'ERR_BANNED' : 'ERR_PEER_LEFT');
    }
    const transfers = fullMesh() ? 0 : planTransferLinks(now);
    if (!quiet || actions.length + transfers > 0) events.onPresence();
  };

  /** Opens and closes transfer links as the downloads want; how many it touched. */
  const planTransferLinks = (now: number): number => {
    const wanted = new Set([...wants.values()].flatMap((s) => [...s]));
    const dialled = new Set([...conns].filter(([, e]) => e.purpose === 'transfer' && e.initiator).map(([p]) => p));
    const usable = (p: string) => !banned.has(p) && !givenUp(p) && !mesh.failing(p, now);
    const plan = planTransfers({ wanted, ...reaching, dialled, linked: (p) => conns.has(p), usable }, random);
    for (const p of plan.close) end(p, 'ERR_TRANSFER_DONE', 'nothing wanted from this peer any more');
    let opened = 0;
    for (const p of plan.open) {
      if (!mesh.spend(BUDGET_RESERVE)) break; // the rest of the budget repairs the mesh
      open(p, true, 'transfer');
      opened++;
      tally.transferDialled++;
      if (reaching.reach.has(p)) tally.reachDialled++;
    }
    return plan.close.length + opened;
  };

  /** Ends a link on purpose: its close is not a failure. */
  const end = (peer: string, code: string, detail: string) => {
    const e = conns.get(peer);
    if (!e) return;
    e.ending = true;
    e.conn.destroy(code, detail);
  };

  const prune = (peer: string, now: number) => {
    const e = conns.get(peer);
    if (!e) return;
    tally.pruned++;
    e.pruneAt = now;
    e.ending = true;
    events.sendPrune?.(peer, offers.exchange(peer));
  };

  const destroyPeer = (peer: string, code: string, detail?: string) => {
    conns.get(peer)?.conn.destroy(code, detail);
  };

  const learn = (peers: Iterable<string>) => mesh.learn([...peers].filter((p) => p !== deps.self && !banned.has(p)), random);

  return {
    welcome(peers, complete = true) {
      const now = new Set(peers);
      for (const p of complete ? [...present] : []) {
        if (now.has(p)) continue;
        present.delete(p);
        mesh.forget(p);
        // Presence never closes an open link (a link ends by itself when the peer goes); attempts stop.
        if (shouldDropOnLeave(view(), p)) destroyPeer(p, 'ERR_PEER_LEFT');
      }
      for (const p of peers) {
        present.add(p);
        failures.delete(p); // fresh word from the relay: links that failed during an outage get new tries
      }
      learn(peers);
      apply();
    },
    joined(peer) {
      present.add(peer);
      failures.delete(peer);
      learn([peer]);
      apply();
    },
    left(peer) {
      present.delete(peer);
      mesh.forget(peer);
      // The relay's word is not proof: an open link stays until it ends by itself; an attempt stops.
      if (shouldDropOnLeave(view(), peer)) destroyPeer(peer, 'ERR_PEER_LEFT');
      events.onPresence();
    },
    signal: (from, data) => offers.signal(from, data),
    learn(peers) {
      learn(peers);
      if (!fullMesh()) apply();
    },
    needsCandidates: () => !fullMesh() && mesh.needsCandidates(view().links, deps.now()),
    prunedBy(peer, candidates) {
      tally.prunedBy++;
      learn(candidates);
      mesh.pruned(peer, deps.now());
      end(peer, 'ERR_PRUNED', 'the peer pruned our link');
      apply();
    },
    wantSources(fileId, holders) {
      const next = new Set([...holders].filter((p) => p !== deps.self && !banned.has(p)));
      const before = wants.get(fileId);
      if (before && before.size === next.size && [...next].every((p) => before.has(p))) return;
      if (next.size === 0 && !before) return;
      if (next.size === 0) wants.delete(fileId);
      else wants.set(fileId, next);
      if (!fullMesh()) apply();
    },
    wantedFiles: () => [...wants.keys()],
    wantReach(reach, keep) {
      const next = { reach: new Set([...reach].filter((p) => p !== deps.self)), keep: new Set(keep) };
      const same = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((p) => b.has(p));
      if (same(next.reach, reaching.reach) && same(next.keep, reaching.keep)) return;
      reaching = next;
      if (!fullMesh()) apply();
    },
    ban(peer, code, detail) {
      banned.add(peer);
      destroyPeer(peer, code, detail);
    },
    unban(peer) {
      if (!banned.delete(peer)) return;
      failures.delete(peer);
      // Its tries went unanswered while it was refused: one may wait for an answer that will not come, or
      // it gave up on us. We dial it first, whatever kind of room each of us sees, with an attempt that
      // wins a crossing (peer-offers.ts); the plan below then counts it.
      if (present.has(peer) && !conns.has(peer) && mesh.spend()) open(peer, true, 'mesh', undefined, true);
      if (present.has(peer)) learn([peer]);
      apply();
    },
    destroyPeer,
    present: () => present,
    linkState: (peer) => conns.get(peer)?.state,
    purpose: (peer) => conns.get(peer)?.purpose,
    isBanned: (peer) => banned.has(peer),
    isLost: (peer) => conns.get(peer)?.lostSince != null,
    networkChanged() {
      for (const c of conns.values()) if (c.state === 'open') restart(c.conn);
      failures.clear();
      apply();
    },
    renewAll(code) {
      for (const [peer, e] of [...conns]) {
        e.renewing = true;
        destroyPeer(peer, code);
      }
    },
    tick(now) {
      for (const [peer, c] of [...conns]) {
        if (c.state === 'connecting' && now - c.since > CONNECT_TIMEOUT_MS) destroyPeer(peer, 'ERR_CONNECT_TIMEOUT');
        else if (c.pruneAt !== null && now - c.pruneAt >= PRUNE_GRACE_MS) destroyPeer(peer, 'ERR_PRUNED', 'we pruned the link');
        else if (c.idleAt !== null && now - c.idleAt >= PRUNE_GRACE_MS) end(peer, 'ERR_IDLE', 'no transfer asked for lately');
        else if (c.purpose === 'transfer' && !c.initiator && c.state === 'open' && c.idleAt === null && now - c.lastWork > TRANSFER_IDLE_MS) {
          offers.retireIdle(peer, c);
        } else if (c.lostSince !== null && now - c.lostSince > LOST_GIVE_UP_MS) {
          counts.replacedLost++;
          destroyPeer(peer, 'ERR_LINK_LOST', 'no new path was found');
        }
      }
      role.poll(now, [...conns.values()].filter((e) => e.purpose === 'mesh' && e.state === 'open'));
      const roleChanged = role.update(now);
      if (roleChanged) mesh.setBounds(role.bounds(random));
      // A bounded mesh is kept like gossipsub's heartbeat: backoffs run out, lost neighbours are replaced.
      if (!fullMesh()) apply(true);
    },
    stats: () => ({ ...counts }),
    meshStats() {
      let degree = 0;
      let transfer = 0;
      for (const e of conns.values()) {
        if (e.purpose === 'transfer') transfer++;
        else if (e.state === 'open' && e.pruneAt === null) degree++;
      }
      return { ...tally, ...mesh.usage(), degree, transfer, role: mesh.bounds.role };
    },
    close() {
      closed = true;
      for (const peer of [...conns.keys()]) destroyPeer(peer, 'ERR_SHUTDOWN');
    },
  };
}
