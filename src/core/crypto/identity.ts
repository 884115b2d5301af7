import * as ed from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { peerIdFromDigest } from '../../../signaling/protocol.ts';
import { bytesEqual } from '../bytes.ts';

/**
 * A browser's long-lived Ed25519 identity. The relay admits a socket only when
 * it signs the relay's challenge, and derives the peer id from the public key,
 * so an id stays the same across reloads and cannot be claimed without the key.
 *
 * WebCrypto (a non-extractable key pair, so script can sign but never read the
 * private key) where the browser has Ed25519; otherwise @noble/ed25519 with a
 * stored seed. Insecure contexts (plain http on a LAN) have no crypto.subtle at
 * all, and some browsers lack Ed25519 in it.
 */
ed.hashes.sha512 = sha512; // noble v3's sync API needs a SHA-512; @noble/hashes is audited and already ours

export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
const SEED_BYTES = 32;

export interface Identity {
  readonly id: string;
  readonly publicKey: Uint8Array;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** What is kept in storage: a non-extractable WebCrypto key pair where possible, else the noble seed bytes. */
export type StoredIdentity =
  | { kind: 'webcrypto'; keys: CryptoKeyPair; publicKey: Uint8Array }
  | { kind: 'noble'; seed: Uint8Array; publicKey: Uint8Array };

const subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle;
const buf = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;
const ED25519 = 'Ed25519';

export function peerIdFromPublicKey(publicKey: Uint8Array): string {
  return peerIdFromDigest(sha256(publicKey));
}

export async function generateIdentity(opts: { preferWebCrypto?: boolean } = {}): Promise<StoredIdentity> {
  if (subtle && opts.preferWebCrypto !== false) {
    try {
      const keys = (await subtle.generateKey(ED25519, false, ['sign', 'verify'])) as CryptoKeyPair;
      const publicKey = new Uint8Array(await subtle.exportKey('raw', keys.publicKey));
      return { kind: 'webcrypto', keys, publicKey };
    } catch {
      // NotSupportedError: this browser's WebCrypto has no Ed25519. noble below is the planned path, not a failure.
    }
  }
  const seed = globalThis.crypto.getRandomValues(new Uint8Array(SEED_BYTES));
  return { kind: 'noble', seed, publicKey: ed.getPublicKey(seed) };
}

/** Sync, deterministic identity from a 32-byte seed via noble (Node tests and simulations need determinism). */
export function identityFromSeed(seed: Uint8Array): Identity {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_BYTES) {
    throw new TypeError(`an identity seed is ${SEED_BYTES} bytes`);
  }
  const secret = seed.slice();
  const publicKey = ed.getPublicKey(secret);
  return {
    id: peerIdFromPublicKey(publicKey),
    publicKey,
    sign: async (data) => ed.sign(data, secret),
  };
}

/**
 * Opens what storage returned. Rejects with a clear Error when it is not a usable
 * identity (wrong shape, key and public key that do not match, a key that cannot sign):
 * the caller replaces it and says so.
 */
export async function openIdentity(stored: StoredIdentity): Promise<Identity> {
  const s = stored as Partial<Record<string, unknown>> | null;
  if (typeof s !== 'object' || s === null) throw new Error('stored identity is not an object');
  const publicKey = s.publicKey;
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES) {
    throw new Error('stored identity has no 32-byte public key');
  }
  if (s.kind === 'noble') {
    const seed = s.seed;
    if (!(seed instanceof Uint8Array) || seed.length !== SEED_BYTES) throw new Error('stored identity has no 32-byte seed');
    const identity = identityFromSeed(seed);
    if (!bytesEqual(identity.publicKey, publicKey)) throw new Error('stored seed does not match its public key');
    return identity;
  }
  if (s.kind === 'webcrypto') return openWebCryptoIdentity(s.keys, publicKey);
  throw new Error('stored identity is of an unknown kind');
}

async function openWebCryptoIdentity(keys: unknown, publicKey: Uint8Array): Promise<Identity> {
  const privateKey = (keys as Partial<CryptoKeyPair> | null)?.privateKey;
  if (!subtle) throw new Error('this page has no WebCrypto (insecure context): a stored WebCrypto key cannot be used here');
  if (typeof CryptoKey === 'undefined' || !(privateKey instanceof CryptoKey) || privateKey.algorithm.name !== ED25519) {
    throw new Error('stored identity has no Ed25519 private key');
  }
  const sign = async (data: Uint8Array) => new Uint8Array(await subtle.sign(ED25519, privateKey, buf(data)));
  // One signature proves the private key is usable and belongs to the stored public key.
  const probe = new Uint8Array([1, 2, 3]);
  if (!(await verifySignature(publicKey, probe, await sign(probe)))) {
    throw new Error('stored private key does not match its public key');
  }
  return { id: peerIdFromPublicKey(publicKey), publicKey: publicKey.slice(), sign };
}

let webCryptoVerifies: Promise<boolean> | undefined;

/** Whether WebCrypto here verifies Ed25519 (checked once with noble's own key and signature). */
function webCryptoHasEd25519(): Promise<boolean> {
  return (webCryptoVerifies ??= (async () => {
    if (!subtle) return false;
    try {
      const seed = new Uint8Array(SEED_BYTES).fill(7);
      const data = new Uint8Array([1]);
      const key = await subtle.importKey('raw', buf(ed.getPublicKey(seed)), ED25519, false, ['verify']);
      return await subtle.verify(ED25519, key, buf(ed.sign(data, seed)), buf(data));
    } catch {
      return false; // no Ed25519 in this WebCrypto: noble verifies instead
    }
  })());
}

export async function verifySignature(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (!wellFormed(publicKey, data, signature)) return false;
  if (!(await webCryptoHasEd25519())) return verifySignatureSync(publicKey, data, signature);
  try {
    const key = await subtle!.importKey('raw', buf(publicKey), ED25519, false, ['verify']);
    return await subtle!.verify(ED25519, key, buf(signature), buf(data));
  } catch {
    return false; // a public key WebCrypto refuses to import is not a valid signer
  }
}

export function verifySignatureSync(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (!wellFormed(publicKey, data, signature)) return false;
  try {
    return ed.verify(signature, data, publicKey);
  } catch {
    return false; // noble throws on encodings that are not points: an invalid signature, nothing more
  }
}

function wellFormed(publicKey: unknown, data: unknown, signature: unknown): boolean {
  return publicKey instanceof Uint8Array && publicKey.length === PUBLIC_KEY_BYTES
    && signature instanceof Uint8Array && signature.length === SIGNATURE_BYTES
    && data instanceof Uint8Array;
}
