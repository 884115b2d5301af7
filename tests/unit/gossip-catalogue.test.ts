import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Catalogue, MAX_FILES_PER_ORIGIN, MAX_TOMBSTONES_PER_ORIGIN } from '../../src/core/gossip/catalogue.ts';
import { fileId, meta } from './helpers/gossip-keys.ts';
import { peerId, statement } from './helpers/statements.ts';

const ALICE = peerId(1);
const BOB = peerId(2);
const CAROL = peerId(3);

describe('Catalogue', () => {
  test('add makes the origin a holder; the same seq again is a duplicate', () => {
    const cat = new Catalogue();
    assert.equal(cat.apply(statement(ALICE, 1, 10)), 'changed');
    assert.equal(cat.apply(statement(ALICE, 1, 10)), 'duplicate');
    assert.deepEqual(cat.holders(fileId(1)), [ALICE]);
    assert.deepEqual(cat.meta(fileId(1)), meta(1));
    assert.deepEqual(cat.entries(), [{ meta: meta(1), metas: [meta(1)], holders: [ALICE] }]);
  });

  test('a newer seq replaces an older one; an older one is stale, whatever order they arrive in', () => {
    const cat = new Catalogue();
    cat.apply(statement(ALICE, 1, 10, 'add', { name: 'old.txt' }));
    assert.equal(cat.apply(statement(ALICE, 1, 20, 'add', { name: 'new.txt' })), 'changed');
    assert.equal(cat.apply(statement(ALICE, 1, 15, 'add', { name: 'middle.txt' })), 'stale');
    assert.equal(cat.meta(fileId(1))?.name, 'new.txt');
    assert.equal(cat.apply(statement(ALICE, 1, 21, 'add', { name: 'new.txt' })), 'recorded', 'a newer seq saying the same');
    assert.equal(cat.latest(ALICE, fileId(1))?.seq, 21);
  });

  test('a remove is a tombstone: an older add re-synced later cannot bring the file back', () => {
    const cat = new Catalogue();
    cat.apply(statement(ALICE, 1, 10));
    assert.equal(cat.apply(statement(ALICE, 1, 11, 'remove')), 'changed');
    assert.deepEqual(cat.holders(fileId(1)), []);
    assert.equal(cat.meta(fileId(1)), undefined);
    assert.equal(cat.apply(statement(ALICE, 1, 10)), 'stale');
    assert.deepEqual(cat.holders(fileId(1)), []);
    assert.equal(cat.apply(statement(ALICE, 1, 12)), 'changed', 'a newer add does');
    assert.deepEqual(cat.holders(fileId(1)), [ALICE]);
  });

  test('a remove that arrives before the add it withdraws still wins', () => {
    const cat = new Catalogue();
    assert.equal(cat.apply(statement(ALICE, 1, 11, 'remove')), 'recorded', 'nothing visible changed');
    assert.equal(cat.apply(statement(ALICE, 1, 10)), 'stale');
    assert.deepEqual(cat.entries(), []);
    assert.deepEqual(cat.announcements().map((a) => [a.kind, a.seq]), [['remove', 11]], 'the tombstone is synced on');
  });

  test('each origin keeps its own meta: a liar\'s wrong size does not replace an honest holder\'s', () => {
    const cat = new Catalogue();
    cat.apply(statement(ALICE, 1, 10));
    cat.apply(statement(BOB, 1, 99, 'add', { size: 15 * 2 ** 30 }));
    assert.equal(cat.metaFrom(ALICE, fileId(1))?.size, meta(1).size);
    assert.equal(cat.metaFrom(BOB, fileId(1))?.size, 15 * 2 ** 30);
    assert.equal(cat.meta(fileId(1))?.size, meta(1).size, 'a tie goes to the earliest holder');
    cat.apply(statement(CAROL, 1, 5));
    assert.deepEqual(cat.metas(fileId(1)).map((m) => m.size), [meta(1).size, 15 * 2 ** 30], 'the most held first');
  });

  test('the same file under two names from two origins shows both names', () => {
    const cat = new Catalogue();
    cat.apply(statement(ALICE, 1, 10, 'add', { name: 'holiday.jpg' }));
    cat.apply(statement(BOB, 1, 10, 'add', { name: 'IMG_0042.jpg' }));
    assert.deepEqual(cat.metas(fileId(1)).map((m) => m.name), ['holiday.jpg', 'IMG_0042.jpg']);
    assert.deepEqual(cat.entries()[0]!.metas.map((m) => m.name), ['holiday.jpg', 'IMG_0042.jpg']);
    assert.deepEqual(cat.holders(fileId(1)), [ALICE, BOB]);
    cat.apply(statement(ALICE, 1, 11, 'remove'));
    assert.deepEqual(cat.metas(fileId(1)).map((m) => m.name), ['IMG_0042.jpg'], 'a name goes with the last holder who gave it');
  });

  test('removePeer forgets everything an origin said, tombstones included', () => {
    const cat = new Catalogue();
    cat.apply(statement(ALICE, 1, 1));
    cat.apply(statement(ALICE, 2, 1));
    cat.apply(statement(ALICE, 3, 2, 'remove'));
    cat.apply(statement(BOB, 2, 1));
    assert.equal(cat.removePeer(ALICE), true);
    assert.deepEqual(cat.entries().map((e) => [e.meta.id, e.holders]), [[fileId(2), [BOB]]]);
    assert.deepEqual(cat.originIds(), [BOB]);
    assert.equal(cat.removePeer(ALICE), false);
    assert.equal(cat.removePeer(peerId(99)), false);
  });

  test('dropBefore forgets what an origin said before it restarted, keeps what it said since and what others said', () => {
    const cat = new Catalogue();
    cat.apply(statement(ALICE, 1, 10));
    cat.apply(statement(ALICE, 2, 11, 'remove'));
    cat.apply(statement(ALICE, 3, 30));
    cat.apply(statement(BOB, 1, 5));
    assert.equal(cat.dropBefore(ALICE, 20), true);
    assert.deepEqual(cat.holders(fileId(1)), [BOB]);
    assert.deepEqual(cat.holders(fileId(3)), [ALICE]);
    assert.equal(cat.latest(ALICE, fileId(2)), undefined, 'the old tombstone went too');
    assert.equal(cat.dropBefore(ALICE, 20), false, 'nothing more to drop');
    assert.equal(cat.apply(statement(ALICE, 1, 25)), 'changed', 'its new word is taken');
    assert.equal(cat.dropBefore(CAROL, 20), false, 'an origin never heard of');
  });

  test('announcements() brings a new neighbour to the same catalogue', () => {
    const cat = new Catalogue();
    for (const [origin, file] of [[ALICE, 1], [ALICE, 2], [BOB, 2], [BOB, 3]] as const) cat.apply(statement(origin, file, 5));
    cat.apply(statement(BOB, 3, 6, 'remove'));
    const copy = new Catalogue();
    for (const a of [...cat.announcements()].reverse()) copy.apply(a);
    const normal = (c: Catalogue) => c.entries().map((e) => ({ ...e, holders: e.holders.sort() })).sort((x, y) => x.meta.id.localeCompare(y.meta.id));
    assert.deepEqual(normal(copy), normal(cat));
    assert.equal(cat.announcements().length, 4);
    assert.equal(copy.apply(statement(BOB, 3, 5)), 'stale', 'the tombstone came along');
  });

  test('one origin may hold at most MAX_FILES_PER_ORIGIN files; over that is dropped, not stored', () => {
    const cat = new Catalogue();
    for (let f = 0; f < MAX_FILES_PER_ORIGIN; f++) assert.equal(cat.apply(statement(ALICE, f, 1)), 'changed');
    assert.equal(cat.apply(statement(ALICE, MAX_FILES_PER_ORIGIN, 1)), 'over-limit');
    assert.equal(cat.latest(ALICE, fileId(MAX_FILES_PER_ORIGIN)), undefined);
    assert.equal(cat.apply(statement(ALICE, 0, 2, 'add', { name: 'renamed' })), 'changed', 'updating a held file is not over the limit');
    assert.equal(cat.apply(statement(BOB, MAX_FILES_PER_ORIGIN, 1)), 'changed', 'other origins are not affected');
    assert.equal(cat.apply(statement(ALICE, 5, 2, 'remove')), 'changed');
    assert.equal(cat.apply(statement(ALICE, MAX_FILES_PER_ORIGIN, 1)), 'changed', 'a removal frees a slot');
    assert.equal(cat.apply(statement(ALICE, MAX_FILES_PER_ORIGIN + 1, 1)), 'over-limit');
    assert.equal(cat.apply(statement(CAROL, 7, 1)), 'changed');
    assert.equal(cat.apply(statement(peerId(4), 7, 1)), 'changed');
  });

  test('tombstones are bounded per origin, the oldest forgotten first', () => {
    const cat = new Catalogue();
    const extra = 5;
    for (let f = 0; f < MAX_TOMBSTONES_PER_ORIGIN + extra; f++) cat.apply(statement(ALICE, f, 2, 'remove'));
    assert.equal(cat.announcements().length, MAX_TOMBSTONES_PER_ORIGIN);
    assert.equal(cat.latest(ALICE, fileId(extra - 1)), undefined, 'the oldest went');
    assert.equal(cat.latest(ALICE, fileId(extra))?.kind, 'remove');
    assert.equal(cat.apply(statement(ALICE, extra, 1)), 'stale', 'a kept tombstone still wins');
  });
});
