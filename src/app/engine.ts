import { floods } from '../core/gossip/audience.ts';
import { HEARTBEAT_MS } from '../core/gossip/lazy.ts';
import { pageStatus } from '../core/gossip/presence.ts';
import { Availability, type PieceView } from '../core/swarm/availability.ts';
import { createPeerManager, type PeerManager } from '../net/peer-manager.ts';
import { Audiences } from './audience.ts';
import { AutoFetch } from './auto-fetch.ts';
import { DraftFetches } from './draft-fetch.ts';
import { DraftShares } from './draft-share.ts';
import { engineTick } from './engine-tick.ts';
import { Downloads } from './downloads.ts';
import type { Engine, EngineDeps } from './engine-types.ts';
import { createHoldings } from './holdings.ts';
import { JoinTimeline, timedRelay } from './join-timeline.ts';
import { wireFileLinks } from './file-links.ts';
import { createIntents } from './intents.ts';
import { Library } from './library.ts';
import { LinkRoutes } from './link-routes.ts';
import { createLinkSessions } from './link-sessions.ts';
import { MeshSignals } from './mesh-signals.ts';
import { createPeerDiscipline } from './peer-discipline.ts';
import { PeerMarks } from './peer-marks.ts';
import { RelayLink } from './relay-link.ts';
import { resumeStoredFiles } from './resume-files.ts';
import { RoomGossip } from './room-gossip.ts';
import { RoomMembers } from './room-members.ts';
import { RoomPresence } from './room-presence.ts';
import { RoomQueries } from './room-query.ts';
import { PeopleRoster } from './roster.ts';
import type { Session } from './session.ts';
import { buildState, Notices, type AppState, type EngineInternals } from './state.ts';
import { keepUnchanged } from './view-reuse.ts';
import { StorageBudget } from './storage-budget.ts';
import { Uploader } from './uploader.ts';

export type { Engine, EngineDeps, EngineStats } from './engine-types.ts';

/** One tick is one lazy-gossip heartbeat (IHAVE to neighbours). */
const TICK_MS = HEARTBEAT_MS;

/**
 * The one place everything is wired: relay client, mesh, gossip, catalogue,
 * availability, library, downloads and uploads. It exposes state for the UI
 * and intents the UI calls; it knows nothing of the DOM, WebRTC or IndexedDB
 * (all passed in), so Node tests drive the same engine over in-memory links
 * and a fake clock.
 */
export function createEngine(deps: EngineDeps): Engine {
  const self = deps.self.id;
  const timeline = deps.timeline ?? new JoinTimeline(deps.now);
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((fn) => fn());
  /** The state last read: views that did not change since keep their objects, so the screen skips them by identity. */
  let shown: AppState | null = null;
  /** Who is in the room changed (as well as what the page shows): the member set is made afresh. */
  const membersChanged = () => {
    members.changed();
    changed();
  };
  const notices = new Notices(changed);
  const sessions = new Map<string, Session>();
  /** Peers on a link whose HELLO is checked. */
  const openPeers = () => [...sessions.values()].filter((s) => s.ready).map((s) => s.id);
  /**
   * Links our HELLO and catalogue have gone out on. Everything we say about
   * ourselves (announcements, HAVEs) goes to all of them: what we say after a
   * link's catalogue sync must reach it too, even before its HELLO is checked.
   */
  const startedSessions = () => [...sessions.values()].filter((s) => s.started);
  let peers: PeerManager | undefined;
  const marks = new PeerMarks({ store: deps.store, room: deps.room, selfKey: deps.self.publicKey, sha256: deps.sha256, changed });
  const discipline = createPeerDiscipline({ sessions, marks, notices, peers: () => peers, presence: () => presence, gossip: () => gossip, changed: membersChanged });
  const roster = new PeopleRoster({
    store: deps.store, wallClock: deps.wallClock, changed: membersChanged, failed: (text) => notices.error(text), blockChanged: discipline.blockChanged,
  });
  /** When the page was hidden (monotonic ms), null while it is shown: our presence status (pageStatus). */
  let hiddenSince: number | null = null;
  let closed = false;
  let uploadedBytes = 0;
  const present = (): ReadonlySet<string> => peers?.present() ?? new Set();
  const neighbours = () => startedSessions().map((s) => s.id);
  const members = new RoomMembers({ present, linked: openPeers, here: () => presence.here(), blocked: (p) => roster.isBlocked(p) });
  /** What a peer said about its files is forgotten once nothing says it is here: no link, not listed by the relay, no fresh presence. */
  const forgetIfGone = (peer: string) => {
    if (!sessions.has(peer) && !present().has(peer) && !presence.isHere(peer)) gossip.peerGone(peer);
  };
  /** This page load's start: the first seq of our statements, so peers can tell a reload from a lagging copy. */
  const since = Math.floor(deps.wallClock());
  const presence: RoomPresence = new RoomPresence({
    self: deps.self, room: deps.room, since, verify: deps.verify, idOf: deps.idOf, neighbours, members: members.get,
    send: (peer, json) => sessions.get(peer)?.send({ type: 'presence', json }),
    now: deps.now, wallClock: deps.wallClock, name: () => intents.name(),
    status: () => pageStatus(hiddenSince, deps.now()), refused: (origin) => roster.isBlocked(origin),
    ban: discipline.ban,
    departed: forgetIfGone,
    // Someone we may never have heard of from the relay (a sampled welcome, or the relay away): a mesh candidate.
    arrived: (id) => peers?.learn([id]),
    restarted: (origin, start) => gossip.restarted(origin, start),
    changed: membersChanged,
  });

  const gossip = new RoomGossip({
    self: deps.self, verify: deps.verify, idOf: deps.idOf, sha256: deps.sha256, neighbours, linked: openPeers, members: members.get, since,
    pending: (origin) => presence.pending(origin), sessionStart: (origin) => presence.book.since(origin),
    send: (peer, m) => sessions.get(peer)?.send(m),
    now: deps.now, wallClock: deps.wallClock,
    added: (origin, fileId) => {
      fetches.onAdded(origin, fileId);
      rules.added();
    },
    taken: (a) => audiences.taken(a),
    changed: () => {
      announcers.clear();
      availability.invalidate();
      for (const d of downloads.all()) for (const p of openPeers()) d.peerUpdated(p);
      changed();
    },
    ban: discipline.ban,
  });
  const queries = new RoomQueries({
    self, name: () => intents.name(), neighbours, members: members.get, statements: () => gossip.catalogue.announcements(),
    // A query's asker is unknown: only statements for the whole room answer it (core/gossip/audience.ts).
    answerable: (a) => floods(a.file.audience),
    send: (peer, m) => sessions.get(peer)?.send(m), merge: (from, hits) => gossip.receiveHits(from, hits),
    ban: discipline.ban, now: deps.now, randomBytes: deps.randomBytes,
  });
  /** The catalogue's whole-file holders per file, cached until the catalogue changes. */
  const announcers = new Map<string, ReadonlySet<string>>();
  const availability = new Availability({
    announcers: (fileId) => {
      let set = announcers.get(fileId);
      // A draft's origin is no whole-file holder: what it has, it says piece by piece.
      if (!set) announcers.set(fileId, (set = new Set(gossip.catalogue.wholeHolders(fileId))));
      return set;
    },
    linked: (peer) => sessions.get(peer)?.ready ?? false,
  });

  const library = new Library(deps.store, deps.sha256, deps.now, deps.room, {
    pieceLost: (file, _index, why) => holdings.pieceLost(file, why),
    persistFailed: (e) => notices.error(`Could not save file progress: ${e.message}`),
    readFailed: (file, index, why) => notices.error(`Could not read piece ${index} of ${file.meta.name} from storage (${why}); it is kept and tried again later.`),
    openElsewhere: deps.openElsewhere,
  }, deps.wait);
  const holdings = createHoldings({
    self, room: deps.room, library, gossip, downloads: () => downloads, audiences: () => audiences, notices, pieceStored: deps.pieceStored, changed,
  });
  const uploader = new Uploader({
    readPiece: (f, i) => library.readPiece(f, i),
    link: (p) => sessions.get(p)?.link,
    uploadsToUs: (p) => deps.now() - (sessions.get(p)?.lastData ?? -Infinity) < 10_000,
    served: (_peer, bytes) => {
      uploadedBytes += bytes;
    },
    throttle: deps.throttle,
  });

  const downloads: Downloads = new Downloads({
    library, availability, sha256: deps.sha256, now: deps.now, random: deps.random,
    openPeers: (fileId) => audiences.sources(fileId, openPeers()),
    send: (peer, m) => sessions.get(peer)?.send(m),
    expect: (peer, fileId, piece, length) => sessions.get(peer)?.expect(fileId, piece, length),
    cancel: (peer, fileId, piece) => sessions.get(peer)?.cancel(fileId, piece),
    misbehaved: discipline.strike,
    stored: holdings.pieceStored,
    completed: holdings.announce,
    dropped: holdings.dropped,
    changed,
    restrict: (fileId, view): PieceView => fetches.restrict(fileId, view),
    hold: (meta, manifest) => fetches.hold(meta, manifest),
  });
  const fetches: DraftFetches = new DraftFetches({
    library, catalogue: gossip.catalogue, downloads, verify: deps.verify, openPeers,
    send: (peer, m) => sessions.get(peer)?.send(m),
    misbehaved: discipline.strike,
  });
  const shares = new DraftShares({
    library, sha256: deps.sha256, self: deps.self, randomBytes: deps.randomBytes, now: deps.now, wallClock: deps.wallClock,
    announce: holdings.offer,
    send: (peer, m) => sessions.get(peer)?.send(m),
    stored: holdings.pieceStored,
    changed,
  });

  const audiences = new Audiences({
    self, library, downloads: () => downloads, gossip, sessions, announce: holdings.announce, changed,
    here: (peer) => (present().has(peer) || presence.isHere(peer)) && !roster.isBlocked(peer), since: (peer) => presence.book.since(peer),
  });

  /** Signalling through our neighbours while the relay is away (the relay connector chooses). */
  const meshSignals = new MeshSignals({
    self: deps.self, topic: deps.room, verify: deps.verify, idOf: deps.idOf, neighbours: openPeers,
    send: (peer, m) => sessions.get(peer)?.send(m), now: deps.now, randomBytes: deps.randomBytes,
    ban: discipline.ban, failed: (message) => notices.error(message),
  });

  /** Each open link's route (direct or through TURN), for the peer list. */
  const routes = new LinkRoutes(changed);

  const linkSessions = createLinkSessions({
    deps, sessions, timeline, routes, library, availability, uploader, downloads, audiences, shares, fetches, gossip, queries, presence,
    meshSignals, marks, roster, notices, peers: () => peers, name: () => intents.name(), forgetIfGone, ban: discipline.ban, changed: membersChanged,
  });

  const relay = new RelayLink({
    connect: (h) => timedRelay(deps.connectRelay, timeline)(h, meshSignals), peers: () => peers, gossip, presence, forgetIfGone, sessionIds: () => sessions.keys(), notices, changed: membersChanged,
  });

  const budget = new StorageBudget(deps.storage, notices);
  const intents = createIntents({
    deps, library, downloads, gossip, notices, roster, budget, changed, announce: holdings.announce, dropped: holdings.dropped, shares, fetches, audiences,
    sendHello: (name) => {
      for (const s of sessions.values()) if (s.started) linkSessions.sendHello(s, name);
      presence.restate();
    },
  });

  const rules = new AutoFetch({
    store: deps.store, room: deps.room, self, catalogue: gossip.catalogue, library, downloads, free: () => budget.free(),
    download: (fileId) => intents.download(fileId, { save: false }), cancel: intents.cancel, remove: intents.remove,
    wallClock: deps.wallClock, randomBytes: deps.randomBytes, notices, changed,
  });
  const links = wireFileLinks({ library, catalogue: gossip.catalogue, downloads, intents, changed });
  listeners.add(() => links.check());

  const ready = (async () => {
    presence.tick(); // our first statement, signed before links open
    // The relay's round trips overlap reading whom we refuse: what it says waits for the peer manager (RelayLink).
    relay.start();
    await Promise.all([marks.load(), roster.load()]).catch((e: Error) => {
      relay.close(); // not in the room without our bans: nobody would be answered
      throw e;
    });
    if (closed) return; // closed while reading: what the relay said meanwhile is not acted on
    timeline.mark('storage');
    peers = createPeerManager(
      {
        self, banned: [...marks.banned(), ...roster.blocked()], sendSignal: (to, data) => relay.send(to, data),
        createConnection: (opts, handlers) => {
          timeline.mark('dial');
          return deps.createConnection(opts, handlers);
        },
        now: deps.now, random: deps.random, onBattery: deps.onBattery,
      },
      {
        onOpen: linkSessions.opened, onFrame: (peer, bytes) => sessions.get(peer)?.receive(bytes, deps.now()), onClose: linkSessions.closed, onPresence: membersChanged,
        sendPrune: (peer, candidates) => sessions.get(peer)?.send({ type: 'prune', candidates }),
        incompatible: (peer, detail) => linkSessions.context.incompatible(peer, detail),
      },
    );
    relay.peersReady();
    await resumeStoredFiles({ library, downloads, notices, room: deps.room, announce: holdings.announce });
    timeline.mark('library');
    await rules.load(); // after the library: what is here already is never fetched again
    changed();
  })().catch((e: Error) => notices.error(`Could not read this browser's storage: ${e.message}`));

  const stopTicking = deps.every(TICK_MS, engineTick({ deps, sessions, peers: () => peers, gossip, presence, roster, routes, rules, downloads, uploader, audiences, changed }));

  const internals: EngineInternals = {
    self, room: deps.room, presence, library, catalogue: gossip.catalogue, availability, downloads, sessions, peers: () => peers, present, notices, marks, roster,
    imports: intents.imports, name: intents.name, route: (peer) => routes.via(peer), lost: (peer) => peers?.isLost(peer) ?? false, links, rules,
  };

  return {
    ...intents,
    // The person asking for a file makes it theirs: Undo of a rule that fetched it leaves it.
    download(fileId, opts) {
      rules.keepFile(fileId);
      return intents.download(fileId, opts);
    },
    addRule: (rule) => rules.addRule(rule),
    removeRule: (ruleId) => rules.removeRule(ruleId),
    undoRule: (ruleId) => rules.undoRule(ruleId),
    keepFile: (fileId) => rules.keepFile(fileId),
    // Before storage is loaded every file would look unknown, and a partial one would be fetched afresh.
    openFileLink: (fileId) => ready.then(() => links.open(fileId)),
    dismissFileLink: (fileId) => links.dismiss(fileId),
    searchRoom: (text) => queries.search(text),
    getState: () => (shown = keepUnchanged(shown, buildState(internals, { relay: relay.status, privacy: deps.privacy?.view() ?? 'unavailable', now: deps.now() }))),
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    stats: () => ({
      uploadedBytes, downloads: downloads.report(), imports: shares.stats(), gossip: gossip.stats(), presence: presence.stats(), droppedAvailability: availability.dropped, audienceRefused: audiences.refused, audienceOutsideHaves: audiences.outsideHaves, meshSignals: meshSignals.stats(), queries: queries.stats(),
      links: peers ? { ...peers.stats(), ...peers.meshStats() } : { iceRestarts: 0, replacedLost: 0 },
    }),
    ready,
    timeline: () => timeline.view(),
    internals,
    pageVisible(visible) {
      hiddenSince = visible ? null : (hiddenSince ?? deps.now());
      presence.tick(); // says so as soon as the budget allows
    },
    networkChanged() {
      if (closed) return;
      relay.reconnect();
      peers?.networkChanged();
      changed();
    },
    async setHideAddress(hidden) {
      if (!deps.privacy) return;
      // The choice applies at once; only remembering it for the next visit can fail.
      await deps.privacy.setHidden(hidden).catch((e: Error) => notices.error(`This browser could not remember the choice: ${e.message}`));
      // Links made before used the old policy: make them again (the peer already saw any address it was given).
      if (!closed) peers?.renewAll('ERR_ICE_POLICY');
      changed();
    },
    close() {
      closed = true;
      stopTicking();
      presence.leave();
      void roster.sync(); // best effort: whom we saw lately (a mark was stored when it was set)
      relay.close();
      peers?.close();
    },
  };
}
