import type { LinkState } from '../core/mesh/mesh.ts';
import type { Result } from '../core/result.ts';
import type { PeerConnection, PeerConnectionFactory } from './link.ts';
import type { RoleDeps } from './peer-role.ts';
import type { Purpose } from './signal-envelope.ts';

/** What the peer manager (peer-manager.ts) takes, tells and counts. */
export interface PeerEvents {
  onOpen(peer: string, link: PeerConnection): void;
  onFrame(peer: string, bytes: Uint8Array): void;
  onClose(peer: string, code: string, detail?: string): void;
  onPresence(): void;
  /** Tell a neighbour we prune our link (a PRUNE frame, behind our HELLO), with other members to try instead. */
  sendPrune?(peer: string, candidates: string[]): void;
  /** A peer's signals show it runs another version of meshdrop (once per peer): no link can be made. */
  incompatible?(peer: string, detail: string): void;
}

export interface PeerManagerDeps extends RoleDeps {
  self: string;
  /** Identities refused in this room before (bans are remembered for the room). */
  banned?: Iterable<string>;
  sendSignal(to: string, data: string): void;
  createConnection: PeerConnectionFactory;
  now(): number;
  random?(): number;
  /** Connections this tab may construct in its lifetime (default CONNECTION_BUDGET). */
  budget?: number;
}

/** The mesh's own figures (engine.stats().links, next to stats()). */
export interface MeshStats {
  /** Connections constructed so far, and how many the budget still allows. */
  created: number;
  remaining: number;
  /** Open mesh links, and transfer links (any state). */
  degree: number;
  transfer: number;
  /** Transfer links dialled since the start. */
  transferDialled: number;
  /** Of those, links dialled to reach chosen people with a file we hold for them (core/mesh/reach.ts). */
  reachDialled: number;
  role: string;
  /** Offers we refused, refusals we got, links we pruned and were pruned from, offers that crossed. */
  refused: number;
  refusedBy: number;
  pruned: number;
  prunedBy: number;
  crossed: number;
  /** Signalling messages dropped as malformed. */
  badSignals: number;
}

/** What the rest of the app may ask of the peer manager (made by createPeerManager in peer-manager.ts). */
export interface PeerManager {
  /**
   * The relay's word on the room. The complete membership (the default) replaces what we knew:
   * peers gone during an outage drop out. A sample of a large room only adds: nobody is dropped
   * for not being drawn.
   */
  welcome(peers: string[], complete?: boolean): void;
  joined(peer: string): void;
  left(peer: string): void;
  /** A signalling message from `from`; a malformed one is dropped and comes back as an error. */
  signal(from: string, data: string): Result<void>;
  /** Room members heard of some other way (presence, a neighbour): candidates for the mesh. */
  learn(peers: Iterable<string>): void;
  /** Too few candidates to replace lost neighbours: a fresh sample of the room would help. */
  needsCandidates(): boolean;
  /** The neighbour pruned our link (its PRUNE), naming others to try. */
  prunedBy(peer: string, candidates: string[]): void;
  /** Whole-file holders of a file we download (none: no longer wanted); transfer links follow. */
  wantSources(fileId: string, holders: Iterable<string>): void;
  /** Files wantSources() currently holds holders for. */
  wantedFiles(): string[];
  /** Chosen people to reach with files we hold for them, and those told already (core/mesh/reach.ts): transfer links follow. */
  wantReach(reach: Iterable<string>, keep: Iterable<string>): void;
  /** Drop a peer and refuse it for the rest of this session. */
  ban(peer: string, code: string, detail?: string): void;
  /** Refused no more (the person unblocked it): it may link again while it is here. */
  unban(peer: string): void;
  destroyPeer(peer: string, code: string, detail?: string): void;
  present(): ReadonlySet<string>;
  linkState(peer: string): LinkState | undefined;
  /** What our link to `peer` is for, if we hold one. */
  purpose(peer: string): Purpose | undefined;
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
  /** Gives up on links connecting or lost for too long, ends pruned and idle links, re-plans a bounded mesh. */
  tick(now: number): void;
  /** ICE restarts asked for, and lost links replaced by fresh ones, since the start. */
  stats(): { iceRestarts: number; replacedLost: number };
  meshStats(): MeshStats;
  close(): void;
}
