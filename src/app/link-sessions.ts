import type { Availability } from '../core/swarm/availability.ts';
import type { PeerConnection } from '../net/link.ts';
import type { PeerManager } from '../net/peer-manager.ts';
import type { Audiences } from './audience.ts';
import type { DraftFetches } from './draft-fetch.ts';
import type { DraftShares } from './draft-share.ts';
import type { Downloads } from './downloads.ts';
import type { EngineDeps } from './engine-types.ts';
import { checkHello, makeHello } from './hello.ts';
import type { JoinTimeline } from './join-timeline.ts';
import type { Library } from './library.ts';
import type { LinkRoutes } from './link-routes.ts';
import type { MeshSignals } from './mesh-signals.ts';
import type { PeerMarks } from './peer-marks.ts';
import type { RoomGossip } from './room-gossip.ts';
import type { RoomPresence } from './room-presence.ts';
import type { RoomQueries } from './room-query.ts';
import type { PeopleRoster } from './roster.ts';
import { Session, type SessionContext } from './session.ts';
import type { Notices } from './state.ts';
import type { Uploader } from './uploader.ts';

/** The engine's parts a link's session reaches: every frame kind goes to the part that owns it. */
export interface LinkSessionsDeps {
  deps: Pick<EngineDeps, 'self' | 'room' | 'verify' | 'idOf'>;
  /** Open links' sessions by peer id (the engine's: one owner). */
  sessions: Map<string, Session>;
  timeline: JoinTimeline;
  routes: LinkRoutes;
  library: Library;
  availability: Availability;
  uploader: Uploader;
  downloads: Downloads;
  audiences: Audiences;
  shares: DraftShares;
  fetches: DraftFetches;
  gossip: RoomGossip;
  queries: RoomQueries;
  presence: RoomPresence;
  meshSignals: MeshSignals;
  marks: PeerMarks;
  roster: PeopleRoster;
  notices: Notices;
  peers(): PeerManager | undefined;
  /** Our display name now (intents own it). */
  name(): string;
  /** Forget what `peer` said about its files unless something still says it is here. */
  forgetIfGone(peer: string): void;
  ban(peer: string, code: string, detail: string): void;
  changed(): void;
}

export interface LinkSessions {
  /** What every session is given: the routes of its frames (session.ts). */
  context: SessionContext;
  /** A link opened: its session starts with our HELLO, presence, catalogue and partial files' bitfields. */
  opened(peer: string, link: PeerConnection): void;
  /** A link closed: everything that counted on the peer through it lets go. */
  closed(peer: string): void;
  /** Our (re)signed HELLO for a started session, after a rename. */
  sendHello(session: Session, name: string): void;
}

/** Links' sessions: what each needs from the engine, and what happens when a link opens and closes. */
export function createLinkSessions(w: LinkSessionsDeps): LinkSessions {
  const context = sessionContext(w);
  const { deps, sessions } = w;
  const sendHello = (s: Session, name: string) => void makeHello(deps.self, name, deps.room, s.fingerprints).then((h) => s.send(h));

  const opened = (peer: string, link: PeerConnection) => {
    w.timeline.mark('link-open');
    const session = new Session(peer, link, context, link.fingerprints());
    sessions.set(peer, session);
    w.routes.opened(peer, link);
    const name = w.name();
    void makeHello(deps.self, name, deps.room, session.fingerprints).then((hello) => {
      if (sessions.get(peer) !== session) return;
      session.start(hello);
      w.timeline.mark('hello-sent');
      if (w.name() !== name) sendHello(session, w.name()); // renamed while we were signing
      w.presence.greet(peer); // before the catalogue: its origins must be known members when it is judged
      w.gossip.syncTo(peer);
      // Partial files: our bitfield, so the peer can fetch from us what we already have (chosen audiences' once it is proven).
      for (const f of w.library.roomFiles()) if (!f.have.complete && f.have.count > 0 && !f.meta.audience && w.library.servable(f.meta.id)) session.send({ type: 'bitfield', fileId: f.meta.id, bits: f.have.bytes });
    });
  };

  const closed = (peer: string) => {
    sessions.delete(peer);
    w.routes.closed(peer);
    w.availability.invalidate();
    w.availability.removePeer(peer);
    w.uploader.removePeer(peer);
    w.shares.peerGone(peer);
    for (const d of w.downloads.all()) d.peerGone(peer);
    // Unless the relay or presence still says it is here (a pruned neighbour, a broken link), what it said
    // goes: a reloaded peer says it again, afresh, when it is back.
    w.forgetIfGone(peer);
    w.meshSignals.neighbourGone(peer);
    w.queries.neighbourGone(peer);
    w.changed();
  };

  return { context, opened, closed, sendHello };
}

/** Each frame kind a session hands on, routed to the engine's part that owns it. */
function sessionContext(w: LinkSessionsDeps): SessionContext {
  const { deps, downloads, gossip } = w;
  return {
    availability: w.availability, uploader: w.uploader,
    download: (fileId) => downloads.get(fileId),
    manifestOf: (peer, fileId) => w.audiences.manifestFor(peer, fileId),
    servable: (peer, fileId) => w.audiences.servable(peer, fileId),
    takesHave: (peer, fileId) => w.audiences.takesHave(peer, fileId),
    checkHello: (session, m) => checkHello(m, session.id, deps.room, session.fingerprints, deps.verify, deps.idOf),
    subscribeDraft: (peer, fileId) => w.audiences.mayKnow(peer, fileId) && w.shares.subscribe(peer, fileId),
    onDraftHashes: (session, m) => void w.fetches.onRange(session.id, m),
    onReady(session) {
      w.timeline.mark('hello-ok');
      w.availability.invalidate();
      w.marks.identify(session);
      w.roster.seen(session.id, session.name, deps.room);
      w.fetches.peerReady(session.id);
      w.audiences.proven(session);
      for (const d of downloads.all()) d.peerUpdated(session.id);
      w.changed();
    },
    onRenamed: (session) => {
      w.roster.seen(session.id, session.name, deps.room);
      w.changed();
    },
    heard: (peer) => {
      for (const d of downloads.all()) d.onHeard(peer);
    },
    onGossip: (session, json) => void gossip.receive(session.id, json, true),
    onCatalogue: (session, json) => void gossip.receiveCatalogue(session.id, json).then(() => w.timeline.mark('catalogue')),
    onAudience: (session, json) => void gossip.receiveAudience(session.id, json),
    onLazy: (session, kind, json) => (kind === 'ihave' ? gossip.receiveIhave(session.id, json) : gossip.receiveIwant(session.id, json)),
    onMeshSignal: (session, json) => w.meshSignals.receive(session.id, json),
    onQuery: (session, kind, json) => void w.queries.receive(session.id, kind, json),
    onPresence: (session, json) => void w.presence.receive(session.id, json),
    peerUpdated: (peer, fileId) => downloads.get(fileId)?.peerUpdated(peer),
    onPrune: (session, candidates) => w.peers()?.prunedBy(session.id, candidates),
    ban: w.ban,
    incompatible(peer, detail) {
      w.notices.info(`Someone here runs another version of meshdrop (${detail}), so you cannot connect; whoever has the older one should reload the page.`);
      w.peers()?.destroyPeer(peer, 'ERR_VERSION', detail);
    },
  };
}
