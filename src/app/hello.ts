import { fromBase64Url, toBase64Url, utf8 } from '../core/bytes.ts';
import { err, ok, type Result } from '../core/result.ts';
import { WIRE_VERSION, type WireMessage } from '../core/wire/frames.ts';

/**
 * HELLO binds a link to an identity. Each side signs, with its persistent
 * identity key, the room and both DTLS certificate fingerprints of this very
 * connection as it sees them. The other side checks that the key is the one
 * its peer id is derived from (the relay admitted that id only against a
 * signature by the same key) and that the fingerprints are the ones it sees.
 * Someone in the middle terminates DTLS with each side under its own
 * certificate, so the fingerprints differ and it cannot sign for either
 * identity: the link is refused. Two people who compare their safety number
 * (from the identity keys) therefore know there is nobody in between.
 */
export interface Signer {
  readonly id: string;
  readonly publicKey: Uint8Array;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export type Verify = (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array) => Promise<boolean>;

export interface Fingerprints {
  local: string;
  remote: string;
}

const bindingText = (topic: string, signerFingerprint: string, otherFingerprint: string): Uint8Array =>
  utf8(`meshdrop/v2/hello\n${topic}\n${signerFingerprint.trim().toLowerCase()}\n${otherFingerprint.trim().toLowerCase()}`);

export async function makeHello(self: Signer, name: string, topic: string, fps: Fingerprints | null): Promise<WireMessage> {
  const sig = await self.sign(bindingText(topic, fps?.local ?? '', fps?.remote ?? ''));
  return { type: 'hello', version: WIRE_VERSION, name, key: toBase64Url(self.publicKey), sig: toBase64Url(sig) };
}

/** The peer's identity key if its HELLO proves it is `peer` on this very link. */
export async function checkHello(
  m: Extract<WireMessage, { type: 'hello' }>,
  peer: string,
  topic: string,
  fps: Fingerprints | null,
  verify: Verify,
  idOf: (publicKey: Uint8Array) => string,
): Promise<Result<Uint8Array>> {
  if (m.version !== WIRE_VERSION) return err('ERR_VERSION', `peer speaks wire version ${m.version}, we speak ${WIRE_VERSION}`);
  const key = fromBase64Url(m.key);
  const sig = fromBase64Url(m.sig);
  if (!key || !sig) return err('ERR_FRAME_FIELD', 'hello: key or signature is not base64url');
  if (idOf(key) !== peer) return err('ERR_IDENTITY', 'hello: the key is not the one this peer was admitted with');
  const good = await verify(key, bindingText(topic, fps?.remote ?? '', fps?.local ?? ''), sig);
  return good ? ok(key) : err('ERR_IDENTITY', 'hello: the signature does not bind this connection');
}
