import { mediaKind } from './media-type.ts';
import { previewKind } from './preview-kind.ts';

/**
 * The kind of file a person thinks in when searching or writing a rule
 * ("every image", "documents"): from the announced type, or the name's
 * extension when the type is missing or generic. Announcers may lie; a
 * category only groups and filters, it never picks how bytes are opened.
 */
export type FileCategory = 'image' | 'video' | 'audio' | 'document' | 'archive' | 'other';

export const FILE_CATEGORIES: readonly FileCategory[] = ['image', 'video', 'audio', 'document', 'archive', 'other'];

const DOCUMENT_EXT = new Set([
  'pdf', 'doc', 'docx', 'odt', 'rtf', 'xls', 'xlsx', 'ods', 'ppt', 'pptx', 'odp', 'epub', 'pages', 'numbers', 'key',
]);
const DOCUMENT_MIME = /^application\/(pdf|msword|rtf|epub\+zip|vnd\.(openxmlformats-officedocument|oasis\.opendocument|ms-excel|ms-powerpoint)[\w.+-]*)$/;
const ARCHIVE_EXT = new Set(['zip', 'tar', 'gz', 'tgz', 'bz2', 'xz', 'zst', '7z', 'rar', 'iso', 'dmg']);
const ARCHIVE_MIME = /^application\/(zip|x-zip-compressed|x-tar|gzip|x-gzip|x-bzip2|x-xz|zstd|x-7z-compressed|vnd\.rar|x-rar-compressed|x-iso9660-image|x-apple-diskimage)$/;

export function fileCategory(mime: string, name: string): FileCategory {
  const media = mediaKind(mime, name);
  if (media) return media;
  const preview = previewKind(mime, name);
  if (preview === 'image') return 'image';
  const type = mime.toLowerCase().split(';')[0]!.trim();
  const dot = name.lastIndexOf('.');
  const ext = dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
  if (ARCHIVE_MIME.test(type) || ARCHIVE_EXT.has(ext)) return 'archive';
  if (preview !== null || DOCUMENT_MIME.test(type) || DOCUMENT_EXT.has(ext)) return 'document';
  return 'other';
}
