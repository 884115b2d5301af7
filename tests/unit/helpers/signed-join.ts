/**
 * Joins as a raw relay client does: wait for the socket's challenge, sign it with an
 * identity, send the join. For tests that speak the relay protocol by hand.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { WebSocket } from 'ws';
import { joinChallengeText, parseRelayMessage, type ClientMessage } from '../../../signaling/protocol.ts';
import { toBase64Url, utf8 } from '../../../src/core/bytes.ts';
import { identityFromSeed, peerIdFromPublicKey, type Identity } from '../../../src/core/crypto/identity.ts';

export const newTestIdentity = (): Identity => identityFromSeed(new Uint8Array(randomBytes(32)));

export async function joinMessage(
  identity: Pick<Identity, 'publicKey' | 'sign'>, nonce: string, topic: string,
): Promise<Extract<ClientMessage, { type: 'join' }>> {
  const sig = await identity.sign(utf8(joinChallengeText(nonce, topic)));
  return { type: 'join', topic, key: toBase64Url(identity.publicKey), sig: toBase64Url(sig) };
}

/** Resolves with the nonce of the first challenge on `ws` (attach before 'open' resolves, or it may be missed). */
export function challengeOf(ws: WebSocket, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no challenge from the relay')), ms);
    const onMessage = (data: unknown): void => {
      const m = parseRelayMessage(String(data));
      if (!m.ok || m.value.type !== 'challenge') return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(m.value.nonce);
    };
    ws.on('message', onMessage);
  });
}

/**
 * An identity on Node's own Ed25519 (OpenSSL): about a hundred times faster to sign
 * with than noble, for tests that sign thousands of joins. Its id comes from the
 * browser code's peerIdFromPublicKey, so it also checks both derive the same ids.
 */
export function nodeTestIdentity(): Identity {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'));
  return {
    id: peerIdFromPublicKey(raw),
    publicKey: raw,
    sign: async (data) => new Uint8Array(sign(null, data, privateKey)),
  };
}
