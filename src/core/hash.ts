import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/**
 * SHA-256. WebCrypto runs near 1 GB/s but exists only in secure contexts (https,
 * localhost). A phone opening the app over plain http on the LAN has no
 * crypto.subtle, so we fall back to @noble/hashes (audited, ~15x slower) rather
 * than refuse to work.
 */
export type Sha256 = (data: Uint8Array) => Promise<Uint8Array>;

const subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle;

export const sha256: Sha256 = subtle
  ? async (data) => new Uint8Array(await subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>))
  : async (data) => nobleSha256(data);
