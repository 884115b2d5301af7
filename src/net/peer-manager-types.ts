import type { PeerConnection, PeerConnectionFactory } from './link.ts';
import type { RoleDeps } from './peer-role.ts';

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
