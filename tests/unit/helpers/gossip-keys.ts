import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes, toBase64Url, utf8 } from '../../../src/core/bytes.ts';
import { generateIdentity, openIdentity, peerIdFromPublicKey, verifySignature, type Identity } from '../../../src/core/crypto/identity.ts';
import { MAX_HOPS, signAnnouncement, type Announcement } from '../../../src/core/gossip/announcement.ts';
import type { FileMeta } from '../../../src/core/manifest/manifest.ts';

/** Real Ed25519 (WebCrypto in Node) keys and signed announcements for gossip tests. */
export type TestKey = Identity;

export const makeKey = async (): Promise<TestKey> => openIdentity(await generateIdentity());
export const verify = verifySignature;
export const idOf = peerIdFromPublicKey;

export const fileId = (n: number): string => n.toString(16).padStart(64, '0');
export const meta = (n: number, over: Partial<FileMeta> = {}): FileMeta => ({
  id: fileId(n), name: `file ${n}.bin`, size: 1000 + n, mime: 'application/octet-stream', ...over,
});

export function signed(
  key: TestKey, file: FileMeta, seq: number, kind: Announcement['kind'] = 'add', hops = MAX_HOPS,
): Promise<Announcement> {
  return signAnnouncement({ origin: key.id, key: toBase64Url(key.publicKey), seq, kind, file, hops }, (d) => key.sign(d));
}

/**
 * A fast stand-in for Ed25519 where thousands of announcements are signed:
 * the "signature" is SHA-256(publicKey | data), twice. Anyone could compute
 * it, but a test forger that does not still gets caught, and any change to
 * the signed bytes still breaks it.
 */
export function makeFakeKey(n: number): TestKey {
  const publicKey = sha256(utf8(`fake key ${n}`));
  const sig = (data: Uint8Array) => {
    const h = sha256(concatBytes([publicKey, data]));
    return concatBytes([h, h]);
  };
  return { id: peerIdFromPublicKey(publicKey), publicKey, sign: async (data) => sig(data) };
}

export async function fakeVerify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const h = sha256(concatBytes([publicKey, data]));
  return bytesEqual(signature, concatBytes([h, h]));
}
