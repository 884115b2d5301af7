import { fromBase64Url, toBase64Url, utf8 } from '../bytes.ts';
import { parseFolderPath } from '../folder-path.ts';
import { parseAudience } from './audience.ts';
import { DRAFT_NONCE_RE } from '../manifest/draft.ts';
import { checkFileSize, type FileMeta } from '../manifest/manifest.ts';
import { err, ok, type Result } from '../result.ts';

/**
 * A signed statement by `origin`: "I hold this file" (add) or "I no longer
 * do" (remove). The origin's Ed25519 key travels with it and the origin id
 * must be derived from that key, so nobody can speak in someone else's name;
 * the signature covers everything but `hops`, so forwarders can only count
 * down hops. `seq` orders one origin's statements about one file: the newest
 * wins, whatever order copies arrive in.
 */
export interface Announcement {
  v: 1;
  origin: string;
  /** The origin's raw Ed25519 public key, base64url (32 bytes). */
  key: string;
  seq: number;
  kind: 'add' | 'remove';
  file: FileMeta;
  /**
   * On an add: the draft id this file had while it was being hashed ("add F
   * was D"). Downloaders of D carry on as downloaders of F.
   */
  was?: string;
  hops: number;
  /** Ed25519 signature over signedBytes(), base64url (64 bytes). */
  sig: string;
}

export type UnsignedAnnouncement = Omit<Announcement, 'v' | 'sig'>;
export type Signer = (data: Uint8Array) => Promise<Uint8Array>;
export type Verifier = (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array) => Promise<boolean>;
/** The peer id a public key stands for (the identity module's peerIdFromPublicKey). */
export type IdOf = (publicKey: Uint8Array) => string;

export const MAX_HOPS = 6;
/** UTF-16 code units, as String.length counts them. */
export const MAX_FILE_NAME = 255;
export const MAX_MIME = 127;
/**
 * JSON.stringify of any announcement parseAnnouncement accepts is at most
 * this many UTF-8 bytes (worst case ~3.1 KB: every name and mime character
 * escaped as \u00XX, a folder path of 3-byte characters: a path is clean, so
 * never escaped; ~1.2 KB more for an audience of 64). Proven by a test, so a
 * catalogue frame can always hold several (MAX_JSON_BYTES is 32 KiB).
 */
export const MAX_ANNOUNCEMENT_BYTES = 4.5 * 1024;
export const SIGNING_CONTEXT = 'meshdrop/v1/announce';

const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const FILE_ID_RE = /^[0-9a-f]{64}$/;
const PEER_ID_RE = /^[A-Za-z0-9_-]{16}$/;

/**
 * The bytes the origin signs: a fixed-order JSON array, so two honest
 * implementations agree byte for byte (JSON.stringify of strings and safe
 * integers is fully specified). `hops` is left out: forwarders change it.
 * A folder path is appended only when there is one, so a file outside any
 * folder signs exactly the bytes it always did. A draft nonce or a `was`
 * appends all three (path, draft, was; null where absent): a fixed length,
 * so no field can pass for another (a path named like a nonce). An audience
 * appends all four (path, draft, was, audience): a length of its own.
 */
export function signedBytes(a: Omit<UnsignedAnnouncement, 'hops'>): Uint8Array {
  const { origin, key, seq, kind, file, was } = a;
  const fields: unknown[] = [SIGNING_CONTEXT, 1, origin, key, seq, kind, file.id, file.name, file.size, file.mime];
  if (file.audience !== undefined) fields.push(file.path ?? null, file.draft ?? null, was ?? null, file.audience);
  else if (file.draft !== undefined || was !== undefined) fields.push(file.path ?? null, file.draft ?? null, was ?? null);
  else if (file.path !== undefined) fields.push(file.path);
  return utf8(JSON.stringify(fields));
}

/** The meta's own fields, nothing else a caller's object carries. */
const metaFields = ({ id, name, size, mime, path, draft, audience }: FileMeta): FileMeta => ({
  id, name, size, mime, ...(path === undefined ? {} : { path }), ...(draft === undefined ? {} : { draft }),
  ...(audience === undefined ? {} : { audience: [...audience] }),
});

export async function signAnnouncement(fields: UnsignedAnnouncement, sign: Signer): Promise<Announcement> {
  const { origin, key, seq, kind, file, hops, was } = fields;
  const copy = { origin, key, seq, kind, file: metaFields(file), hops, ...(was === undefined ? {} : { was }) };
  return { v: 1, ...copy, sig: toBase64Url(await sign(signedBytes(copy))) };
}

export type VerifyCode = 'bad-origin' | 'bad-signature' | 'verify-failed';

/**
 * Checks that `origin` is the key's id and the signature is the key's.
 * 'bad-origin' and 'bad-signature' are proof that whoever sent it forged or
 * altered it (honest peers verify before forwarding); 'verify-failed' means
 * our own verifier threw, which proves nothing about the sender.
 */
export async function verifyAnnouncement(a: Announcement, verify: Verifier, idOf: IdOf): Promise<Result<Announcement, VerifyCode>> {
  const checked = await verifySigned(a, signedBytes(a), verify, idOf, 'announcement');
  return checked.ok ? ok(a) : checked;
}

/**
 * The check every signed gossip statement gets (announcements, presence):
 * the origin is its key's id and the signature over `bytes` is the key's.
 */
export async function verifySigned(
  s: { origin: string; key: string; sig: string },
  bytes: Uint8Array,
  verify: Verifier,
  idOf: IdOf,
  what: string,
): Promise<Result<true, VerifyCode>> {
  const key = fromBase64Url(s.key);
  const sig = fromBase64Url(s.sig);
  if (!key || !sig) return err('bad-signature', 'key or signature is not base64url'); // the parsers rule this out
  if (idOf(key) !== s.origin) return err('bad-origin', `origin ${s.origin} is not the id of the ${what}'s key`);
  try {
    const article = /^[aeiou]/.test(what) ? 'an' : 'a';
    if (!(await verify(key, bytes, sig))) return err('bad-signature', `bad signature on ${article} ${what} from ${s.origin}`);
  } catch (e) {
    return err('verify-failed', `could not check a signature: ${(e as Error).message}`);
  }
  return ok(true);
}

/** Canonical base64url of exactly `bytes` bytes: one spelling per value, so equal strings mean equal bytes. */
function isBase64UrlOf(v: unknown, bytes: number): v is string {
  if (typeof v !== 'string' || v.length !== Math.ceil((bytes * 4) / 3)) return false;
  const decoded = fromBase64Url(v);
  return decoded !== null && decoded.length === bytes && toBase64Url(decoded) === v;
}

function parseFileMeta(v: unknown): Result<FileMeta> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return err('bad-announcement', 'file is not an object');
  const f = v as Record<string, unknown>;
  if (typeof f.id !== 'string' || !FILE_ID_RE.test(f.id)) return err('bad-announcement', 'file id is not a SHA-256');
  if (typeof f.name !== 'string' || f.name.length === 0 || f.name.length > MAX_FILE_NAME) {
    return err('bad-announcement', 'file name missing or too long');
  }
  if (typeof f.mime !== 'string' || f.mime.length > MAX_MIME) return err('bad-announcement', 'bad mime type');
  const size = checkFileSize(typeof f.size === 'number' ? f.size : NaN);
  if (!size.ok) return err('bad-announcement', size.error);
  const meta: FileMeta = { id: f.id, name: f.name, size: size.value, mime: f.mime };
  if (f.draft !== undefined) {
    if (typeof f.draft !== 'string' || !DRAFT_NONCE_RE.test(f.draft)) return err('bad-announcement', 'bad draft nonce');
    meta.draft = f.draft;
  }
  if (f.audience !== undefined) {
    const audience = parseAudience(f.audience);
    if (!audience.ok) return audience;
    meta.audience = audience.value;
  }
  if (f.path === undefined) return ok(meta);
  const path = parseFolderPath(f.path);
  return path.ok ? ok({ ...meta, path: path.value }) : err('bad-announcement', path.error);
}

/**
 * The fields every signed gossip statement shares (announcements, presence):
 * version 1, origin, key, seq, a kind of `kinds`, hops, signature. What is
 * wrong, or null.
 */
export function statementProblem(a: Record<string, unknown>, kinds: readonly string[]): string | null {
  if (a.v !== 1) return 'unknown version';
  if (typeof a.origin !== 'string' || !PEER_ID_RE.test(a.origin)) return 'bad origin';
  if (!isBase64UrlOf(a.key, PUBLIC_KEY_BYTES)) return 'bad public key';
  if (typeof a.seq !== 'number' || !Number.isSafeInteger(a.seq) || a.seq < 0) return 'bad sequence number';
  if (typeof a.kind !== 'string' || !kinds.includes(a.kind)) return 'bad kind';
  if (typeof a.hops !== 'number' || !Number.isInteger(a.hops) || a.hops < 0 || a.hops > MAX_HOPS) return 'bad hop count';
  if (!isBase64UrlOf(a.sig, SIGNATURE_BYTES)) return 'bad signature encoding';
  return null;
}

/** Validates gossip JSON from a peer (shape and limits, not the signature); never throws; drops unknown fields. */
export function parseAnnouncement(v: unknown): Result<Announcement> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return err('bad-announcement', 'not an object');
  const a = v as Record<string, unknown>;
  const problem = statementProblem(a, ['add', 'remove']);
  if (problem) return err('bad-announcement', problem);
  const file = parseFileMeta(a.file);
  if (!file.ok) return file;
  if (file.value.audience && !file.value.audience.includes(a.origin as string)) return err('bad-announcement', 'the origin is not in its own audience');
  if (a.was !== undefined && (a.kind !== 'add' || typeof a.was !== 'string' || !FILE_ID_RE.test(a.was) || file.value.draft !== undefined)) {
    return err('bad-announcement', 'bad was: only a final add names the draft it was');
  }
  return ok({
    v: 1, origin: a.origin as string, key: a.key as string, seq: a.seq as number,
    kind: a.kind as Announcement['kind'], file: file.value, ...(a.was === undefined ? {} : { was: a.was as string }),
    hops: a.hops as number, sig: a.sig as string,
  });
}
