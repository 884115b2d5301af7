import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileCategory } from '../../src/core/file-category.ts';

test('a file is categorised by its announced type', () => {
  assert.equal(fileCategory('image/png', 'x'), 'image');
  assert.equal(fileCategory('video/mp4', 'x'), 'video');
  assert.equal(fileCategory('audio/mpeg', 'x'), 'audio');
  assert.equal(fileCategory('application/pdf', 'x'), 'document');
  assert.equal(fileCategory('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'x'), 'document');
  assert.equal(fileCategory('text/plain', 'x'), 'document');
  assert.equal(fileCategory('application/zip', 'x'), 'archive');
  assert.equal(fileCategory('application/x-7z-compressed', 'x'), 'archive');
});

test('with no type or a generic one, the extension decides, in any case', () => {
  assert.equal(fileCategory('', 'Holiday.JPG'), 'image');
  assert.equal(fileCategory('application/octet-stream', 'clip.webm'), 'video');
  assert.equal(fileCategory('', 'song.flac'), 'audio');
  assert.equal(fileCategory('', 'report.docx'), 'document');
  assert.equal(fileCategory('application/octet-stream', 'backup.tar.gz'), 'archive');
  assert.equal(fileCategory('', 'notes.md'), 'document');
});

test('anything else, or a name with no extension, is other', () => {
  assert.equal(fileCategory('application/octet-stream', 'firmware.bin'), 'other');
  assert.equal(fileCategory('', 'README'), 'other');
  assert.equal(fileCategory('', '.zip-not-really'), 'other');
});
