import type { Announcement } from '../core/gossip/announcement.ts';
import { MAX_HOPS } from '../core/gossip/announcement.ts';
import { Catalogue } from '../core/gossip/catalogue.ts';
import { GossipRouter } from '../core/gossip/router.ts';
import { toHex } from '../core/bytes.ts';
import type { Sha256 } from '../core/hash.ts';
import { cleanDisplayName } from '../core/names.ts';
import { safeFileName } from '../core/filename.ts';
import { encodeFrame, WIRE_VERSION } from '../core/wire/frames.ts';
import { verificationCode } from '../core/crypto/verification-code.ts';
import type { PeerConnection, PeerConnectionFactory } from '../net/link.ts';
import { createPeerManager, type PeerManager } from '../net/peer-manager.ts';
import type { SignalClient, SignalHandlers } from '../net/signal-client.ts';
import type { Store } from '../storage/store.ts';
import { Download, type DownloadStats } from './download.ts';
import { Library, type LocalFile } from './library.ts';
import { Session, type SessionContext } from './session.ts';
import { Uploader } from './uploader.ts';
import { buildState, Notices, type AppState, type EngineInternals } from './state.ts';

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
  storage?: {
    estimate(): Promise<{ quota: number; usage: number } | null>;
    /** Asks the browser not to evict our data under pressure. */
    persist(): Promise<boolean>;
  };
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
  downloads: Record<string, DownloadStats & { status: string; have: number; pieceCount: number; haveHex: string }>;
}

/** Announcements sent per CATALOGUE frame, well under the JSON frame limit. */
const CATALOGUE_BATCH = 40;
const TICK_MS = 1_000;
/** Pieces or manifests failing verification before a peer is dropped for the session. */
export const MAX_STRIKES = 3;

export function createEngine(deps: EngineDeps): Engine {
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((fn) => fn());
  const notices = new Notices(changed);
  const sessions = new Map<string, Session>();
  const downloads = new Map<string, Download>();
  const catalogue = new Catalogue();
  const router = new GossipRouter();
  const imports = new Map<number, { name: string; size: number; done: number }>();
  let importSeq = 0;
  let name = deps.name;
  let relay: AppState['relay'] = 'connecting';
  let uploadedBytes = 0;
  /** Stats of finished downloads stay readable after the Download object is gone. */
  const finished = new Map<string, EngineStats['downloads'][string]>();

  const library = new Library(
    deps.store, deps.sha256, deps.now,
    (file, index, why) => {
      notices.error(`Part of ${file.meta.name} was lost from this browser's storage (${why}); fetching it again.`);
      repair(file);
    },
    (e) => notices.error(`Could not save file progress: ${e.message}`),
  );
  const openPeers = () => [...sessions.keys()];
  const uploader = new Uploader({
    readPiece: (f, i) => library.readPiece(f, i),
    link: (p) => sessions.get(p)?.link,
    uploadsToUs: (p) => deps.now() - (sessions.get(p)?.lastReceived ?? 0) < 10_000,
    served: (_peer, bytes) => {
      uploadedBytes += bytes;
    },
    throttle: deps.throttle,
  });

  const announce = (kind: Announcement['kind'], local: LocalFile) => {
    const a: Announcement = { id: toHex(deps.randomBytes(16)), origin: deps.self, hops: MAX_HOPS, kind, file: local.meta };
    catalogue.apply(a);
    for (const peer of router.originate(a, openPeers(), deps.now())) sessions.get(peer)?.send({ type: 'gossip', json: a });
    changed();
  };

  let askedToPersist = false;
  /** Once, at the first share or download: a browser may evict unpersisted storage under pressure. */
  const askToPersist = () => {
    if (askedToPersist || !deps.storage) return;
    askedToPersist = true;
    void deps.storage.persist().then(
      (granted) => granted || notices.info('The browser may clear stored files when space runs low; keep this tab open while sharing.'),
      (e: Error) => notices.info(`Could not ask the browser to keep files stored: ${e.message}`),
    );
  };

  /** Null when the file fits in the browser's storage (or we cannot tell), else why not. */
  const refuseForSpace = async (size: number, already: number): Promise<string | null> => {
    const estimate = await deps.storage?.estimate().catch(() => null);
    if (!estimate) return null;
    const free = estimate.quota - estimate.usage;
    if (size - already <= free) return null;
    return `This browser can store about ${formatSize(free)} more for this site; the file needs ${formatSize(size - already)}.`;
  };

  const waiters = new Map<string, ((done: boolean) => void)[]>();
  const settle = (fileId: string, done: boolean) => {
    for (const resolve of waiters.get(fileId) ?? []) resolve(done);
    waiters.delete(fileId);
  };

  const downloadStats = (d: Download) => {
    const have = library.get(d.meta.id)?.have;
    return { ...d.stats, status: d.status, have: have?.count ?? 0, pieceCount: d.pieceCount, haveHex: have ? toHex(have.bytes) : '' };
  };

  const onDownloadComplete = (fileId: string) => {
    const local = library.get(fileId);
    if (local) announce('add', local);
    const d = downloads.get(fileId);
    if (d) finished.set(fileId, downloadStats(d));
    downloads.delete(fileId);
    settle(fileId, true);
    changed();
  };

  const startDownload = (fileId: string, local?: LocalFile): Download | undefined => {
    const meta = local?.meta ?? catalogue.meta(fileId);
    if (!meta || downloads.has(fileId)) return downloads.get(fileId);
    const d = new Download(meta, {
      library, sha256: deps.sha256, now: deps.now, random: deps.random, openPeers,
      fullHolders: () => catalogue.holders(fileId).filter((p) => sessions.has(p)),
      send: (peer, m) => sessions.get(peer)?.send(m),
      expect: (peer, piece, length) => sessions.get(peer)?.expect(fileId, piece, length),
      cancel: (peer, piece) => sessions.get(peer)?.cancel(fileId, piece),
      misbehaved: (peer, what) => strike(peer, what),
      stored: (piece) => {
        for (const s of sessions.values()) if (s.swarm.has(fileId)) s.send({ type: 'have', fileId, piece });
      },
      changed: () => {
        // Looked up, not closed over: the constructor itself may report a resumed state.
        if (downloads.get(fileId)?.status === 'error') settle(fileId, false);
        changed();
      },
      completed: () => onDownloadComplete(fileId),
    }, local);
    downloads.set(fileId, d);
    return d;
  };

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
    onAnnouncement(session, a, live) {
      if (a.origin === deps.self) return; // our own, echoed back
      // A neighbour speaks for itself: nobody else may announce (or withdraw) its files.
      if (a.origin !== session.id && sessions.has(a.origin)) return;
      if (live) {
        const routed = router.receive(a, session.id, openPeers(), deps.now());
        if (!routed.fresh) return;
        for (const peer of routed.forwardTo) sessions.get(peer)?.send({ type: 'gossip', json: routed.message });
      }
      if (catalogue.apply(a) === 'changed') {
        changed();
        if (a.kind === 'add') downloads.get(a.file.id)?.peerOpened(session.id);
      }
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
    const all = catalogue.announcements();
    for (let i = 0; i < all.length; i += CATALOGUE_BATCH) session.send({ type: 'catalogue', json: all.slice(i, i + CATALOGUE_BATCH) });
    for (const d of downloads.values()) d.peerOpened(peer);
  };

  const onPeerClose = (peer: string) => {
    sessions.delete(peer);
    uploader.removePeer(peer);
    for (const d of downloads.values()) d.peerGone(peer);
    if (!peers.present().has(peer) && catalogue.removePeer(peer)) changed();
  };

  let peers: PeerManager;
  const signal = deps.connectRelay({
    onWelcome(list) {
      peers.welcome(list);
      // After a relay outage, drop holders that are neither back in the room nor still linked to us.
      const here = new Set([...list, ...sessions.keys(), deps.self]);
      for (const entry of catalogue.entries()) for (const h of entry.holders) if (!here.has(h)) catalogue.removePeer(h);
      changed();
    },
    onPeerJoined: (p) => peers.joined(p),
    onPeerLeft(p) {
      peers.left(p);
      if (catalogue.removePeer(p)) changed();
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
    for (const d of downloads.values()) d.tick(now);
    if (downloads.size > 0) changed();
  });

  /** A held file lost pieces: fetch them again from the room, as a download would. */
  function repair(file: LocalFile): void {
    if (!downloads.has(file.meta.id)) startDownload(file.meta.id, file)?.start();
  }

  const ready = (async () => {
    const { files, damaged } = await library.load();
    for (const { file, missing } of damaged) {
      notices.error(`${missing} ${missing === 1 ? 'piece' : 'pieces'} of ${file.meta.name} went missing from this browser's storage; fetching them again.`);
    }
    for (const local of files) {
      // Complete files are announced; unfinished or damaged ones resume fetching by themselves.
      if (local.have.complete) announce('add', local);
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
      askToPersist();
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
        if (result.ok) announce('add', result.value);
        else notices.error(`Could not share ${file.name}: ${result.error}`);
        changed();
      }));
    },
    async download(fileId) {
      if (library.isComplete(fileId)) return true;
      const existing = downloads.get(fileId);
      if (existing && existing.status !== 'error') return new Promise<boolean>((resolve) => waiters.set(fileId, [...(waiters.get(fileId) ?? []), resolve]));
      const meta = library.get(fileId)?.meta ?? catalogue.meta(fileId);
      if (!meta) return false;
      const refusal = await refuseForSpace(meta.size, existing?.bytesDone ?? 0);
      if (refusal) {
        notices.error(`Cannot download ${meta.name}: ${refusal}`);
        return false;
      }
      askToPersist();
      if (existing) downloads.delete(fileId);
      const d = startDownload(fileId, library.get(fileId));
      if (!d) return false;
      const done = new Promise<boolean>((resolve) => waiters.set(fileId, [...(waiters.get(fileId) ?? []), resolve]));
      d.start();
      return done;
    },
    async cancel(fileId) {
      const d = downloads.get(fileId);
      if (!d || d.status === 'complete') return;
      d.fail('cancelled');
      settle(fileId, false);
      downloads.delete(fileId);
      await library.remove(fileId);
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
    stats: () => ({
      uploadedBytes,
      downloads: { ...Object.fromEntries(finished), ...Object.fromEntries([...downloads].map(([id, d]) => [id, downloadStats(d)])) },
    }),
    ready,
    internals,
    close() {
      stopTicking();
      signal.close();
      peers.close();
    },
  };
}

const formatSize = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.max(0, n / 2 ** 20).toFixed(1)} MiB`);

function relayErrorText(code: string, message: string): string {
  switch (code) {
    case 'room-full': return 'This room is full. Try again later or start a new room.';
    case 'server-full': return 'The meshdrop server is busy. It will retry by itself.';
    case 'rate-limited': return 'Too many messages to the server; slowing down.';
    case 'unauthenticated': return message;
    default: return `The signalling server reported a problem (${code}): ${message}`;
  }
}
