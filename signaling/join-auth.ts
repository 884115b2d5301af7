/**
 * Admission by signed challenge, with Node's own crypto: the relay sends each socket
 * a fresh nonce, and a join must carry an Ed25519 signature of
 * joinChallengeText(nonce, topic) by the key whose hash becomes the peer id.
 */
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { joinChallengeText, peerIdFromDigest } from './protocol.ts';

const NONCE_BYTES = 32;

export const newNonce = (): string => randomBytes(NONCE_BYTES).toString('base64url');

/** 16 base64url characters of SHA-256(raw public key): only the private key's holder can have this id. */
export const peerIdForPublicKey = (raw: Buffer): string => peerIdFromDigest(createHash('sha256').update(raw).digest());

export type JoinCheck = { ok: true; id: string } | { ok: false; error: string };

/** `key` and `sig` are already base64url of the right lengths (parseClientMessage checked). Never throws. */
export function verifyJoin(nonce: string, topic: string, key: string, sig: string): JoinCheck {
  const raw = Buffer.from(key, 'base64url');
  const signature = Buffer.from(sig, 'base64url');
  if (raw.length !== 32 || signature.length !== 64) return { ok: false, error: 'key or signature has the wrong length' };
  let valid: boolean;
  try {
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key }, format: 'jwk' });
    valid = verify(null, Buffer.from(joinChallengeText(nonce, topic), 'utf8'), publicKey, signature);
  } catch {
    valid = false; // OpenSSL refuses some encodings that are not curve points: not a valid signer either
  }
  if (!valid) return { ok: false, error: 'the join signature does not verify for this key, nonce and topic' };
  return { ok: true, id: peerIdForPublicKey(raw) };
}
