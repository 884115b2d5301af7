import { gcm } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { pbkdf2Async } from '@noble/hashes/pbkdf2.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64Url, fromUtf8, toBase64Url, toHex, utf8 } from '../bytes.ts';
import type { Room } from '../room.ts';

/**
 * Keys derived from the room secret, which never leaves the browser:
 * - the topic the relay sees: HKDF(secret, info "topic"), one-way;
 * - the key that seals every signalling message (SDP, ICE candidates) with
 *   AES-256-GCM: HKDF(secret, info "signal-key"). The relay can neither read
 *   nor alter them, so it cannot put itself between two peers.
 * A named room (#my-family) is guessable, so its secret first goes through
 * PBKDF2 with many iterations: every offline guess costs real time.
 *
 * WebCrypto exists only in secure contexts; a phone on plain http over the LAN
 * uses @noble (audited pure JS) for the same algorithms and the same bytes.
 */
export const NAMED_ROOM_ITERATIONS = 210_000;
const SALT = utf8('meshdrop/v1');
const IV_BYTES = 12;

export interface RoomKeys {
  topic: string;
  /** Encrypts and authenticates `text`, bound to `context` (e.g. topic, sender, recipient). */
  seal(context: string, text: string): Promise<string>;
  /** The text, or null when the message is malformed, altered or sealed with another key. */
  open(context: string, sealed: string): Promise<string | null>;
}

const subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle;
const buf = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;

async function hkdfBytes(ikm: Uint8Array, info: string): Promise<Uint8Array> {
  if (!subtle) return hkdf(sha256, ikm, SALT, utf8(info), 32);
  const key = await subtle.importKey('raw', buf(ikm), 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: buf(SALT), info: buf(utf8(info)) }, key, 256));
}

async function pbkdf2Bytes(password: Uint8Array): Promise<Uint8Array> {
  const salt = utf8('meshdrop/v1/named-room');
  if (!subtle) return pbkdf2Async(sha256, password, salt, { c: NAMED_ROOM_ITERATIONS, dkLen: 32 });
  const key = await subtle.importKey('raw', buf(password), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: buf(salt), iterations: NAMED_ROOM_ITERATIONS }, key, 256));
}

type Aead = {
  encrypt(iv: Uint8Array, aad: Uint8Array, plain: Uint8Array): Promise<Uint8Array>;
  decrypt(iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Promise<Uint8Array>;
};

async function aesGcm(raw: Uint8Array): Promise<Aead> {
  if (!subtle) {
    return {
      encrypt: async (iv, aad, plain) => gcm(raw, iv, aad).encrypt(plain),
      decrypt: async (iv, aad, sealed) => gcm(raw, iv, aad).decrypt(sealed),
    };
  }
  const key = await subtle.importKey('raw', buf(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
  const params = (iv: Uint8Array, aad: Uint8Array) => ({ name: 'AES-GCM', iv: buf(iv), additionalData: buf(aad) });
  return {
    encrypt: async (iv, aad, plain) => new Uint8Array(await subtle.encrypt(params(iv, aad), key, buf(plain))),
    decrypt: async (iv, aad, sealed) => new Uint8Array(await subtle.decrypt(params(iv, aad), key, buf(sealed))),
  };
}

export async function deriveRoomKeys(room: Room, randomBytes: (n: number) => Uint8Array): Promise<RoomKeys> {
  const secret = utf8(room.secret);
  const ikm = room.named ? await pbkdf2Bytes(secret) : secret;
  const topic = toHex(await hkdfBytes(ikm, 'meshdrop/v1/topic'));
  const aead = await aesGcm(await hkdfBytes(ikm, 'meshdrop/v1/signal-key'));
  return {
    topic,
    async seal(context, text) {
      const iv = randomBytes(IV_BYTES);
      const sealed = await aead.encrypt(iv, utf8(context), utf8(text));
      const out = new Uint8Array(IV_BYTES + sealed.length);
      out.set(iv);
      out.set(sealed, IV_BYTES);
      return toBase64Url(out);
    },
    async open(context, sealed) {
      const bytes = fromBase64Url(sealed);
      if (!bytes || bytes.length < IV_BYTES + 16) return null;
      try {
        return fromUtf8(await aead.decrypt(bytes.subarray(0, IV_BYTES), utf8(context), bytes.subarray(IV_BYTES)));
      } catch {
        return null; // authentication failed: forged, altered, or another room's key. The caller reports it.
      }
    },
  };
}
