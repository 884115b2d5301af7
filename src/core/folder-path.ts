import { hasVisibleChar, takeWithin, visibleGraphemes } from './names.ts';
import { err, ok, type Result } from './result.ts';

/**
 * A file shared as part of a folder carries its folder path ("photos/2024")
 * in its announcement, next to its name; the file itself (its id, manifest
 * and pieces) is the same content-addressed file as any other. The path is
 * hostile input like the name, and it will become directories inside a zip,
 * so it has one canonical form that honest sharers produce
 * (folderPathForSharing) and every peer's parser insists on (parseFolderPath):
 * segments joined by '/', none empty, '.' or '..', no '\', no leading '/',
 * each already clean by the character rules of names.ts (so no controls, no
 * bidi overrides, nothing invisible), bounded in depth and length. A path
 * that is not canonical is refused, never repaired: an honest peer never
 * sends one.
 */

/** Folders nested deeper than this are folded into their ancestor at this depth. */
export const MAX_FOLDER_DEPTH = 16;
/** UTF-16 code units for the whole path: keeps an announcement within MAX_ANNOUNCEMENT_BYTES. */
export const MAX_FOLDER_PATH = 160;
/** UTF-16 code units per folder name. */
export const MAX_FOLDER_SEGMENT = 64;

/** One folder name in canonical form: '' when nothing usable is left. */
function cleanSegment(raw: string): string {
  const visible = visibleGraphemes(raw.replace(/[/\\]/g, '_'), true);
  const cut = takeWithin(visible, { units: MAX_FOLDER_SEGMENT }).join('').trim();
  if (!hasVisibleChar(cut) || cut === '.' || cut === '..') return '';
  return cut;
}

/** Checks a folder path from a peer; never throws. */
export function parseFolderPath(v: unknown): Result<string> {
  if (typeof v !== 'string') return err('bad-path', 'folder path is not a string');
  if (v.length === 0 || v.length > MAX_FOLDER_PATH) return err('bad-path', `folder path is empty or over ${MAX_FOLDER_PATH} characters`);
  const segments = v.split('/');
  if (segments.length > MAX_FOLDER_DEPTH) return err('bad-path', `folder path is deeper than ${MAX_FOLDER_DEPTH} folders`);
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') return err('bad-path', 'folder path has an empty, "." or ".." part, or is absolute');
    if (cleanSegment(s) !== s) return err('bad-path', 'folder path has a backslash, control, invisible or over-long part');
  }
  return ok(v);
}

export interface SharedPath {
  /** The canonical folder path, or undefined for a file not in a folder. */
  path: string | undefined;
  /** The file's own name, as given (cleaned later like any shared name). */
  name: string;
  /** Folders had to be renamed, cut or folded: the person should be told. */
  changed: boolean;
}

/**
 * Splits a browser's relative path ("photos/2024/a.jpg", from
 * webkitRelativePath or a dropped directory walk) into a canonical folder path
 * and the file name. Parts that clean to nothing become "_"; folders beyond
 * the depth or length bounds are folded into the last one that fits.
 */
export function folderPathForSharing(relative: string, fallbackName: string): SharedPath {
  const parts = relative.split(/[/\\]/).filter((p) => p !== '');
  const name = parts.pop() ?? fallbackName;
  const kept: string[] = [];
  let changed = false;
  for (const raw of parts) {
    const seg = cleanSegment(raw) || '_';
    if (seg !== raw) changed = true;
    const length = [...kept, seg].join('/').length;
    if (kept.length >= MAX_FOLDER_DEPTH || length > MAX_FOLDER_PATH) {
      changed = true;
      break;
    }
    kept.push(seg);
  }
  return { path: kept.length ? kept.join('/') : undefined, name, changed };
}

/** The top folder of a path: the entry the room shows. */
export const topFolder = (path: string): string => path.split('/')[0]!;
