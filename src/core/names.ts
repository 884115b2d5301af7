/**
 * Names people choose (display names, file names) are shown to everyone, so
 * they are hostile input: bidi overrides can make "gpj.scr" read as "rcs.jpg",
 * invisible characters can make an empty-looking name or two names that look
 * the same. We clean them grapheme by grapheme (what a reader sees as one
 * character), so the joiners that hold emoji sequences, Indic conjuncts and
 * Persian words together survive, and a cut never splits a character.
 */

/** Friendly default display names ("Amber Otter"), so a room is readable before anyone types a name. */
const ADJECTIVES = [
  'Amber', 'Brave', 'Calm', 'Clever', 'Coral', 'Crimson', 'Dusky', 'Eager', 'Gentle', 'Golden', 'Hazel', 'Indigo',
  'Jolly', 'Lively', 'Lucky', 'Mellow', 'Misty', 'Nimble', 'Olive', 'Quiet', 'Rapid', 'Rosy', 'Rusty', 'Silver',
  'Sunny', 'Swift', 'Tidy', 'Velvet', 'Witty', 'Zesty',
];
const ANIMALS = [
  'Otter', 'Badger', 'Beaver', 'Crane', 'Dolphin', 'Falcon', 'Ferret', 'Finch', 'Fox', 'Gecko', 'Heron', 'Ibis',
  'Koala', 'Lemur', 'Lynx', 'Marten', 'Moose', 'Newt', 'Owl', 'Panda', 'Puffin', 'Quail', 'Raven', 'Seal',
  'Stoat', 'Swan', 'Tapir', 'Walrus', 'Wombat', 'Yak',
];

/** A display name is at most this many graphemes... */
export const MAX_DISPLAY_NAME = 40;
/** ...and this many UTF-8 bytes (40 graphemes of combining marks could otherwise be kilobytes). */
export const MAX_DISPLAY_NAME_BYTES = 200;
/** What a HELLO frame may carry as a name, in UTF-8 bytes: room for anything cleanDisplayName produces. */
export const MAX_NAME_BYTES = 256;

export function randomDisplayName(random: () => number): string {
  const pick = (list: string[]) => list[Math.floor(random() * list.length)]!;
  return `${pick(ADJECTIVES)} ${pick(ANIMALS)}`;
}

/**
 * The one definition of characters that never reach the screen or a saved
 * file name, wherever they stand: C0/C1 controls; bidi embeddings, overrides,
 * isolates and marks (U+202A-202E, U+2066-2069, U+200E, U+200F, U+061C); zero
 * width spaces and the BOM (U+200B, U+2060, U+FEFF). ZWJ/ZWNJ are NOT here:
 * they are dropped only when they join nothing (see visibleGraphemes).
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/gu;
/** Line and paragraph separators would break a name across lines: they become a space. */
const LINE_SEPARATORS = /[\u2028\u2029]/gu;
const JOINERS = /[\u200c\u200d]+$/u;
const ANY_JOINER = /[\u200c\u200d]/gu;
/**
 * Scripts that never need ZWJ/ZWNJ between their letters: there a joiner only
 * makes "Al\u200cice" look exactly like another person's "Alice".
 */
const NO_JOINER_SCRIPTS = /^[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{ASCII}\p{M}\u200c\u200d]+$/u;
/** Code points that draw nothing on their own (joiners, variation selectors, soft hyphen, Hangul fillers...). */
const INVISIBLE = /^[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}]+$/u;
/** A name "has something to see" when one code point is neither space, mark nor invisible. */
const VISIBLE_CHAR = /[^\p{White_Space}\p{M}\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}\u2800]/u;
const SPACE_START = /^\s/u;
/**
 * The longest real graphemes (a family emoji with skin tones, a flag with tag
 * characters, an Indic cluster) stay well under this; "Zalgo" text piles
 * hundreds of marks on one letter to draw over its neighbours.
 */
export const MAX_GRAPHEME_UNITS = 40;

type Segment = (text: string) => string[];

const segmenter = typeof Intl !== 'undefined' && 'Segmenter' in Intl ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

/** The graphemes of `text`; Intl.Segmenter when the browser has it (Firefox only since 125). */
export const graphemes: Segment = segmenter ? (text) => Array.from(segmenter.segment(text), (s) => s.segment) : approximateGraphemes;

/**
 * Without Intl.Segmenter: a code point, plus the marks, joiners, variation
 * selectors, emoji modifiers and tags after it, plus whatever follows a ZWJ.
 * Close enough for the names we handle, and it never splits an emoji sequence.
 */
export function approximateGraphemes(text: string): string[] {
  const out: string[] = [];
  let afterZwj = false;
  for (const cp of text) {
    const attaches = /^[\p{M}\u200c\u200d\u{1f3fb}-\u{1f3ff}\u{e0020}-\u{e007f}]$/u.test(cp);
    const last = out.length - 1;
    const joined: boolean = last >= 0 && (attaches || (afterZwj && !/\s/u.test(cp)));
    if (joined) out[last] = out[last] + cp;
    else out.push(cp);
    // A ZWJ that starts the text, or follows a space, joins nothing.
    afterZwj = joined && cp === '\u200d' && !/^\s/u.test(out[last]!);
  }
  return out;
}

export const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

/**
 * Applies the character rules and returns what is left, grapheme by grapheme:
 * forbidden characters go; a grapheme that draws nothing (a ZWJ at the start,
 * a stray variation selector) goes; a joiner that ends a word joins nothing
 * and goes, and so does one in Latin, Greek or Cyrillic text; any whitespace
 * grapheme becomes one plain space, and with `collapseSpaces` runs of spaces
 * become one and the ends are trimmed. The one place the rules live: names
 * and file names (shown or saved) all come through here.
 */
export function visibleGraphemes(text: string, collapseSpaces: boolean, segment: Segment = graphemes): string[] {
  const kept: string[] = [];
  for (const g of segment(text.replace(FORBIDDEN_CHARS, '').replace(LINE_SEPARATORS, ' '))) {
    if (SPACE_START.test(g)) kept.push(' ');
    else if (INVISIBLE.test(g)) continue;
    else kept.push(boundGrapheme(NO_JOINER_SCRIPTS.test(g) ? g.replace(ANY_JOINER, '') : g));
  }
  const out: string[] = [];
  kept.forEach((g, i) => {
    const next = kept[i + 1];
    const clean = next === undefined || next === ' ' ? g.replace(JOINERS, '') : g;
    if (clean === ' ' && collapseSpaces && (out.length === 0 || out[out.length - 1] === ' ')) return;
    out.push(clean);
  });
  if (collapseSpaces) while (out[out.length - 1] === ' ') out.pop();
  return out;
}

/** Keeps the first code points of an over-long grapheme; a joiner left dangling at the cut goes. */
function boundGrapheme(g: string): string {
  if (g.length <= MAX_GRAPHEME_UNITS) return g;
  let out = '';
  for (const cp of g) {
    if (out.length + cp.length > MAX_GRAPHEME_UNITS) break;
    out += cp;
  }
  return out.replace(JOINERS, '');
}

export interface Limits {
  graphemes?: number;
  bytes?: number;
  /** UTF-16 code units, i.e. JavaScript's string length. */
  units?: number;
}

/** The longest prefix of whole graphemes within every limit given. */
export function takeWithin(parts: string[], limits: Limits): string[] {
  let bytes = 0;
  let units = 0;
  let n = 0;
  for (const g of parts) {
    bytes += utf8Length(g);
    units += g.length;
    if (n + 1 > (limits.graphemes ?? Infinity) || bytes > (limits.bytes ?? Infinity) || units > (limits.units ?? Infinity)) break;
    n++;
  }
  return parts.slice(0, n);
}

export const hasVisibleChar = (s: string): boolean => VISIBLE_CHAR.test(s);

/**
 * Cleans a name by the character rules, collapses whitespace, trims, and cuts
 * at whole graphemes to at most maxGraphemes and maxBytes UTF-8 bytes. A name
 * with nothing visible left (only zero-width or combining characters) is ''.
 */
export function cleanName(text: string, maxGraphemes: number, maxBytes: number): string {
  const cut = takeWithin(visibleGraphemes(text, true), { graphemes: maxGraphemes, bytes: maxBytes });
  const clean = cut.join('').trim();
  return hasVisibleChar(clean) ? clean : '';
}

/** A display name, one's own or a peer's. '' means there is nothing to show: the caller refuses it. */
export function cleanDisplayName(name: string): string {
  return cleanName(name, MAX_DISPLAY_NAME, MAX_DISPLAY_NAME_BYTES);
}
