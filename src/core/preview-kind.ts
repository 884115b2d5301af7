/**
 * Which files the page can show in place, and how. The MIME type comes from
 * the announcer and may lie; it only picks a viewer that cannot run code
 * (an <img>, a <pre> of text, the PDF viewer given a Blob re-typed as PDF),
 * so a lie shows garbage, never a page of someone else's HTML in our origin.
 */
export type PreviewKind = 'image' | 'text' | 'pdf';

const IMAGE_EXT = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'bmp', 'ico', 'svg']);
const TEXT_EXT = new Set(['txt', 'md', 'markdown', 'csv', 'tsv', 'json', 'log', 'xml', 'yaml', 'yml', 'ini', 'toml', 'srt', 'vtt']);
const TEXT_MIME = new Set(['application/json', 'application/xml', 'application/x-yaml', 'application/toml']);

export function previewKind(mime: string, name: string): PreviewKind | null {
  const type = mime.toLowerCase().split(';')[0]!.trim();
  const dot = name.lastIndexOf('.');
  const ext = dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
  if (type.startsWith('image/') || IMAGE_EXT.has(ext)) return 'image';
  if (type === 'application/pdf' || ext === 'pdf') return 'pdf';
  if (type.startsWith('text/') || TEXT_MIME.has(type) || TEXT_EXT.has(ext)) return 'text';
  return null;
}

/** Text is shown up to this many bytes: a <pre> of a 2 GB log would freeze the page. */
export const TEXT_PREVIEW_BYTES = 512 * 1024;
/** Larger images get no thumbnail (decoding one costs time and memory); they still open in the larger view. */
export const THUMBNAIL_MAX_BYTES = 40 * 1024 * 1024;
