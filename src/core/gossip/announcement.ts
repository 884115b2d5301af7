import { checkFileSize, type FileMeta } from '../manifest/manifest.ts';
import { err, ok, type Result } from '../result.ts';

/**
 * An announcement says "origin holds this file" (add) or no longer does
 * (remove). It is flooded through the mesh Gnutella-style: a random id for
 * duplicate suppression and a hop limit so it dies out in a partial mesh.
 */
export interface Announcement {
  id: string;
  origin: string;
  hops: number;
  kind: 'add' | 'remove';
  file: FileMeta;
}

export const MAX_HOPS = 6;
export const MAX_FILE_NAME = 255;
export const MAX_MIME = 127;

const MSG_ID_RE = /^[0-9a-f]{32}$/;
const FILE_ID_RE = /^[0-9a-f]{64}$/;
const PEER_ID_RE = /^[A-Za-z0-9_-]{16}$/;

function parseFileMeta(v: unknown): Result<FileMeta> {
  if (typeof v !== 'object' || v === null) return err('bad-announcement', 'file is not an object');
  const f = v as Record<string, unknown>;
  if (typeof f.id !== 'string' || !FILE_ID_RE.test(f.id)) return err('bad-announcement', 'file id is not a SHA-256');
  if (typeof f.name !== 'string' || f.name.length === 0 || f.name.length > MAX_FILE_NAME) {
    return err('bad-announcement', 'file name missing or too long');
  }
  if (typeof f.mime !== 'string' || f.mime.length > MAX_MIME) return err('bad-announcement', 'bad mime type');
  const size = checkFileSize(typeof f.size === 'number' ? f.size : NaN);
  if (!size.ok) return err('bad-announcement', size.error);
  return ok({ id: f.id, name: f.name, size: size.value, mime: f.mime });
}

/** Validates gossip JSON from a peer; never throws. */
export function parseAnnouncement(v: unknown): Result<Announcement> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return err('bad-announcement', 'not an object');
  const a = v as Record<string, unknown>;
  if (typeof a.id !== 'string' || !MSG_ID_RE.test(a.id)) return err('bad-announcement', 'bad message id');
  if (typeof a.origin !== 'string' || !PEER_ID_RE.test(a.origin)) return err('bad-announcement', 'bad origin');
  if (typeof a.hops !== 'number' || !Number.isInteger(a.hops) || a.hops < 0 || a.hops > MAX_HOPS) {
    return err('bad-announcement', 'bad hop count');
  }
  if (a.kind !== 'add' && a.kind !== 'remove') return err('bad-announcement', 'bad kind');
  const file = parseFileMeta(a.file);
  if (!file.ok) return file;
  return ok({ id: a.id, origin: a.origin, hops: a.hops, kind: a.kind, file: file.value });
}
