import { generateIdentity, openIdentity, type Identity, type StoredIdentity } from '../core/crypto/identity.ts';

/**
 * This browser's identity, kept in storage (IndexedDB structured-clones CryptoKey
 * objects, so a non-extractable key pair is stored as is and never readable by script).
 */
export const IDENTITY_STORE_KEY = 'identity';

export interface IdentityKv {
  get(key: string): Promise<unknown>;
  set(key: string, v: unknown): Promise<void>;
}

export interface LoadedIdentity {
  identity: Identity;
  /** No usable identity was stored: this one is new (peers will see a new id). */
  created: boolean;
  /** A stored identity existed but could not be opened; it was replaced. */
  replacedBroken: boolean;
  /** Why the stored one could not be used, when replacedBroken. */
  problem?: string;
}

export async function loadOrCreateIdentity(kv: IdentityKv): Promise<LoadedIdentity> {
  const stored = await kv.get(IDENTITY_STORE_KEY);
  let problem: string | undefined;
  if (stored !== undefined) {
    try {
      return { identity: await openIdentity(stored as StoredIdentity), created: false, replacedBroken: false };
    } catch (e) {
      problem = (e as Error).message;
    }
  }
  const identity = await createAndStore(kv);
  return { identity, created: true, replacedBroken: problem !== undefined, ...(problem === undefined ? {} : { problem }) };
}

/**
 * Two tabs opened at once may both create one: the last write wins, so read back
 * and use what storage kept, or this tab would sign as an identity that no reload has.
 */
async function createAndStore(kv: IdentityKv): Promise<Identity> {
  const fresh = await generateIdentity();
  await kv.set(IDENTITY_STORE_KEY, fresh);
  const kept = await kv.get(IDENTITY_STORE_KEY);
  try {
    return await openIdentity(kept as StoredIdentity);
  } catch {
    return openIdentity(fresh); // storage did not keep anything usable: this session still works with its own
  }
}
