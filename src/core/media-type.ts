/**
 * Whether a file is audio or video a browser may play, from its type or, when
 * the sharer's browser gave none (or a generic one), its name's extension.
 * Whether this browser can decode it is the player's to find out.
 */
export type MediaKind = 'audio' | 'video';

const BY_EXTENSION: Record<string, string> = {
  mp4: 'video/mp4', m4v: 'video/mp4', webm: 'video/webm', mkv: 'video/x-matroska', mov: 'video/quicktime', ogv: 'video/ogg',
  mp3: 'audio/mpeg', m4a: 'audio/mp4', aac: 'audio/aac', ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/ogg', wav: 'audio/wav',
  flac: 'audio/flac', weba: 'audio/webm',
};

/** The file's media type: its own when it is one, else one from its extension, else null. */
export function mediaType(mime: string, name: string): string | null {
  const own = mime.split(';')[0]!.trim().toLowerCase();
  if (/^(audio|video)\/[\w.+-]+$/.test(own)) return own;
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  return (ext && BY_EXTENSION[ext]) ?? null;
}

export function mediaKind(mime: string, name: string): MediaKind | null {
  const type = mediaType(mime, name);
  return type === null ? null : type.startsWith('audio/') ? 'audio' : 'video';
}
