import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { peerIdFromDigest } from '../../signaling/protocol.ts';
import { toBase64Url, utf8 } from '../core/bytes.ts';

/**
 * TEMPORARY, until the identity module lands: an Ed25519 signer and verifier
 * on WebCrypto (browsers' secure contexts, Node >= 20), and the peer id of a
 * public key as the relay derives it today, i.e. the id the relay gives to
 * the key string base64url(publicKey). A peer that uses base64url(publicKey)
 * as its relay key therefore has one id for the relay, its links and its
 * gossip origin.
 */
export interface GossipIdentity {
  id: string;
  publicKey: Uint8Array;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export const relayKeyOf = (publicKey: Uint8Array): string => toBase64Url(publicKey);

export const idOfPublicKey = (publicKey: Uint8Array): string => peerIdFromDigest(nobleSha256(utf8(relayKeyOf(publicKey))));

export async function createWebCryptoIdentity(): Promise<GossipIdentity> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('this page has no WebCrypto (not a secure context), so it cannot sign announcements');
  const pair = (await subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  return {
    id: idOfPublicKey(publicKey),
    publicKey,
    sign: async (data) => new Uint8Array(await subtle.sign({ name: 'Ed25519' }, pair.privateKey, data as Uint8Array<ArrayBuffer>)),
  };
}

/** False, never a throw, for a key WebCrypto cannot import: that is the announcement's fault. */
export async function webCryptoVerify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('no WebCrypto to verify signatures with');
  let key: CryptoKey;
  try {
    key = await subtle.importKey('raw', publicKey as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify']);
  } catch {
    return false; // not a valid Ed25519 public key
  }
  return subtle.verify({ name: 'Ed25519' }, key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>);
}
