import { MIN_CANDIDATES, sample } from '../core/mesh/bounded.ts';
import type { PeerManager } from '../net/peer-manager.ts';
import type { Audiences } from './audience.ts';
import type { AutoFetch } from './auto-fetch.ts';
import type { Downloads } from './downloads.ts';
import type { EngineDeps } from './engine-types.ts';
import type { LinkRoutes } from './link-routes.ts';
import type { RoomGossip } from './room-gossip.ts';
import type { RoomPresence } from './room-presence.ts';
import type { PeopleRoster } from './roster.ts';
import type { Session } from './session.ts';
import type { Uploader } from './uploader.ts';

export interface EngineTickDeps {
  deps: Pick<EngineDeps, 'now' | 'random' | 'room'>;
  sessions: ReadonlyMap<string, Session>;
  /** Undefined until storage is read. */
  peers(): PeerManager | undefined;
  gossip: RoomGossip;
  presence: RoomPresence;
  roster: PeopleRoster;
  routes: LinkRoutes;
  rules: AutoFetch;
  downloads: Downloads;
  uploader: Uploader;
  audiences: Audiences;
  changed(): void;
}

/**
 * What the engine does once a tick (one lazy-gossip heartbeat, TICK_MS): the
 * mesh, gossip, presence and the roster keep time, downloads look for stalls,
 * and peers waiting on our uploads hear we are alive.
 */
export function engineTick(t: EngineTickDeps): () => void {
  const { deps, downloads, presence, sessions } = t;
  const readySessions = () => [...sessions.values()].filter((s) => s.ready);

  /**
   * Transfer links follow the downloads (core/mesh/transfer.ts): whole-file holders of each running one, none once it ends;
   * and the files we hold for chosen people: links to those not told yet (core/mesh/reach.ts).
   */
  const syncSources = (peers: PeerManager | undefined) => {
    const running = new Set(downloads.all().map((d) => d.fileId));
    for (const fileId of peers?.wantedFiles() ?? []) if (!running.has(fileId)) peers?.wantSources(fileId, []);
    for (const fileId of running) peers?.wantSources(fileId, t.gossip.catalogue.holders(fileId));
    if (!peers) return;
    const { reach, keep } = t.audiences.reach();
    peers.wantReach(reach, keep);
  };

  return () => {
    const now = deps.now();
    const peers = t.peers();
    syncSources(peers);
    // Short of candidates to replace lost neighbours: a fresh random handful of those presence says are here.
    if (peers?.needsCandidates()) peers.learn(sample([...presence.here()], MIN_CANDIDATES, deps.random));
    peers?.tick(now);
    t.gossip.heartbeat();
    presence.tick();
    // Met: proved their identity to us, on a link (HELLO) or by a signed statement; the relay's list alone is not meeting.
    const met = () => [...new Set([...readySessions().map((s) => s.id), ...presence.here()])].map((id): [string, string | null] => [id, sessions.get(id)?.name ?? presence.nameOf(id)]);
    t.roster.tick(now, met, deps.room);
    t.routes.poll();
    t.rules.tick();
    for (const d of downloads.all()) d.tick(now);
    for (const s of readySessions()) {
      // Peers waiting on us hear that we are alive even while their pieces wait in our queue.
      if (t.uploader.hasWork(s.id)) s.send({ type: 'keepalive' });
      s.applyRename(now);
    }
    if (downloads.size > 0) t.changed();
  };
}
