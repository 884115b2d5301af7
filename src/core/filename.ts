/**
 * A peer chooses a file's name, so it is hostile input. For saving we reduce it
 * to a safe basename: no path separators, no "..", no control or bidi
 * characters, no Windows-reserved names, bounded length. (The UI renders names
 * as text, never HTML.)
 */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
const MAX_SAVE_NAME = 200;

export function safeFileName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  let clean = base
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .trim()
    .replace(/^\.+/, '')
    .replace(/[. ]+$/, '');
  if (RESERVED.test(clean)) clean = `_${clean}`;
  const chars = Array.from(clean); // cut by code point: never half an emoji
  if (chars.length > MAX_SAVE_NAME) {
    const dot = clean.lastIndexOf('.');
    const ext = dot > 0 && clean.length - dot <= 16 ? clean.slice(dot) : '';
    clean = chars.slice(0, MAX_SAVE_NAME - Array.from(ext).length).join('').replace(/[. ]+$/, '') + ext;
  }
  return clean || 'download';
}
