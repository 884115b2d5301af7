import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_DISPLAY_FILE_NAME, displayFileName, nameForSharing, safeFileName } from '../../src/core/filename.ts';
import { MAX_FILE_NAME, parseAnnouncement } from '../../src/core/gossip/announcement.ts';
import { graphemes } from '../../src/core/names.ts';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const FAMILY = '👩\u200d👩\u200d👧\u200d👦';
const BIDI = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c'];

describe('displayFileName', () => {
  test('a bidi override cannot make "gpj.scr" read as "rcs.jpg"', () => {
    assert.equal(displayFileName('holiday-photo\u202Egpj.scr'), 'holiday-photogpj.scr');
    for (const ch of BIDI) assert.equal(displayFileName(`a${ch}b.txt`), 'ab.txt', ch.charCodeAt(0).toString(16));
  });

  test('ordinary, emoji and non-Latin names are shown as they are', () => {
    for (const name of ['report.pdf', 'my file (1).txt', `${FAMILY} holiday.jpg`, 'می\u200cخواهم.txt', 'क्\u200dष.doc', '李.png', '../odd/name.txt']) {
      assert.equal(displayFileName(name), name);
    }
  });

  test('a name with nothing visible is shown as "unnamed file", never as blank', () => {
    for (const name of ['', '   ', '\u200b\u200b', '\u202e', '\u200d\u200c', '\u3164', '\u0000\u0001']) assert.equal(displayFileName(name), 'unnamed file', JSON.stringify(name));
  });

  test('long names are shown whole up to a generous bound', () => {
    const long = `${'a'.repeat(600)}.txt`;
    assert.equal(displayFileName(long), long);
    assert.equal(graphemes(displayFileName('b'.repeat(5000))).length, MAX_DISPLAY_FILE_NAME);
  });

  test('whitespace that would break a line becomes a space', () => {
    assert.equal(displayFileName('a\nb\u2028c\u2029d.txt'), 'ab c d.txt');
  });
});

describe('nameForSharing', () => {
  test('a 300-character name is cut to fit every peer\'s parser, keeping ".pdf"', () => {
    const { name, shortened } = nameForSharing(`${'r'.repeat(296)}.pdf`);
    assert.ok(name.length <= MAX_FILE_NAME, String(name.length));
    assert.equal(name, `${'r'.repeat(MAX_FILE_NAME - 4)}.pdf`);
    assert.equal(shortened, true);
  });

  test('a name that fits is only cleaned, and not called shortened', () => {
    assert.deepEqual(nameForSharing('report.pdf'), { name: 'report.pdf', shortened: false });
    assert.deepEqual(nameForSharing('holiday-photo\u202Egpj.scr'), { name: 'holiday-photogpj.scr', shortened: false });
    const exact = `${'e'.repeat(MAX_FILE_NAME - 4)}.txt`;
    assert.deepEqual(nameForSharing(exact), { name: exact, shortened: false });
    assert.deepEqual(nameForSharing('\u200b'), { name: 'unnamed file', shortened: false });
  });

  test('the cut is at whole graphemes: an emoji sequence is never split', () => {
    const { name, shortened } = nameForSharing(`${FAMILY.repeat(30)}.jpg`); // 30 × 11 code units
    assert.equal(shortened, true);
    assert.ok(name.length <= MAX_FILE_NAME);
    assert.equal(name, `${FAMILY.repeat(Math.floor((MAX_FILE_NAME - 4) / FAMILY.length))}.jpg`);
  });

  test('a long extension is not kept whole; the stem ends cleanly', () => {
    const { name } = nameForSharing(`x.${'y'.repeat(300)}`);
    assert.equal(name.length, MAX_FILE_NAME);
    const dotted = nameForSharing(`${'z'.repeat(250)} . . ${'w'.repeat(10)}.txt`).name;
    assert.ok(dotted.length <= MAX_FILE_NAME && dotted.endsWith('.txt'));
    assert.doesNotMatch(dotted, /[. ]\.txt$/);
  });

  test('whatever the sharer picked, the announced name passes the gossip parser', () => {
    const names = [`${'n'.repeat(1000)}.pdf`, FAMILY.repeat(100), `${'é\u0301'.repeat(200)}.mp4`, `a${'\u0301'.repeat(900)}`, '\u202e', '李'.repeat(400)];
    for (const raw of names) {
      const { name } = nameForSharing(raw);
      const announcement = {
        v: 1, origin: 'A'.repeat(16), key: 'A'.repeat(43), seq: 1, hops: 0, kind: 'add', sig: 'A'.repeat(86),
        file: { id: 'a'.repeat(64), name, size: 1, mime: 'text/plain' },
      };
      const parsed = parseAnnouncement(announcement);
      assert.ok(parsed.ok, `${raw.slice(0, 10)}: ${parsed.ok ? '' : parsed.error}`);
    }
  });
});

describe('safeFileName shares the character rules', () => {
  test('the joiners inside graphemes are kept; standalone ones and invisible characters go', () => {
    assert.equal(safeFileName(`${FAMILY} Familie.jpg`), `${FAMILY} Familie.jpg`);
    assert.equal(safeFileName('می\u200cخواهم.txt'), 'می\u200cخواهم.txt');
    assert.equal(safeFileName('\u200dnotes\u200b.txt'), 'notes.txt');
    assert.equal(safeFileName('\ufeffbom.txt'), 'bom.txt');
    assert.equal(safeFileName('\u2060\u3164'), 'download');
  });

  test('saved names are bounded in bytes too, cut at whole graphemes, keeping the extension', () => {
    const saved = safeFileName(`${'李'.repeat(150)}.txt`); // 150 × 3 bytes
    assert.ok(bytes(saved) <= 240, String(bytes(saved)));
    assert.equal(saved, `${'李'.repeat(Math.floor((240 - 4) / 3))}.txt`);
    const emoji = safeFileName(`${FAMILY.repeat(20)}.png`);
    assert.ok(bytes(emoji) <= 240);
    assert.equal(emoji, `${FAMILY.repeat(Math.floor((240 - 4) / bytes(FAMILY)))}.png`);
  });

  test('a line separator in a saved name becomes a space; inner spaces are kept as they were', () => {
    assert.equal(safeFileName('a\u2028b.txt'), 'a b.txt');
    assert.equal(safeFileName('my  file.txt'), 'my  file.txt');
  });
});
