import { toBase64Url } from './bytes.ts';
import { err, ok, type Result } from './result.ts';

/**
 * A room is named by the URL fragment, which browsers never send to a server.
 * A started room gets a random 128-bit secret (22 base64url characters); a
 * person may also type a name (#my-family), which anyone can guess. The relay
 * only ever sees a topic derived one-way from the secret (crypto/room-keys.ts),
 * and a named room's secret is stretched first, because it is guessable.
 *
 * A name typed in the Join box is always a name, even one that happens to look
 * like a random key ("abcdefghijklmnopqrstuv" is 22 letters): such a name is
 * written with an explicit marker, #name:abcdefghijklmnopqrstuv.
 */
export const SECRET_BYTES = 16;
const SECRET_RE = /^[A-Za-z0-9_-]{22}$/;
export const MAX_ROOM_NAME = 100;
/** Marks a fragment as a typed name. Read case-insensitively, so a hand-typed #Name:x works too. */
export const NAME_MARKER = 'name:';
/** #share is the share-target picker's page, not a room: a room typed as "share" gets the marker. */
export const SHARE_FRAGMENT = 'share';

export interface Room {
  secret: string;
  /** True for a typed name rather than a random secret: guessable, so public. */
  named: boolean;
}

export function newRoomSecret(getRandomValues: (b: Uint8Array) => Uint8Array): string {
  return toBase64Url(getRandomValues(new Uint8Array(SECRET_BYTES)));
}

const hasNameMarker = (text: string): boolean => text.slice(0, NAME_MARKER.length).toLowerCase() === NAME_MARKER;

/**
 * One spelling per room: trimmed, lowercased, and in NFC, so "café" typed on
 * a Mac (often decomposed) and on a phone (composed) is the same room.
 */
function namedRoom(name: string): Room | null {
  const typed = name.trim(); // bounded as typed: the Join box limits what is typed, not its lowercase
  if (typed.length === 0 || typed.length > MAX_ROOM_NAME) return null;
  return { secret: typed.normalize('NFC').toLowerCase(), named: true };
}

/** Reads a room from location.hash (a file link gives its room). Null when there is none (the landing page). */
export function parseRoomFragment(hash: string): Room | null {
  let raw = splitFileLink(hash).room;
  try {
    raw = decodeURIComponent(raw);
  } catch {
    return null; // a malformed %-escape is not a room
  }
  raw = raw.trim();
  if (hasNameMarker(raw)) return namedRoom(raw.slice(NAME_MARKER.length));
  if (SECRET_RE.test(raw)) return { secret: raw, named: false };
  return namedRoom(raw);
}

/**
 * The fragment (without '#') to go to for a name typed in the Join box. It is
 * the plain name (#my-family) unless that would read as a random key or as the
 * marker itself; then it is #name:<name>. '' when the name is blank.
 */
export function roomFragmentForName(name: string): string {
  const clean = name.trim();
  if (clean.length === 0) return '';
  const needsMarker = SECRET_RE.test(clean) || hasNameMarker(clean) || clean.toLowerCase() === SHARE_FRAGMENT;
  return (needsMarker ? NAME_MARKER : '') + encodeURIComponent(clean);
}

/**
 * A file link is a room link plus one file's id: #<room>/file/<64 hex digits>.
 * The room part is kept exactly as written, so any room link (secret, name,
 * name: marker) can carry a file, and a link without the suffix reads as it
 * always did. A secret never contains '/', and the Join box writes names
 * %-escaped, so only a hand-typed name containing "/file/" changes meaning.
 */
export const FILE_MARKER = '/file/';
const FILE_ID_RE = /^[0-9a-f]{64}$/;

function splitFileLink(hash: string): { room: string; file: string | null } {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const at = raw.lastIndexOf(FILE_MARKER);
  return at < 0 ? { room: raw, file: null } : { room: raw.slice(0, at), file: raw.slice(at + FILE_MARKER.length) };
}

export type FileLinkError = 'bad-file-id' | 'no-room';

/**
 * The file a fragment names: null for a plain room link, an error value for a
 * damaged or forged file part (never thrown). Ids are read case-insensitively
 * (a phone may capitalise what is typed) and returned as the app writes them.
 */
export function parseFileLink(hash: string): Result<string | null, FileLinkError> {
  const { room, file } = splitFileLink(hash);
  if (file === null) return ok(null);
  if (!parseRoomFragment(`#${room}`)) return err('no-room', 'this file link names no room');
  const id = file.trim().toLowerCase();
  if (!FILE_ID_RE.test(id)) return err('bad-file-id', 'this file link is damaged: its file id is not 64 hexadecimal digits');
  return ok(id);
}

/** The page's own room link without any file part: where a file link leads once it has done its work. */
export const roomPartOf = (hash: string): string => `#${splitFileLink(hash).room}`;

/** The link to one file of the room the page `href` shows (its room part kept as written). */
export function fileLinkFor(href: string, fileId: string): string {
  const cut = href.indexOf('#');
  const base = cut < 0 ? href : href.slice(0, cut);
  return `${base}${roomPartOf(cut < 0 ? '' : href.slice(cut))}${FILE_MARKER}${fileId}`;
}
