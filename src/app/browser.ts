import { RELAY_PATH } from '../../signaling/protocol.ts';
import { sha256 } from '../core/hash.ts';
import { peerIdFromPublicKey, verifySignature } from '../core/crypto/identity.ts';
import { deriveRoomKeys, type RoomKeys } from '../core/crypto/room-keys.ts';
import type { Room } from '../core/room.ts';
import { RateLimit } from '../core/throttle.ts';
import { decodeFrame, type WireMessage } from '../core/wire/frames.ts';
import { createRtcPeer } from '../net/rtc-peer.ts';
import { viaMesh } from '../net/mesh-transport.ts';
import { sealSignals } from '../net/sealed-signal.ts';
import { openEarlySocket, withEarlySocket, type EarlySocket } from '../net/early-socket.ts';
import { createSignalClient } from '../net/signal-client.ts';
import { createIdbStore } from '../storage/idb-store.ts';
import { addressPrivacy, icePolicy, isTurnServer } from './address-privacy.ts';
import { createEngine, type Engine } from './engine.ts';
import { askForRoom, holdRoom, roomsOpenElsewhere } from './tab-lock.ts';
import { connectMediaBridge, type MediaBridge } from './media-bridge.ts';
import { JoinTimeline } from './join-timeline.ts';
import { HIDE_ADDRESS_PREF, opensRoom, readPageEdges, type PageEdges } from './page-start.ts';

/**
 * Browser wiring: the real edges (IndexedDB, simple-peer, WebSocket, timers)
 * handed to the engine. Nothing here decides anything.
 */
const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** This page load's steps into its room, ms since navigation start (the first engine's; a restarted one adds nothing new). */
const timeline = new JoinTimeline(() => performance.now());
timeline.mark('script');

const relayUrl = () => `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${RELAY_PATH}`;
/** The relay socket of a page that opens a room opens with the page (net/early-socket.ts): the relay's challenge waits for us, not we for it. */
const earlyRelay: EarlySocket | null = opensRoom(location.hash) ? openEarlySocket(WebSocket, relayUrl()) : null;

/** The engine's reads from this browser, all at once (page-start.ts). */
function pageEdges(): Promise<PageEdges> {
  const edges = readPageEdges(createIdbStore(), timeline);
  // Awaited by the engine's start, which reports a failure; unused when the room is open in another tab.
  edges.catch(() => undefined);
  return edges;
}

export const TURN_REFUSED_TEXT =
  'The TURN server refused our credentials (they expired, or this meshdrop server and its TURN server do not share the same secret). ' +
  'Friends on other networks may not connect until it is fixed; reloading the page fetches new credentials.';

/**
 * `?uplimit=<bytes per second>` caps this page's upload rate: for people on
 * metered links, and for tests and the benchmark that need the network, not
 * the CPU, to be the limit.
 */
function uploadThrottle(): ((bytes: number) => Promise<void>) | undefined {
  const limit = Number(new URLSearchParams(location.search).get('uplimit'));
  if (!Number.isFinite(limit) || limit <= 0) return undefined;
  const bucket = new RateLimit(limit);
  return (bytes) => new Promise((resolve) => setTimeout(resolve, bucket.book(bytes, performance.now())));
}

export type StartResult = { kind: 'started'; engine: Engine } | { kind: 'open-elsewhere' };

/**
 * Starts this tab's engine in `room`, unless another tab of this browser has
 * the room open (then 'open-elsewhere'; with `takeOver` that tab is asked to
 * let go first). `onTakenOver` runs when another tab takes the room from us:
 * our engine is closed by then.
 */
export async function startBrowserEngine(room: Room, opts: { takeOver: boolean; onTakenOver(): void }): Promise<StartResult> {
  const keys = await deriveRoomKeys(room, randomBytes);
  timeline.mark('keys');
  if (opts.takeOver) askForRoom(keys.topic);
  let engine: Engine | null = null;
  const holding = holdRoom(keys.topic, opts.takeOver, () => {
    engine?.close();
    opts.onTakenOver();
  });
  // Only after the lock is asked for: Chromium answers it after storage work queued before it (measured: up to
  // hundreds of ms behind the reads on a busy machine), and the reads need not wait for the lock.
  const edges = pageEdges();
  const hold = await holding;
  if (!hold) {
    earlyRelay?.close(); // the tab that has the room keeps it; "use it here" opens a new socket
    return { kind: 'open-elsewhere' };
  }
  timeline.mark('tab');
  engine = createBrowserEngine(keys, await edges.catch((e: Error) => {
    earlyRelay?.close();
    hold.release();
    throw e;
  }));
  const close = engine.close;
  engine.close = () => {
    close();
    hold.release();
  };
  return { kind: 'started', engine };
}

function createBrowserEngine(keys: RoomKeys, { store, identity, ice, name, hideAddress }: PageEdges): Engine {
  const self = identity.id;
  const topic = keys.topic;
  /** The TURN servers minted for us in the relay's latest welcome: links made later use the freshest. */
  let turnServers: RTCIceServer[] = [];
  let hidden = hideAddress;
  const privacyFacts = () => ({
    enforced: ice.iceTransportPolicy === 'relay',
    turnKnown: turnServers.length > 0 || ice.iceServers.some(isTurnServer),
    hidden,
  });
  let media: MediaBridge | null = null;
  const watch = frameWatch();

  const engine = createEngine({
    self: identity,
    verify: verifySignature,
    idOf: peerIdFromPublicKey,
    room: topic,
    name,
    store,
    sha256,
    now: () => performance.now(),
    wallClock: () => Date.now(),
    random: Math.random,
    randomBytes,
    connectRelay: sealSignals(keys, self, viaMesh((handlers) =>
      createSignalClient(
        {
          url: relayUrl(), topic, identity, self,
          WebSocket: withEarlySocket(WebSocket, earlyRelay), random: Math.random,
          setTimeout: (fn, ms) => setTimeout(fn, ms),
          clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
        },
        { ...handlers, onIceServers: (servers) => void (turnServers = servers) },
      ))),
    createConnection: (opts, handlers) =>
      createRtcPeer(
        {
          ...opts,
          iceServers: () => [...ice.iceServers, ...turnServers],
          iceTransportPolicy: () => icePolicy(privacyFacts()),
          // 401: the TURN server refused the credentials; other errors (an unreachable STUN server) are routine.
          onIceError: (code) => code === 401 && engine.internals.notices.error(TURN_REFUSED_TEXT),
        },
        { ...handlers, onFrame: (bytes) => (watch.note(bytes), handlers.onFrame(bytes)) },
      ),
    every(ms, fn) {
      const h = setInterval(fn, ms);
      return () => clearInterval(h);
    },
    pieceStored: (fileId) => media?.stored(fileId),
    onBattery: batteryWatch(),
    throttle: uploadThrottle(),
    privacy: {
      view: () => addressPrivacy(privacyFacts()),
      setHidden(on) {
        hidden = on;
        return store.setPref(HIDE_ADDRESS_PREF, on ? 'on' : 'off');
      },
    },
    openElsewhere: (rooms) => roomsOpenElsewhere(rooms, topic),
    timeline,
    storage: navigator.storage?.estimate
      ? {
          estimate: async () => {
            const e = await navigator.storage.estimate();
            return e.quota === undefined || e.usage === undefined ? null : { quota: e.quota, usage: e.usage };
          },
          persist: () => navigator.storage.persist(),
        }
      : undefined,
  });
  timeline.mark('engine');
  media = connectMediaBridge(engine, window.isSecureContext ? navigator.serviceWorker : undefined, () => performance.now());
  const close = engine.close;
  engine.close = () => {
    close();
    media?.close();
  };
  // Read-only counters for tests, the benchmark and curious people in the console.
  // sendFrame lets a test (or a curious person) play a hostile peer: anything sent is checked by the receiver as usual.
  (globalThis as { __meshdrop?: unknown }).__meshdrop = {
    self,
    stats: () => engine.stats(),
    /** When this page load reached each step of joining (join-timeline.ts), ms since navigation start. */
    timeline: () => engine.timeline(),
    /** Per open peer: 'direct', 'relay' (through TURN) or null (not read yet). */
    routes: () => Object.fromEntries(engine.getState().peers.filter((p) => p.link === 'open').map((p) => [p.id, p.via])),
    sendFrame: (peer: string, bytes: Uint8Array) => engine.internals.sessions.get(peer)?.link.send(bytes),
    /** Frames received from now on that name this file id (decoded): what peers answer a crafted ask. */
    watchFile: (fileId: string) => watch.start(fileId),
    watched: (fileId: string) => watch.frames(fileId),
    /** Everything this engine holds and shows, as text: a test searches it for what must never be there. */
    dump: () => JSON.stringify({ state: engine.getState(), stats: engine.stats(), catalogue: engine.internals.catalogue.announcements() }),
    /** Ends the link to `peer` as a lost path would; whichever of the two dials makes it again (through the mesh, if the relay is away). */
    dropLink: (peer: string) => engine.internals.sessions.get(peer)?.link.destroy('ERR_LINK_LOST', 'ended from the console'),
  };
  return engine;
}

/** Records received frames that name a watched file id, for tests playing a hostile peer (__meshdrop.watchFile). */
function frameWatch() {
  const frames = new Map<string, WireMessage[]>();
  return {
    start: (fileId: string) => void frames.set(fileId, []),
    frames: (fileId: string) => frames.get(fileId) ?? [],
    note(bytes: Uint8Array) {
      if (frames.size === 0) return;
      const m = decodeFrame(bytes);
      if (m.ok && 'fileId' in m.value) frames.get(m.value.fileId)?.push(m.value);
    },
  };
}

/**
 * Whether this device runs on battery, for the super-peer rule: navigator.getBattery()
 * where the browser has it (Chromium), kept current by its events; unknown elsewhere
 * (Firefox, Safari), and unknown never makes a super-peer.
 */
function batteryWatch(): () => boolean | undefined {
  let onBattery: boolean | undefined;
  type Battery = EventTarget & { charging: boolean };
  const getBattery = (navigator as Navigator & { getBattery?: () => Promise<Battery> }).getBattery;
  void getBattery?.call(navigator).then((b) => {
    onBattery = !b.charging;
    b.addEventListener('chargingchange', () => void (onBattery = !b.charging));
  }, () => undefined); // refused (a permissions policy): stays unknown, as where the API is missing
  return () => onBattery;
}

/** Hands a Blob to the browser's download manager under a safe name. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoking at once can cancel the download in some browsers; a minute is plenty to start it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
