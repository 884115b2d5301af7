import { isInitiator, planMesh, shouldAccept, shouldDropOnLeave, type LinkState, type MeshView } from '../core/mesh/mesh.ts';
import type { PeerConnection, PeerConnectionFactory } from './link.ts';

/**
 * Keeps the room's mesh: applies the pure mesh rules to what the relay tells
 * us, creates and destroys peer connections, and routes signalling to them.
 * Every way a peer ends goes through destroyPeer(code).
 */
export interface PeerEvents {
  onOpen(peer: string, link: PeerConnection): void;
  onFrame(peer: string, bytes: Uint8Array): void;
  onClose(peer: string, code: string, detail?: string): void;
  onPresence(): void;
}

export interface PeerManagerDeps {
  self: string;
  /** Identities refused in this room before (bans are remembered for the room). */
  banned?: Iterable<string>;
  sendSignal(to: string, data: string): void;
  createConnection: PeerConnectionFactory;
  now(): number;
}

export interface PeerManager {
  /**
   * The relay's word on the room. The complete membership (the default) replaces what we knew:
   * peers gone during an outage drop out. A sample of a large room only adds: nobody is dropped
   * for not being drawn.
   */
  welcome(peers: string[], complete?: boolean): void;
  joined(peer: string): void;
  left(peer: string): void;
  signal(from: string, data: string): void;
  /** Drop a peer and refuse it for the rest of this session. */
  ban(peer: string, code: string, detail?: string): void;
  destroyPeer(peer: string, code: string, detail?: string): void;
  present(): ReadonlySet<string>;
  linkState(peer: string): LinkState | undefined;
  isBanned(peer: string): boolean;
  /** The open link to `peer` lost its path and is looking for a new one. */
  isLost(peer: string): boolean;
  /**
   * The device's network changed (Wi-Fi to mobile data, back online): every open link
   * looks for a new path at once, and peers we gave up on get new tries.
   */
  networkChanged(): void;
  /** Replaces every link with a new one (e.g. after the ICE policy changed); the initiators reconnect. */
  renewAll(code: string): void;
  /** Gives up on links that have been connecting, or lost, for too long. */
  tick(now: number): void;
  /** ICE restarts asked for, and lost links replaced by fresh ones, since the start. */
  stats(): { iceRestarts: number; replacedLost: number };
  close(): void;
}

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
/** Links that end for these reasons are not retried (until the peer joins again): another try ends the same way. */
const FINAL_CODES = new Set(['ERR_PEER_LEFT', 'ERR_BANNED', 'ERR_SHUTDOWN', 'ERR_VERSION']);

export function createPeerManager(deps: PeerManagerDeps, events: PeerEvents): PeerManager {
  const present = new Set<string>();
  const banned = new Set<string>(deps.banned ?? []);
  const conns = new Map<string, { conn: PeerConnection; state: LinkState; since: number; lostSince: number | null }>();
  const failures = new Map<string, number>();
  const counts = { iceRestarts: 0, replacedLost: 0 };
  const restart = (conn: PeerConnection) => {
    if (!conn.restartIce) return;
    counts.iceRestarts++;
    conn.restartIce();
  };

  const view = (): MeshView => ({
    self: deps.self,
    present,
    // Peers we gave up on look banned to the planner until they rejoin.
    banned: new Set([...banned, ...[...failures].filter(([, n]) => n > MAX_RETRIES).map(([p]) => p)]),
    links: new Map([...conns].map(([id, c]) => [id, c.state])),
  });

  const open = (peer: string, initiator: boolean): PeerConnection => {
    const entry = { state: 'connecting' as LinkState, since: deps.now(), lostSince: null as number | null, conn: undefined as unknown as PeerConnection };
    entry.conn = deps.createConnection(
      { initiator },
      {
        onSignal: (data) => deps.sendSignal(peer, data),
        onOpen: () => {
          entry.state = 'open';
          entry.since = deps.now();
          events.onOpen(peer, entry.conn);
          events.onPresence();
        },
        onFrame: (bytes) => events.onFrame(peer, bytes),
        onHealth: (lost) => {
          if (lost === (entry.lostSince !== null)) return;
          entry.lostSince = lost ? deps.now() : null;
          if (lost) restart(entry.conn);
          events.onPresence();
        },
        onClose: (code, detail) => {
          if (conns.get(peer) === entry) conns.delete(peer);
          events.onClose(peer, code, detail);
          events.onPresence();
          // A link that failed while both of us are still here is retried by the initiator, a few times.
          if (FINAL_CODES.has(code) || banned.has(peer) || !present.has(peer)) return;
          // A link that served a while earns fresh tries; one that opens and dies at once (the other side
          // refuses our hello, say) counts as a failure, or we would redial it in a tight loop.
          const served = entry.state === 'open' && deps.now() - entry.since >= STABLE_LINK_MS;
          failures.set(peer, served ? 1 : (failures.get(peer) ?? 0) + 1);
          apply();
        },
      },
    );
    conns.set(peer, entry);
    return entry.conn;
  };

  const apply = () => {
    for (const action of planMesh(view())) {
      if (action.kind === 'connect') open(action.peer, true);
      else destroyPeer(action.peer, action.reason === 'banned' ? 'ERR_BANNED' : 'ERR_PEER_LEFT');
    }
    events.onPresence();
  };

  const destroyPeer = (peer: string, code: string, detail?: string) => {
    conns.get(peer)?.conn.destroy(code, detail);
  };

  return {
    welcome(peers, complete = true) {
      const now = new Set(peers);
      for (const p of complete ? [...present] : []) {
        if (now.has(p)) continue;
        present.delete(p);
        // Presence never closes an open link (a link ends by itself when the peer goes); attempts stop.
        if (shouldDropOnLeave(view(), p)) destroyPeer(p, 'ERR_PEER_LEFT');
      }
      for (const p of peers) {
        present.add(p);
        failures.delete(p); // fresh word from the relay: links that failed during an outage get new tries
      }
      apply();
    },
    joined(peer) {
      present.add(peer);
      failures.delete(peer);
      apply();
    },
    left(peer) {
      present.delete(peer);
      // The relay's word is not proof: an open link stays until it ends by itself; an attempt stops.
      if (shouldDropOnLeave(view(), peer)) destroyPeer(peer, 'ERR_PEER_LEFT');
      events.onPresence();
    },
    signal(from, data) {
      const existing = conns.get(from);
      if (existing) return existing.conn.signal(data);
      // Only the initiator opens a conversation; anything else from an unknown peer is stale.
      if (isInitiator(deps.self, from) || !shouldAccept(view(), from)) return;
      open(from, false).signal(data);
    },
    ban(peer, code, detail) {
      banned.add(peer);
      destroyPeer(peer, code, detail);
    },
    destroyPeer,
    present: () => present,
    linkState: (peer) => conns.get(peer)?.state,
    isBanned: (peer) => banned.has(peer),
    isLost: (peer) => conns.get(peer)?.lostSince != null,
    networkChanged() {
      for (const c of conns.values()) if (c.state === 'open') restart(c.conn);
      failures.clear();
      apply();
    },
    renewAll(code) {
      for (const peer of [...conns.keys()]) destroyPeer(peer, code);
    },
    tick(now) {
      for (const [peer, c] of conns) {
        if (c.state === 'connecting' && now - c.since > CONNECT_TIMEOUT_MS) destroyPeer(peer, 'ERR_CONNECT_TIMEOUT');
        else if (c.lostSince !== null && now - c.lostSince > LOST_GIVE_UP_MS) {
          counts.replacedLost++;
          destroyPeer(peer, 'ERR_LINK_LOST', 'no new path was found');
        }
      }
    },
    stats: () => ({ ...counts }),
    close() {
      for (const peer of [...conns.keys()]) destroyPeer(peer, 'ERR_SHUTDOWN');
    },
  };
}
