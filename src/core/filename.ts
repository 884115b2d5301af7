import { MAX_FILE_NAME } from './gossip/announcement.ts';
import { hasVisibleChar, takeWithin, visibleGraphemes, type Limits } from './names.ts';

/**
 * A peer chooses a file's name, so it is hostile input. The character rules
 * (no controls, no bidi, nothing invisible standing alone) are the ones in
 * names.ts, for showing and for saving alike: "holiday-photo\u202Egpj.scr"
 * must neither read as "...rcs.jpg" on screen nor be saved that way.
 */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
const MAX_SAVE_NAME = 200;
/** Many file systems allow 255 bytes per name; leave room for a browser's " (1)". */
const MAX_SAVE_BYTES = 240;
/** Shown names are only bounded so a hostile local file cannot flood the page. */
export const MAX_DISPLAY_FILE_NAME = 1000;
/** An extension longer than this is not worth keeping whole when a name is cut. */
const MAX_EXTENSION = 16;

/**
 * Cuts `parts` (graphemes) to the limits, keeping a short extension (".pdf")
 * whole: the stem gives way. Returns the parts unchanged when they fit.
 */
function cutKeepingExtension(parts: string[], limits: Limits): string[] {
  if (takeWithin(parts, limits).length === parts.length) return parts;
  const dot = parts.findLastIndex((g) => g.startsWith('.'));
  const ext = dot > 0 && parts.slice(dot).join('').length <= MAX_EXTENSION ? parts.slice(dot) : [];
  const extText = ext.join('');
  const stemLimits: Limits = {
    graphemes: limits.graphemes === undefined ? undefined : limits.graphemes - ext.length,
    bytes: limits.bytes === undefined ? undefined : limits.bytes - new TextEncoder().encode(extText).length,
    units: limits.units === undefined ? undefined : limits.units - extText.length,
  };
  const stem = takeWithin(parts.slice(0, parts.length - ext.length), stemLimits);
  while (stem.length > 0 && /^[. ]$/.test(stem[stem.length - 1]!)) stem.pop();
  return [...stem, ...ext];
}

/** The name to show for a file from anyone. Never '' (an empty-looking name is "unnamed file"). */
export function displayFileName(name: string): string {
  const shown = takeWithin(visibleGraphemes(name, true), { graphemes: MAX_DISPLAY_FILE_NAME }).join('').trim();
  return hasVisibleChar(shown) ? shown : 'unnamed file';
}

/**
 * The name a sharer announces: cleaned as displayFileName, then cut at whole
 * graphemes to MAX_FILE_NAME UTF-16 code units, which every peer's gossip
 * parser enforces (a longer name would get the sharer disconnected).
 * `shortened` says the person should be told.
 */
export function nameForSharing(name: string): { name: string; shortened: boolean } {
  const shown = displayFileName(name);
  const cut = cutKeepingExtension(visibleGraphemes(shown, true), { units: MAX_FILE_NAME }).join('');
  return { name: cut, shortened: cut !== shown };
}

/**
 * The name to save a file under: a safe basename. No path separators, no
 * "..", the character rules above, no characters or device names Windows
 * refuses, bounded length (cut at whole graphemes, keeping the extension).
 */
export function safeFileName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  let clean = visibleGraphemes(base, false)
    .join('')
    .replace(/[<>:"|?*]/g, '_')
    .trim()
    .replace(/^\.+/, '')
    .replace(/[. ]+$/, '');
  if (RESERVED.test(clean)) clean = `_${clean}`;
  const parts = cutKeepingExtension(visibleGraphemes(clean, false), { graphemes: MAX_SAVE_NAME, bytes: MAX_SAVE_BYTES });
  return parts.join('') || 'download';
}
