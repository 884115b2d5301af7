import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OLD_VERIFIED_KEY, PeopleRoster, ROSTER_KEY } from '../../src/app/roster.ts';
import { blockedIds, decodeRoster } from '../../src/core/roster.ts';
import { createMemoryStore } from '../../src/storage/memory-store.ts';
import type { Store } from '../../src/storage/store.ts';

/** The roster's stored copy (app/roster.ts): migration, marks written at once, tabs merging, recognition. */
const BOB = 'peer000000000001';
const CAROL = 'peer000000000002';
const DAVE = 'peer000000000003';
const ROOM_A = 'a'.repeat(64);
const ROOM_B = 'b'.repeat(64);

describe('PeopleRoster: the browser\'s copy in storage', () => {
  const open = (store: Store, clock = { now: 1_000 }) => {
    const blocks: string[][] = [];
    const roster = new PeopleRoster({
      store, wallClock: () => clock.now, changed: () => undefined, failed: (text) => assert.fail(text),
      blockChanged: (now) => blocks.push([...now]),
    });
    return { roster, blocks };
  };

  test('the old verified list is migrated once: marks kept, the old list emptied, a reload still verified', async () => {
    const store = createMemoryStore();
    await store.setPref(OLD_VERIFIED_KEY, JSON.stringify([BOB]));
    const first = open(store).roster;
    await first.load();
    assert.equal(first.isVerified(BOB), true);
    assert.equal(await store.getPref(OLD_VERIFIED_KEY), '[]');
    const again = open(store).roster;
    await again.load();
    assert.equal(again.isVerified(BOB), true);
  });

  test('a mark is stored by the time its promise resolves; a block in one tab reaches the other at its sync', async () => {
    const store = createMemoryStore();
    const [tab1, tab2] = [open(store), open(store)];
    await Promise.all([tab1.roster.load(), tab2.roster.load()]);
    tab2.roster.seen(CAROL, 'Carol', ROOM_B);
    await tab1.roster.block(BOB, true);
    assert.deepEqual(blockedIds(decodeRoster(await store.getValue(ROSTER_KEY))), [BOB]);
    assert.equal(tab2.roster.isBlocked(BOB), false, 'not before its sync');
    await tab2.roster.sync();
    assert.equal(tab2.roster.isBlocked(BOB), true);
    assert.deepEqual(tab2.blocks, [[BOB]], 'told once');
    const stored = decodeRoster(await store.getValue(ROSTER_KEY));
    assert.ok(stored.get(BOB)?.blocked.on && stored.get(CAROL)?.names[0] === 'Carol', 'both tabs\' news kept');
    assert.deepEqual(tab2.roster.people(() => false).map((p) => p.id), [CAROL], 'the picker\'s list leaves the blocked out');
  });

  test('two tabs saving at once keep each other\'s news: a block, and someone met, both stored', async () => {
    const store = createMemoryStore();
    const [tab1, tab2] = [open(store), open(store)];
    await Promise.all([tab1.roster.load(), tab2.roster.load()]);
    tab2.roster.seen(CAROL, 'Carol', ROOM_B);
    // Both write in the same turn: a read in one and a write in another transaction would let the later write undo the earlier.
    await Promise.all([tab1.roster.block(BOB, true), tab2.roster.sync()]);
    const stored = decodeRoster(await store.getValue(ROSTER_KEY));
    assert.equal(stored.get(BOB)?.blocked.on, true, 'the block is stored by the time its promise resolves');
    assert.equal(stored.get(CAROL)?.names[0], 'Carol', 'and so is the other tab\'s sighting');
    // The other order: the sighting's sync starts first.
    tab1.roster.seen(DAVE, 'Dave', ROOM_A);
    await Promise.all([tab1.roster.sync(), tab2.roster.block(CAROL, true)]);
    const after = decodeRoster(await store.getValue(ROSTER_KEY));
    assert.deepEqual([after.get(DAVE)?.names[0], after.get(CAROL)?.blocked.on, after.get(BOB)?.blocked.on], ['Dave', true, true]);
  });

  test('known from before this visit, and the name then: "Bob, known as Robert here"', async () => {
    const store = createMemoryStore();
    const before = open(store).roster;
    await before.load();
    before.seen(BOB, 'Bob', ROOM_A);
    await before.sync();
    const now = open(store, { now: 9_000 }).roster;
    await now.load();
    assert.equal(now.knownAs(BOB, 'Robert'), 'Bob', 'before he is seen');
    now.seen(BOB, 'Robert', ROOM_B);
    assert.deepEqual([now.isKnown(BOB), now.knownAs(BOB, 'Robert'), now.nameOf(BOB)], [true, 'Bob', 'Robert']);
    now.seen(CAROL, 'Carol', ROOM_B);
    now.seen(CAROL, 'Caroline', ROOM_B);
    assert.deepEqual([now.isKnown(CAROL), now.knownAs(CAROL, 'Caroline')], [false, null], 'met on this visit: renamed before our eyes');
  });
});
