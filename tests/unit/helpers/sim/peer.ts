import { createHash } from 'node:crypto';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { createEngine, type Engine, type EngineDeps } from '../../../../src/app/engine.ts';
import { peerIdFromPublicKey, type Identity } from '../../../../src/core/crypto/identity.ts';
import type { Sha256 } from '../../../../src/core/hash.ts';
import { createMemoryStore, type MemoryStore } from '../../../../src/storage/memory-store.ts';
import { mulberry32 } from '../random.ts';
import type { SimClock } from './clock.ts';
import type { SimNetwork } from './link.ts';
import type { SimRelay } from './relay.ts';

/**
 * One person in a simulation: a memory store that survives reloads, and an
 * engine built from simEngineDeps (the only place EngineDeps are assembled,
 * so a change to them is made here once).
 */
export interface SimWorld {
  clock: SimClock;
  relay: SimRelay;
  net: SimNetwork;
}

/** Synchronous inside, so the sim's async work is promise-only and deterministic. */
export const syncSha256: Sha256 = async (d) => new Uint8Array(createHash('sha256').update(d).digest());

export function seededBytes(random: () => number): (n: number) => Uint8Array {
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
    return out;
  };
}

/**
 * An Ed25519 identity on node:crypto: synchronous inside (deterministic in the
 * sim) and fast, unlike pure-JS signing. Same keys and signatures as WebCrypto.
 */
export function simIdentity(seed: Uint8Array): Identity {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = new Uint8Array(Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url'));
  return { id: peerIdFromPublicKey(publicKey), publicKey, sign: async (data) => new Uint8Array(sign(null, data, privateKey)) };
}
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export async function simVerify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' });
    return verify(null, data, key, signature);
  } catch {
    return false; // not a key: the signature cannot be good
  }
}

export interface SimPeerSpec {
  identity: Identity;
  name: string;
  store: MemoryStore;
  /** Seed of this engine's randomness (differs per start, as a fresh page's would). */
  seed: number;
}

export function simEngineDeps(world: SimWorld, spec: SimPeerSpec): EngineDeps {
  const random = mulberry32(spec.seed);
  return {
    self: spec.identity,
    verify: simVerify,
    idOf: peerIdFromPublicKey,
    room: 'sim-room',
    name: spec.name,
    store: spec.store,
    sha256: syncSha256,
    now: world.clock.now,
    wallClock: () => 1_800_000_000_000 + world.clock.now(),
    random,
    randomBytes: seededBytes(random),
    connectRelay: (h) => world.relay.connect(spec.identity.id, h),
    createConnection: world.net.factory(spec.name),
    every: (ms, fn) => world.clock.every(ms, fn),
    wait: (ms) => new Promise<void>((resolve) => world.clock.setTimeout(resolve, ms)),
  };
}

/** A File whose reads resolve as plain promises (a real Blob's may need more than one macrotask). */
export class SimFile extends File {
  constructor(private readonly data: Uint8Array, name: string) {
    super([data as Uint8Array<ArrayBuffer>], name, { type: 'application/octet-stream' });
  }
  override slice(start = 0, end = this.data.length): Blob {
    const part = this.data.slice(start, end);
    const blob = new Blob([part]);
    return Object.assign(blob, { arrayBuffer: () => Promise.resolve(part.buffer) });
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this.data.slice().buffer);
  }
}

export class SimPeer {
  readonly store: MemoryStore = createMemoryStore();
  engine: Engine | null = null;
  /** Engines started so far (a reload starts a new one). */
  starts = 0;

  constructor(private readonly world: SimWorld, readonly identity: Identity, readonly name: string, private readonly seed: number) {}

  get id(): string {
    return this.identity.id;
  }

  get online(): boolean {
    return this.engine !== null;
  }

  start(): Engine {
    if (this.engine) return this.engine;
    this.starts++;
    const spec = { identity: this.identity, name: this.name, store: this.store, seed: (this.seed * 7919 + this.starts) >>> 0 };
    this.engine = createEngine(simEngineDeps(this.world, spec));
    return this.engine;
  }

  /** The tab closes. */
  close(): void {
    this.engine?.close();
    this.engine = null;
  }

  /** The page reloads: same browser storage, same id, a new engine. */
  reload(): Engine {
    this.close();
    return this.start();
  }
}
