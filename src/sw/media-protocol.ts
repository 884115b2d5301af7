import { safeFileName } from '../core/filename.ts';

/**
 * What the page and the service worker say to each other about media, shared
 * by both (each bundles this module). The page plays `/media/<file id>/<name>`;
 * the worker answers from IndexedDB and, where a piece is missing, asks the
 * page to fetch it first (FOCUS); the page says when pieces of a file it was
 * asked about are stored (STORED), so the worker need not wait for its poll.
 * Parsers return null for anything else: a message is never trusted to be ours.
 */
export const MEDIA_PREFIX = '/media/';
const FILE_ID = /^[0-9a-f]{64}$/;

export interface FocusMessage {
  type: 'meshdrop-media-focus';
  fileId: string;
  /** The byte a player reads next. */
  offset: number;
}

export interface StoredMessage {
  type: 'meshdrop-media-stored';
  fileId: string;
}

/** The URL a player loads a file from; the name is only for people (and the browser's guesses), the id decides. */
export const mediaUrl = (fileId: string, name: string): string => `${MEDIA_PREFIX}${fileId}/${encodeURIComponent(safeFileName(name))}`;

/** The file id of a media URL's path, or null when the path is not one. */
export function mediaFileId(pathname: string): string | null {
  if (!pathname.startsWith(MEDIA_PREFIX)) return null;
  const id = pathname.slice(MEDIA_PREFIX.length).split('/')[0]!;
  return FILE_ID.test(id) ? id : null;
}

export const focusMessage = (fileId: string, offset: number): FocusMessage => ({ type: 'meshdrop-media-focus', fileId, offset });
export const storedMessage = (fileId: string): StoredMessage => ({ type: 'meshdrop-media-stored', fileId });

export function parseFocus(data: unknown): FocusMessage | null {
  const m = data as Partial<FocusMessage> | null;
  if (typeof m !== 'object' || m === null || m.type !== 'meshdrop-media-focus') return null;
  if (typeof m.fileId !== 'string' || !FILE_ID.test(m.fileId)) return null;
  if (typeof m.offset !== 'number' || !Number.isSafeInteger(m.offset) || m.offset < 0) return null;
  return focusMessage(m.fileId, m.offset);
}

export function parseStored(data: unknown): StoredMessage | null {
  const m = data as Partial<StoredMessage> | null;
  if (typeof m !== 'object' || m === null || m.type !== 'meshdrop-media-stored') return null;
  return typeof m.fileId === 'string' && FILE_ID.test(m.fileId) ? storedMessage(m.fileId) : null;
}
