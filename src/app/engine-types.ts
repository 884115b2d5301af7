import type { Sha256 } from '../core/hash.ts';
import type { PeerConnectionFactory } from '../net/link.ts';
import type { RelayConnector } from '../net/mesh-transport.ts';
import type { MeshStats } from '../net/peer-manager.ts';
import type { Store } from '../storage/store.ts';
import type { PrivacyControl } from './address-privacy.ts';
import type { RuleIntents } from './auto-fetch.ts';
import type { DownloadReport } from './downloads.ts';
import type { ImportStat } from './draft-share.ts';
import type { LinkOutcome } from './file-links.ts';
import type { MeshSignalStats } from './mesh-signals.ts';
import type { Signer, Verify } from './hello.ts';
import type { Intents } from './intents.ts';
import type { JoinTimeline, TimelineView } from './join-timeline.ts';
import type { AppState, EngineInternals } from './state.ts';
import type { BrowserStorage } from './storage-budget.ts';

/** What the engine takes (its edges, passed in) and what it gives the UI, tests and the benchmark. */
export interface EngineDeps {
  /** This browser's persistent identity; its id is our peer id. */
  self: Signer;
  verify: Verify;
  /** Peer id of an identity key (as the relay derives it). */
  idOf(publicKey: Uint8Array): string;
  /** The room: its relay topic. Files belong to rooms; HELLO binds links to it. */
  room: string;
  name: string;
  store: Store;
  sha256: Sha256;
  /** Monotonic milliseconds, for timeouts and rates. */
  now(): number;
  /** Wall-clock milliseconds, for sequence numbers that must grow across reloads. */
  wallClock(): number;
  random(): number;
  randomBytes(n: number): Uint8Array;
  /** The relay client, sealed; given the mesh, its wires take the mesh while the relay is not online. */
  connectRelay: RelayConnector;
  createConnection: PeerConnectionFactory;
  /** Calls fn every ms milliseconds; returns a function that stops it. */
  every(ms: number, fn: () => void): () => void;
  /** Resolves after ms milliseconds (the piece writer's wait for more pieces); setTimeout when absent. */
  wait?(ms: number): Promise<void>;
  /** A piece of a file is stored (the service worker's media route waits for some). */
  pieceStored?(fileId: string, piece: number): void;
  /** Test-only upload throttle. */
  throttle?(bytes: number): Promise<void>;
  /** The browser's storage budget (navigator.storage); absent in Node tests. */
  storage?: BrowserStorage;
  /** Whether another tab of this browser has one of these rooms open (Web Locks); absent: no other tabs. */
  openElsewhere?(rooms: string[]): Promise<boolean>;
  /** navigator.getBattery(): true while discharging, undefined where the browser will not say (the super-peer rule). */
  onBattery?(): boolean | undefined;
  /** "Hide my address" (relay-only links), where the browser offers it; absent: no such choice. */
  privacy?: PrivacyControl;
  /** Where the steps of joining are marked (the page's, which marks the steps before the engine); absent: the engine's own. */
  timeline?: JoinTimeline;
}

export interface Engine extends Intents, RuleIntents {
  /** Follows a file link once storage is loaded (see file-links.ts); resolves when its wait ends. */
  openFileLink(fileId: string): Promise<LinkOutcome>;
  dismissFileLink(fileId: string): void;
  /**
   * Asks the room for files matching a search (the search box, debounced), in a bounded room where the
   * catalogue may lack some (app/room-query.ts); answers join the catalogue. False when nothing was sent.
   */
  searchRoom(text: string): boolean;
  /** Derived afresh on each read; every view equal to the last read's is that read's object (view-reuse.ts). */
  getState(): AppState;
  subscribe(fn: () => void): () => void;
  /** The app's own counters, for tests and the benchmark. */
  stats(): EngineStats;
  /** Resolves once startup (stored files loaded and re-announced) is done. */
  ready: Promise<void>;
  /** When this page load reached each step of joining the room (join-timeline.ts). */
  timeline(): TimelineView;
  internals: EngineInternals;
  /** The page was shown or hidden: our presence says active, idle, or (hidden for long) away. */
  pageVisible(visible: boolean): void;
  /** The device's network changed or came back: a new relay socket, and every link looks for a new path. */
  networkChanged(): void;
  /** Turns relay-only links on or off for this browser; every link is made anew under the new policy. */
  setHideAddress(hidden: boolean): Promise<void>;
  close(): void;
}

export interface EngineStats {
  uploadedBytes: number;
  downloads: Record<string, DownloadReport>;
  /** Files this page shared lately: drop, hashed and stored times on the page clock (app/draft-share.ts). */
  imports: ImportStat[];
  gossip: Record<string, number>;
  /** Presence by gossip: accepted, dropped by reason, and how many are here. */
  presence: Record<string, number>;
  droppedAvailability: number;
  /** Asks for a file from outside its chosen audience, answered as for a file we do not have (app/audience.ts). */
  audienceRefused: number;
  /** HAVE and BITFIELD for a file with an audience, from someone outside it: dropped (app/audience.ts takesHave). */
  audienceOutsideHaves: number;
  meshSignals: MeshSignalStats;
  /** Room queries: asked, taken, forwarded, answered, hits, and what was dropped by reason (core/gossip/query.ts). */
  queries: Record<string, number>;
  links: { iceRestarts: number; replacedLost: number } & Partial<MeshStats>;
}
