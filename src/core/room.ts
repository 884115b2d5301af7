import { toBase64Url } from './bytes.ts';

/**
 * A room is named by the URL fragment, which browsers never send to a server.
 * A started room gets a random 128-bit secret (22 base64url characters); a
 * person may also type a name (#my-family), which anyone can guess. The relay
 * only ever sees a topic derived one-way from the secret (crypto/room-keys.ts).
 */
export const SECRET_BYTES = 16;
const SECRET_RE = /^[A-Za-z0-9_-]{22}$/;
export const MAX_ROOM_NAME = 100;

export interface Room {
  secret: string;
  /** True for a typed name rather than a random secret: guessable, so public. */
  named: boolean;
}

export function newRoomSecret(getRandomValues: (b: Uint8Array) => Uint8Array): string {
  return toBase64Url(getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** Reads a room from location.hash. Null when there is none (the landing page). */
export function parseRoomFragment(hash: string): Room | null {
  let raw = hash.startsWith('#') ? hash.slice(1) : hash;
  try {
    raw = decodeURIComponent(raw);
  } catch {
    return null; // a malformed %-escape is not a room
  }
  raw = raw.trim();
  if (raw.length === 0 || raw.length > MAX_ROOM_NAME) return null;
  if (SECRET_RE.test(raw)) return { secret: raw, named: false };
  return { secret: raw.toLowerCase(), named: true };
}
