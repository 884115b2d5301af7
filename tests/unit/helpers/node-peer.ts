import { createHash, randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { WebSocket } from 'ws';
import { RELAY_PATH } from '../../../signaling/protocol.ts';
import { createRelay, type Relay } from '../../../signaling/relay.ts';
import { createEngine, type Engine, type EngineDeps } from '../../../src/app/engine.ts';
import { peerIdFromPublicKey, verifySignature, type Identity } from '../../../src/core/crypto/identity.ts';
import { deriveRoomKeys } from '../../../src/core/crypto/room-keys.ts';
import { sha256 } from '../../../src/core/hash.ts';
import { viaMesh } from '../../../src/net/mesh-transport.ts';
import { sealSignals } from '../../../src/net/sealed-signal.ts';
import { RateLimit } from '../../../src/core/throttle.ts';
import { createSignalClient } from '../../../src/net/signal-client.ts';
import { createMemoryStore } from '../../../src/storage/memory-store.ts';
import type { Store } from '../../../src/storage/store.ts';
import type { MemoryNetwork } from './memory-net.ts';
import { newTestIdentity } from './signed-join.ts';

export { newTestIdentity } from './signed-join.ts';

/** A meshdrop engine in Node: real relay client over `ws`, in-memory links and storage. */
export interface NodePeer {
  engine: Engine;
  store: Store;
  id: string;
}

export const ROOM = 'test-room-default';

/** Every test client comes from 127.0.0.1: the per-address caps would otherwise bite a file of tests. */
export const LOOPBACK_LIMITS = { maxConnectionsPerAddress: 10_000, maxIdentitiesPerAddress: 10_000 };


export async function startTestRelay(): Promise<{ relay: Relay; url: string }> {
  const relay = createRelay({ port: 0, host: '127.0.0.1', log: () => undefined, limits: LOOPBACK_LIMITS });
  await relay.ready;
  return { relay, url: `ws://127.0.0.1:${relay.address().port}${RELAY_PATH}` };
}

/** Starts an engine in room `room` (a secret), with sealed signalling as in the browser. */
export async function startNodePeer(
  relayUrl: string,
  net: MemoryNetwork,
  opts: {
    name?: string; store?: Store; room?: string; identity?: Identity; deps?: Partial<EngineDeps>;
    /** Peers this engine's relay never introduces (as if it listed a sample of the room): no link to them, no word of their leaving. */
    hide?: string[];
  } = {},
): Promise<NodePeer> {
  const identity = opts.identity ?? newTestIdentity();
  const id = identity.id;
  const store = opts.store ?? createMemoryStore();
  const keys = await deriveRoomKeys({ secret: opts.room ?? ROOM, named: false }, (n) => new Uint8Array(randomBytes(n)));
  const engine = createEngine({
    self: identity,
    verify: verifySignature,
    idOf: peerIdFromPublicKey,
    room: keys.topic,
    name: opts.name ?? `peer-${id.slice(0, 4)}`,
    store,
    sha256,
    now: () => performance.now(),
    wallClock: () => Date.now(),
    random: Math.random,
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
    connectRelay: hiding(opts.hide ?? [], sealSignals(keys, id, viaMesh((handlers) =>
      createSignalClient(
        {
          url: relayUrl, topic: keys.topic, identity, self: id,
          WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
          random: Math.random, setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
        },
        handlers,
      )))),
    createConnection: net.factory,
    every(ms, fn) {
      const h = setInterval(fn, ms);
      return () => clearInterval(h);
    },
    ...opts.deps,
  });
  return { engine, store, id };
}

/** A relay client that never mentions `hidden` peers: not in welcomes, joins or leaves, and their signals never arrive. */
function hiding(hidden: string[], connect: EngineDeps['connectRelay']): EngineDeps['connectRelay'] {
  if (hidden.length === 0) return connect;
  const shown = (p: string) => !hidden.includes(p);
  return (h, mesh) => connect({
    ...h,
    onWelcome: (peers, size) => h.onWelcome(peers.filter(shown), size), // the room's size stays: a sample
    onPeerJoined: (p) => shown(p) && h.onPeerJoined(p),
    onPeerLeft: (p) => shown(p) && h.onPeerLeft(p),
    onSignal: (from, data) => shown(from) && h.onSignal(from, data),
  }, mesh);
}

/** Resolves when `check` holds for the engine's state, or rejects after `ms`. */
export function until(engine: Engine, check: () => boolean, what: string, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    const stop = engine.subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}

export const fileOf = (bytes: Uint8Array, name: string, type = 'application/octet-stream'): File =>
  new File([bytes as Uint8Array<ArrayBuffer>], name, { type });

export async function blobSha256(blob: Blob): Promise<string> {
  return createHash('sha256').update(new Uint8Array(await blob.arrayBuffer())).digest('hex');
}

/** A test-only upload throttle for an engine (EngineDeps.throttle). */
export function throttle(bytesPerSecond: number): (bytes: number) => Promise<void> {
  const limit = new RateLimit(bytesPerSecond);
  return (bytes) => new Promise((resolve) => setTimeout(resolve, limit.book(bytes, performance.now())));
}

/**
 * A relay on port 0 for one test file, and the engines started on it: all
 * closed once the file's tests are done.
 */
export function testRelay(): { url(): string; start(net: MemoryNetwork, opts?: Parameters<typeof startNodePeer>[2]): Promise<NodePeer> } {
  let relay: Relay | undefined;
  let url = '';
  const engines: NodePeer[] = [];
  before(async () => ({ relay, url } = await startTestRelay()));
  after(async () => {
    for (const p of engines) p.engine.close();
    await relay?.close();
  });
  return {
    url: () => url,
    async start(net, opts) {
      const p = await startNodePeer(url, net, opts);
      engines.push(p);
      return p;
    },
  };
}
