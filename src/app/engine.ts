import type { Sha256 } from '../core/hash.ts';
import { cleanDisplayName } from '../core/names.ts';
import { safeFileName } from '../core/filename.ts';
import { encodeFrame, WIRE_VERSION } from '../core/wire/frames.ts';
import { verificationCode } from '../core/crypto/verification-code.ts';
import type { PeerConnection, PeerConnectionFactory } from '../net/link.ts';
import { createPeerManager, type PeerManager } from '../net/peer-manager.ts';
import type { SignalClient, SignalHandlers } from '../net/signal-client.ts';
import type { Store } from '../storage/store.ts';
import { Downloads, type DownloadReport } from './downloads.ts';
import { Library, type LocalFile } from './library.ts';
import { Session, type SessionContext } from './session.ts';
import { Uploader } from './uploader.ts';
import { RoomGossip } from './room-gossip.ts';
import { createWebCryptoIdentity, idOfPublicKey, webCryptoVerify, type GossipIdentity } from './gossip-identity.ts';
import type { IdOf, Verifier } from '../core/gossip/announcement.ts';
import { buildState, Notices, type AppState, type EngineInternals } from './state.ts';
import { StorageBudget, type BrowserStorage } from './storage-budget.ts';

/**
 * The one place everything is wired: relay client, mesh, gossip, catalogue,
 * library, downloads and uploads. It exposes state for the UI and intents the
 * UI calls; it knows nothing of the DOM, WebRTC or IndexedDB (all passed in),
 * so Node tests drive the same engine over in-memory links.
 */
export interface EngineDeps {
  self: string;
  name: string;
  store: Store;
  sha256: Sha256;
  now(): number;
  random(): number;
  randomBytes(n: number): Uint8Array;
  connectRelay(h: SignalHandlers): SignalClient;
  createConnection: PeerConnectionFactory;
  /** Calls fn every ms milliseconds; returns a function that stops it. */
  every(ms: number, fn: () => void): () => void;
  /** Test-only upload throttle. */
  throttle?(bytes: number): Promise<void>;
  /** The browser's storage budget (navigator.storage); absent in Node tests. */
  storage?: BrowserStorage;
  /**
   * Signs our announcements; its id must equal `self`. TEMPORARY until the
   * identity module lands: when absent one is generated with WebCrypto, whose
   * id the relay does not know, so other peers drop our announcements as
   * not-a-member (see gossip-identity.ts).
   */
  identity?: GossipIdentity;
  verify?: Verifier;
  /** The peer id of a public key; must agree with how the relay derives ids. */
  idOf?: IdOf;
}

export interface Engine {
  getState(): AppState;
  subscribe(fn: () => void): () => void;
  share(files: readonly File[]): Promise<void>;
  /** Starts (or resumes) a download; resolves true once complete, false if it stops. */
  download(fileId: string): Promise<boolean>;
  cancel(fileId: string): Promise<void>;
  /** The complete file as a Blob of stored pieces; null (with a notice) if it cannot be read back. */
  save(fileId: string): Promise<{ blob: Blob; name: string } | null>;
  setName(name: string): void;
  dismissNotice(id: number): void;
  /** The app's own counters, for tests and the benchmark. */
  stats(): EngineStats;
  /** Resolves once startup (stored files loaded and re-announced) is done. */
  ready: Promise<void>;
  internals: EngineInternals;
  close(): void;
}

export interface EngineStats {
  uploadedBytes: number;
  downloads: Record<string, DownloadReport>;
  /** What gossip accepted, forwarded and dropped (and why). */
  gossip: Record<string, number>;
}

const TICK_MS = 1_000;
/** Pieces or manifests failing verification before a peer is dropped for the session. */
export const MAX_STRIKES = 3;

export function createEngine(deps: EngineDeps): Engine {
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((fn) => fn());
  const notices = new Notices(changed);
  const sessions = new Map<string, Session>();
  if (deps.identity && deps.identity.id !== deps.self) throw new Error('the signing identity is not this peer (identity.id !== self)');
  let identity = deps.identity;
  const identityReady = identity ? Promise.resolve() : createWebCryptoIdentity().then((made) => {
    identity = made;
  });
  const gossip = new RoomGossip({
    self: { get id() { return identity?.id ?? deps.self; }, get publicKey() { return identity!.publicKey; }, sign: (data) => identity!.sign(data) },
    verify: deps.verify ?? webCryptoVerify,
    idOf: deps.idOf ?? idOfPublicKey,
    neighbours: () => [...sessions.keys()],
    members: () => new Set([...peers.present(), ...sessions.keys()]),
    send: (peer, m) => sessions.get(peer)?.send(m),
    now: deps.now,
    wallClock: () => Date.now(),
    changed: () => changed(),
    ban: (peer, code, detail) => banPeer(peer, code, detail),
    // Its own signed word that it holds the whole file: a linked holder is a source right away.
    added: (origin, fileId) => {
      if (sessions.has(origin)) downloads.get(fileId)?.onHolder(origin);
    },
  });
  const catalogue = gossip.catalogue;
  const budget = new StorageBudget(deps.storage, notices);
  const imports = new Map<number, { name: string; size: number; done: number }>();
  let importSeq = 0;
  let name = deps.name;
  let relay: AppState['relay'] = 'connecting';
  let uploadedBytes = 0;

  const library = new Library(
    deps.store, deps.sha256, deps.now,
    (file, index, why) => {
      notices.error(`Part of ${file.meta.name} was lost from this browser's storage (${why}); fetching it again.`);
      repair(file);
    },
    (e) => notices.error(`Could not save file progress: ${e.message}`),
  );
  const uploader = new Uploader({
    readPiece: (f, i) => library.readPiece(f, i),
    link: (p) => sessions.get(p)?.link,
    uploadsToUs: (p) => deps.now() - (sessions.get(p)?.lastData ?? -Infinity) < 10_000,
    served: (_peer, bytes) => {
      uploadedBytes += bytes;
    },
    throttle: deps.throttle,
  });

  const announce = (local: LocalFile) => {
    identityReady
      .then(() => gossip.announce('add', local.meta))
      .catch((e: Error) => notices.error(`Could not announce ${local.meta.name}: ${e.message}`));
  };

  const downloads = new Downloads({
    library, catalogue, sessions, sha256: deps.sha256, now: deps.now, random: deps.random, changed,
    misbehaved: (peer, what) => strike(peer, what),
    completed: announce,
  });

  /** Every ban goes through here: the person is told, then the link ends for this session. */
  const banPeer = (peer: string, code: string, detail: string) => {
    notices.info(`Disconnected ${sessions.get(peer)?.name ?? 'a peer'}: ${detail}`);
    peers.ban(peer, code, detail);
  };

  /** Bad data from a peer: three strikes and it is out. */
  const strike = (peer: string, what: string) => {
    const s = sessions.get(peer);
    if (!s) return;
    s.strikes++;
    if (s.strikes >= MAX_STRIKES) banPeer(peer, 'ERR_BAD_DATA', `${MAX_STRIKES} pieces failed verification; last: ${what}`);
  };

  const sessionContext: SessionContext = {
    library, uploader,
    download: (fileId) => downloads.get(fileId),
    knownSize: (fileId) => library.get(fileId)?.meta.size ?? catalogue.meta(fileId)?.size,
    onHello: () => changed(),
    heard: (peer) => {
      for (const d of downloads.all()) d.onHeard(peer);
    },
    onGossip(session, json, live) {
      gossip.receive(session.id, json, live).catch((e: Error) => notices.error(`Gossip from a peer failed: ${e.message}`));
    },
    onCatalogue(session, json) {
      gossip.receiveCatalogue(session.id, json).catch((e: Error) => notices.error(`Gossip from a peer failed: ${e.message}`));
    },
    ban: banPeer,
  };

  const onPeerOpen = (peer: string, link: PeerConnection) => {
    const session = new Session(peer, link, sessionContext);
    sessions.set(peer, session);
    const fps = link.fingerprints();
    if (fps) {
      void verificationCode(fps.local, fps.remote, deps.sha256).then((code) => {
        session.verificationCode = code;
        changed();
      });
    }
    link.send(encodeFrame({ type: 'hello', version: WIRE_VERSION, name }));
    gossip.syncTo(peer);
    for (const d of downloads.all()) d.peerOpened(peer);
  };

  const onPeerClose = (peer: string) => {
    sessions.delete(peer);
    uploader.removePeer(peer);
    for (const d of downloads.all()) d.peerGone(peer);
    if (!peers.present().has(peer)) gossip.peerGone(peer);
  };

  let peers: PeerManager;
  const signal = deps.connectRelay({
    onWelcome(list) {
      peers.welcome(list);
      gossip.keepOnly(new Set(list));
      changed();
    },
    onPeerJoined: (p) => peers.joined(p),
    onPeerLeft(p) {
      peers.left(p);
      gossip.peerGone(p);
    },
    onSignal: (from, data) => peers.signal(from, data),
    onStatus(status) {
      relay = status;
      changed();
    },
    onError: (code, message) => notices.error(relayErrorText(code, message)),
  });
  peers = createPeerManager(
    { self: deps.self, sendSignal: (to, data) => signal.sendSignal(to, data), createConnection: deps.createConnection, now: deps.now },
    {
      onOpen: onPeerOpen,
      onFrame: (peer, bytes) => sessions.get(peer)?.receive(bytes, deps.now()),
      onClose: (peer) => onPeerClose(peer),
      onPresence: changed,
    },
  );

  const stopTicking = deps.every(TICK_MS, () => {
    const now = deps.now();
    peers.tick(now);
    for (const d of downloads.all()) d.tick(now);
    // Peers waiting on us hear that we are alive even while their pieces wait in our queue.
    for (const s of sessions.values()) if (uploader.hasWork(s.id)) s.send({ type: 'keepalive' });
    if (downloads.size > 0) changed();
  });

  /** A held file lost pieces: fetch them again from the room, as a download would. */
  function repair(file: LocalFile): void {
    downloads.start(file.meta.id, file);
  }

  const ready = (async () => {
    const { files, damaged } = await library.load();
    for (const { file, missing } of damaged) {
      notices.error(`${missing} ${missing === 1 ? 'piece' : 'pieces'} of ${file.meta.name} went missing from this browser's storage; fetching them again.`);
    }
    for (const local of files) {
      // Complete files are announced; unfinished or damaged ones resume fetching by themselves.
      if (local.have.complete) announce(local);
      else repair(local);
    }
    changed();
  })().catch((e: Error) => notices.error(`Could not read this browser's storage: ${e.message}`));

  const internals: EngineInternals = { self: deps.self, library, catalogue, downloads, sessions, peers: () => peers, imports, notices };

  return {
    getState: () => buildState(internals, { name, relay, now: deps.now() }),
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async share(files) {
      await ready;
      budget.askToPersist();
      await Promise.all(files.map(async (file) => {
        if (file.size === 0) return notices.error(`${file.name} is empty: there is nothing to share.`);
        const id = ++importSeq;
        imports.set(id, { name: file.name, size: file.size, done: 0 });
        changed();
        const result = await library.importFile(file, file.name, (done) => {
          imports.get(id)!.done = done;
          changed();
        });
        imports.delete(id);
        if (result.ok) announce(result.value);
        else notices.error(`Could not share ${file.name}: ${result.error}`);
        changed();
      }));
    },
    async download(fileId) {
      const running = downloads.get(fileId);
      if (library.isComplete(fileId) || (running && running.status !== 'error')) return downloads.whenDone(fileId);
      const meta = library.get(fileId)?.meta ?? catalogue.meta(fileId);
      if (!meta) return false;
      const refusal = await budget.refusal(meta.size, running?.bytesDone ?? 0);
      if (refusal) {
        notices.error(`Cannot download ${meta.name}: ${refusal}`);
        return false;
      }
      budget.askToPersist();
      downloads.start(fileId, library.get(fileId));
      return downloads.whenDone(fileId);
    },
    async cancel(fileId) {
      await downloads.cancel(fileId);
      changed();
    },
    async save(fileId) {
      const local = library.get(fileId);
      if (!local?.have.complete) {
        notices.error('This file is not complete yet.');
        return null;
      }
      try {
        return { blob: await library.assemble(fileId), name: safeFileName(local.meta.name) };
      } catch (e) {
        notices.error(`Could not read ${local.meta.name} back from storage: ${(e as Error).message}`);
        return null;
      }
    },
    setName(next) {
      const clean = cleanDisplayName(next);
      if (!clean || clean === name) return;
      name = clean;
      for (const s of sessions.values()) s.link.send(encodeFrame({ type: 'hello', version: WIRE_VERSION, name }));
      void deps.store.setPref('name', name);
      changed();
    },
    dismissNotice: (id) => notices.dismiss(id),
    stats: () => ({ uploadedBytes, downloads: downloads.report(), gossip: gossip.stats() }),
    ready,
    internals,
    close() {
      stopTicking();
      signal.close();
      peers.close();
    },
  };
}

function relayErrorText(code: string, message: string): string {
  switch (code) {
    case 'room-full': return 'This room is full. Try again later or start a new room.';
    case 'server-full': return 'The meshdrop server is busy. It will retry by itself.';
    case 'rate-limited': return 'Too many messages to the server; slowing down.';
    case 'unauthenticated': return message;
    default: return `The signalling server reported a problem (${code}): ${message}`;
  }
}
