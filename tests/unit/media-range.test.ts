import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mediaKind, mediaType } from '../../src/core/media-type.ts';
import { focusMessage, mediaFileId, mediaUrl, parseFocus, parseStored, storedMessage } from '../../src/sw/media-protocol.ts';
import { parseRange, rangeHead, slicesFor } from '../../src/sw/range.ts';

/** The media route's pure parts: Range answers, piece slices, the page/worker messages, what counts as media. */
const SIZE = 10_000;
const ID = 'ab'.repeat(32);

describe('Range requests', () => {
  test('no Range: 200 with the whole file', () => {
    const a = parseRange(null, SIZE);
    assert.deepEqual(a, { kind: 'whole', start: 0, end: SIZE - 1 });
    const head = rangeHead(a, SIZE, 'video/webm');
    assert.equal(head.status, 200);
    assert.equal(head.headers['Content-Length'], String(SIZE));
    assert.equal(head.headers['Content-Range'], undefined);
    assert.equal(head.headers['Accept-Ranges'], 'bytes');
    assert.equal(head.headers['Content-Type'], 'video/webm');
  });

  test('a closed range: 206 with Content-Range and the exact length', () => {
    const a = parseRange('bytes=100-199', SIZE);
    assert.deepEqual(a, { kind: 'partial', start: 100, end: 199 });
    const head = rangeHead(a, SIZE, 'video/mp4');
    assert.equal(head.status, 206);
    assert.equal(head.headers['Content-Range'], `bytes 100-199/${SIZE}`);
    assert.equal(head.headers['Content-Length'], '100');
  });

  test("Safari's bytes=0-1 probe gets two bytes", () => {
    const head = rangeHead(parseRange('bytes=0-1', SIZE), SIZE, 'video/mp4');
    assert.equal(head.status, 206);
    assert.equal(head.headers['Content-Range'], `bytes 0-1/${SIZE}`);
    assert.equal(head.headers['Content-Length'], '2');
  });

  test('an open range runs to the end; an end past the file is cut to it', () => {
    assert.deepEqual(parseRange('bytes=100-', SIZE), { kind: 'partial', start: 100, end: SIZE - 1 });
    assert.deepEqual(parseRange('bytes=0-', SIZE), { kind: 'partial', start: 0, end: SIZE - 1 });
    assert.deepEqual(parseRange('bytes=9000-99999', SIZE), { kind: 'partial', start: 9000, end: SIZE - 1 });
    assert.deepEqual(parseRange(`bytes=${SIZE - 1}-`, SIZE), { kind: 'partial', start: SIZE - 1, end: SIZE - 1 });
  });

  test('suffix ranges: the last n bytes, all of it when n is larger', () => {
    const a = parseRange('bytes=-500', SIZE);
    assert.deepEqual(a, { kind: 'partial', start: SIZE - 500, end: SIZE - 1 });
    assert.equal(rangeHead(a, SIZE, 'audio/ogg').headers['Content-Range'], `bytes 9500-9999/${SIZE}`);
    assert.deepEqual(parseRange('bytes=-20000', SIZE), { kind: 'partial', start: 0, end: SIZE - 1 });
  });

  test('416 with bytes */size when out of range or malformed', () => {
    const bad = [
      `bytes=${SIZE}-`, `bytes=${SIZE + 5}-${SIZE + 9}`, 'bytes=-0', 'bytes=200-100', 'bytes=-', 'bytes=', 'bytes=abc',
      'bytes=1-2-3', 'items=0-1', 'bytes 0-1', '0-1', 'bytes=0x10-', 'bytes=-5-', 'bytes=0-1,junk', '',
    ];
    for (const header of bad) {
      const a = parseRange(header, SIZE);
      assert.deepEqual(a, { kind: 'unsatisfiable' }, header);
      const head = rangeHead(a, SIZE, 'video/webm');
      assert.equal(head.status, 416, header);
      assert.equal(head.headers['Content-Range'], `bytes */${SIZE}`, header);
    }
  });

  test('several ranges are answered with the whole file (200), as the RFC allows', () => {
    assert.deepEqual(parseRange('bytes=0-1, 5-9', SIZE), { kind: 'whole', start: 0, end: SIZE - 1 });
  });

  test('whitespace and case are tolerated', () => {
    assert.deepEqual(parseRange(' Bytes = 5-6', SIZE), { kind: 'partial', start: 5, end: 6 });
  });
});

describe('slicesFor', () => {
  test('maps a byte range onto the pieces that hold it', () => {
    assert.deepEqual(slicesFor(0, 1, 100), [{ piece: 0, from: 0, to: 2 }]);
    assert.deepEqual(slicesFor(150, 349, 100), [
      { piece: 1, from: 50, to: 100 }, { piece: 2, from: 0, to: 100 }, { piece: 3, from: 0, to: 50 },
    ]);
    assert.deepEqual(slicesFor(99, 100, 100), [{ piece: 0, from: 99, to: 100 }, { piece: 1, from: 0, to: 1 }]);
  });

  test('the slices cover the range exactly, for any range', () => {
    for (let start = 0; start < 40; start += 3) {
      for (let end = start; end < 60; end += 7) {
        const slices = slicesFor(start, end, 8);
        assert.equal(slices.reduce((n, s) => n + s.to - s.from, 0), end - start + 1);
        assert.equal(slices[0]!.piece * 8 + slices[0]!.from, start);
        const last = slices.at(-1)!;
        assert.equal(last.piece * 8 + last.to - 1, end);
      }
    }
  });
});

describe('media messages and URLs', () => {
  test('a media URL names the file by id; anything else is not one', () => {
    const url = mediaUrl(ID, 'My clip #1.webm');
    assert.ok(url.startsWith(`/media/${ID}/`));
    assert.equal(mediaFileId(new URL(url, 'https://x').pathname), ID);
    for (const path of ['/media/', `/media/${ID.slice(1)}/x`, `/media/${ID.toUpperCase()}/x`, `/other/${ID}/x`, '/media/../sw.js']) {
      assert.equal(mediaFileId(path), null, path);
    }
  });

  test('messages round-trip; anything else is refused', () => {
    assert.deepEqual(parseFocus(focusMessage(ID, 5)), focusMessage(ID, 5));
    assert.deepEqual(parseStored(storedMessage(ID)), storedMessage(ID));
    for (const bad of [null, 1, 'x', {}, { type: 'meshdrop-media-focus', fileId: ID, offset: -1 }, { type: 'meshdrop-media-focus', fileId: ID, offset: 1.5 },
      { type: 'meshdrop-media-focus', fileId: 'nope', offset: 1 }, { type: 'meshdrop-media-stored', fileId: ID }]) {
      assert.equal(parseFocus(bad), null, JSON.stringify(bad));
    }
    assert.equal(parseStored({ type: 'meshdrop-media-stored', fileId: 5 }), null);
    assert.equal(parseStored(focusMessage(ID, 1)), null);
  });

  test('what plays: audio and video by type, or by extension when the type is generic', () => {
    assert.equal(mediaKind('video/webm', 'a'), 'video');
    assert.equal(mediaKind('audio/mpeg; codecs=mp3', 'a'), 'audio');
    assert.equal(mediaKind('application/octet-stream', 'clip.WEBM'), 'video');
    assert.equal(mediaType('', 'song.m4a'), 'audio/mp4');
    assert.equal(mediaKind('application/pdf', 'a.pdf'), null);
    assert.equal(mediaKind('', 'noextension'), null);
    assert.equal(mediaKind('image/png', 'x.png'), null);
  });
});
