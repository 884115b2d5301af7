import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_DISPLAY_NAME, MAX_DISPLAY_NAME_BYTES, MAX_GRAPHEME_UNITS, MAX_NAME_BYTES, approximateGraphemes, cleanDisplayName, cleanName,
  graphemes, visibleGraphemes,
} from '../../src/core/names.ts';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const FAMILY = '👩\u200d👩\u200d👧\u200d👦';
const PERSIAN = 'می\u200cخواهم'; // "I want": the ZWNJ keeps می a separate, unjoined form
const CONJUNCT = 'क्\u200dष'; // ZWJ asks for the half form of क
const SCOTLAND = '🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}'; // flag made of tag characters
const SKIN_COUPLE = '👩🏽\u200d❤️\u200d💋\u200d👨🏿';
/** Every character the rules forbid anywhere (ZWJ/ZWNJ are judged by where they stand). */
const FORBIDDEN = [
  ...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)),
  ...Array.from({ length: 33 }, (_, i) => String.fromCharCode(0x7f + i)),
  '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c',
  '\u200b', '\ufeff', '\u2060',
];

describe('cleanName keeps what joiners hold together', () => {
  test('emoji ZWJ sequences, Persian ZWNJ and Indic ZWJ survive unchanged', () => {
    for (const name of [`${FAMILY} Familie Müller`, PERSIAN, CONJUNCT, `${SCOTLAND} Glasgow`, SKIN_COUPLE, 'Zoë Ångström 李', 'नमस्ते']) {
      assert.equal(cleanDisplayName(name), name, name);
    }
  });

  test('the family emoji counts as one grapheme, so 40 of them fit', () => {
    const forty = FAMILY.repeat(MAX_DISPLAY_NAME);
    assert.equal(cleanName(forty, MAX_DISPLAY_NAME, 10_000), forty);
    assert.equal(cleanName(FAMILY.repeat(MAX_DISPLAY_NAME + 1), MAX_DISPLAY_NAME, 10_000), forty);
  });

  test('a cut never leaves part of a grapheme', () => {
    const name = `ab${FAMILY}`;
    assert.equal(cleanName(name, 2, 100), 'ab');
    assert.equal(cleanName(name, 3, bytes(name) - 1), 'ab', 'the family does not fit in the bytes left: all of it goes');
    assert.equal(cleanName(name, 3, bytes(name)), name);
    assert.equal(cleanName('e\u0301e\u0301e\u0301', 2, 100), 'e\u0301e\u0301');
  });
});

describe('cleanName removes what hides or disguises a name', () => {
  test('every forbidden character goes, inside a word or alone', () => {
    for (const ch of FORBIDDEN) {
      const code = ch.charCodeAt(0).toString(16);
      assert.equal(cleanName(`Ab${ch}cd`, 40, 200), 'Abcd', code);
      assert.equal(cleanName(ch, 40, 200), '', code);
    }
  });

  test('the bidi override from the bug report no longer reverses text', () => {
    assert.equal(cleanDisplayName('holiday-photo\u202Egpj.scr'), 'holiday-photogpj.scr');
    assert.equal(cleanDisplayName('\u2067Alice\u2069 \u2066Bob\u2068'), 'Alice Bob');
  });

  test('a joiner standing alone, or ending a word, goes', () => {
    assert.equal(cleanDisplayName('\u200dAlice'), 'Alice');
    assert.equal(cleanDisplayName('\u200cAlice'), 'Alice');
    assert.equal(cleanDisplayName('Bob\u200d'), 'Bob');
    assert.equal(cleanDisplayName('Bob\u200d Smith'), 'Bob Smith');
    assert.equal(cleanDisplayName('a \u200db'), 'a b');
    assert.equal(cleanDisplayName(`${FAMILY}\u200d`), FAMILY);
  });

  test('a joiner between Latin, Greek or Cyrillic letters goes: it only makes look-alike names', () => {
    assert.equal(cleanDisplayName('Al\u200cice'), 'Alice');
    assert.equal(cleanDisplayName('Αλ\u200dέξης'), 'Αλέξης');
    assert.equal(cleanDisplayName('Бо\u200cрис'), 'Борис');
  });

  test('a name of only invisible characters is empty', () => {
    for (const name of ['\u200b\u200b\u200b', '\u200d', '\u200c\u200d ', '\ufeff', '\u2060', '\u00ad', '\u3164\u3164', '\ufe0f', '   ', '\u2800', '\u0301\u0301', '\u202e\u200b \u200d']) {
      assert.equal(cleanDisplayName(name), '', JSON.stringify(name));
    }
  });

  test('whitespace runs, of any kind, become one space and the ends are trimmed', () => {
    assert.equal(cleanDisplayName('  Amber \u00a0\u3000 Otter\u2028 '), 'Amber Otter');
    assert.equal(cleanDisplayName('a\u2029b'), 'a b', 'a paragraph separator would break the name across lines');
    assert.equal(cleanDisplayName('a\u200b b'), 'a b');
  });

  test('one letter buried under hundreds of marks is bounded', () => {
    const zalgo = `a${'\u0301'.repeat(500)}b`;
    const clean = cleanName(zalgo, 40, 10_000);
    assert.equal(graphemes(clean).length, 2);
    assert.ok(clean.length <= MAX_GRAPHEME_UNITS + 1);
    assert.ok(clean.startsWith('a\u0301') && clean.endsWith('b'));
  });
});

describe('cleanDisplayName bounds', () => {
  test('at most MAX_DISPLAY_NAME graphemes and MAX_DISPLAY_NAME_BYTES bytes, never more than a HELLO may carry', () => {
    assert.ok(MAX_DISPLAY_NAME_BYTES <= MAX_NAME_BYTES);
    assert.equal(cleanDisplayName('x'.repeat(100)), 'x'.repeat(MAX_DISPLAY_NAME));
    const wide = cleanDisplayName(SKIN_COUPLE.repeat(40)); // 35 bytes each
    assert.ok(bytes(wide) <= MAX_DISPLAY_NAME_BYTES, String(bytes(wide)));
    assert.equal(wide, SKIN_COUPLE.repeat(Math.floor(MAX_DISPLAY_NAME_BYTES / bytes(SKIN_COUPLE))));
    const marks = cleanDisplayName(`a${'\u0301'.repeat(30)}`.repeat(40));
    assert.ok(bytes(marks) <= MAX_DISPLAY_NAME_BYTES);
  });

  test('a trailing space left by the cut is trimmed', () => {
    assert.equal(cleanDisplayName(`${'y'.repeat(MAX_DISPLAY_NAME - 1)} z`), 'y'.repeat(MAX_DISPLAY_NAME - 1));
  });

  test('whatever goes in, the output is clean, bounded and stable', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const pool = [...FORBIDDEN, '\u200d', '\u200c', ' ', 'a', 'é', '\u0301', '李', '👩', '🏽', '\ufe0f', 'ی', 'क', '्'];
    for (let i = 0; i < 500; i++) {
      const name = Array.from({ length: next() % 80 }, () => pool[next() % pool.length]).join('');
      const clean = cleanDisplayName(name);
      assert.equal(cleanDisplayName(clean), clean, JSON.stringify(name));
      assert.ok(graphemes(clean).length <= MAX_DISPLAY_NAME && bytes(clean) <= MAX_DISPLAY_NAME_BYTES);
      assert.doesNotMatch(clean, /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]|^\s|\s$|\s\s/u);
    }
  });
});

describe('without Intl.Segmenter (Firefox before 125)', () => {
  test('the approximation keeps emoji sequences, conjuncts and marks whole', () => {
    assert.deepEqual(approximateGraphemes(`${FAMILY} Fü`), [FAMILY, ' ', 'F', 'ü']);
    assert.deepEqual(approximateGraphemes(CONJUNCT), [CONJUNCT]);
    assert.deepEqual(approximateGraphemes(SCOTLAND), [SCOTLAND]);
    assert.deepEqual(approximateGraphemes('e\u0301x'), ['e\u0301', 'x']);
    assert.deepEqual(approximateGraphemes('\u200dab'), ['\u200d', 'a', 'b']);
    assert.deepEqual(approximateGraphemes('a \u200db'), ['a', ' \u200d', 'b']);
  });

  test('gives the same clean names as Intl.Segmenter for real names', () => {
    for (const name of [`${FAMILY} Familie Müller`, PERSIAN, CONJUNCT, SKIN_COUPLE, '\u200dAlice\u200d', 'Al\u200cice', '  a  b ', 'a \u200db', 'x\u200d y', 'क\u200d ष']) {
      assert.deepEqual(visibleGraphemes(name, true, approximateGraphemes), visibleGraphemes(name, true), JSON.stringify(name));
    }
  });
});
