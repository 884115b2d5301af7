import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_RECENT_ROOMS, RECENT_ROOMS_KEY, canonicalFragment, decodeRecentRooms, forgetRecentRoom, forgetRoom, loadRecentRooms,
  recentRoomName, recordRoomVisit, timeAgo, touchRecentRoom, type RecentRoom,
} from '../../src/app/recent-rooms.ts';
import { parseRoomFragment, type Room } from '../../src/core/room.ts';
import { createMemoryStore } from '../../src/storage/memory-store.ts';

const KEY_A = 'AbCdEf0123456789_-xyzQ';
const KEY_B = 'ZyXwVu9876543210-_abcD';
const random = (secret: string): Room => ({ secret, named: false });
const named = (name: string): Room => parseRoomFragment(`#${name}`)!;
const HOUR = 3600_000;

describe('recent rooms: list logic', () => {
  test('names: a named room by its name, a random one by "Room " and the first 6 characters of its key', () => {
    assert.equal(recentRoomName(random(KEY_A)), 'Room AbCdEf');
    assert.equal(recentRoomName(named('my-family')), 'my-family');
  });

  test('one entry per room whatever the spelling of its fragment, and the fragment leads back to the same room', () => {
    assert.equal(canonicalFragment(named('My-Family')), canonicalFragment(named('my-family')));
    for (const room of [random(KEY_A), named('café bar'), named(`name:${KEY_B}`)]) {
      assert.deepEqual(parseRoomFragment(`#${canonicalFragment(room)}`), room);
    }
  });

  test('touch adds newest first, and moves a room visited again to the front with its new time', () => {
    let list: RecentRoom[] = [];
    list = touchRecentRoom(list, random(KEY_A), 1000);
    list = touchRecentRoom(list, named('my-family'), 2000);
    assert.deepEqual(list.map((r) => r.name), ['my-family', 'Room AbCdEf']);
    list = touchRecentRoom(list, random(KEY_A), 3000);
    assert.deepEqual(list, [
      { fragment: KEY_A, name: 'Room AbCdEf', lastVisit: 3000 },
      { fragment: 'my-family', name: 'my-family', lastVisit: 2000 },
    ]);
  });

  test('keeps at most 20 rooms, dropping the oldest', () => {
    let list: RecentRoom[] = [];
    for (let i = 0; i < MAX_RECENT_ROOMS + 5; i++) list = touchRecentRoom(list, named(`room-${i}`), i);
    assert.equal(list.length, MAX_RECENT_ROOMS);
    assert.equal(list[0]!.name, `room-${MAX_RECENT_ROOMS + 4}`);
    assert.equal(list.at(-1)!.name, 'room-5');
  });

  test('forget removes only that room', () => {
    const list = touchRecentRoom(touchRecentRoom([], random(KEY_A), 1), random(KEY_B), 2);
    assert.deepEqual(forgetRecentRoom(list, KEY_A).map((r) => r.fragment), [KEY_B]);
    assert.deepEqual(forgetRecentRoom(list, 'not-there'), list);
  });

  test('decoding a stored value never throws: bad entries and duplicates are dropped, the rest sorted newest first', () => {
    for (const junk of [undefined, null, 42, 'rooms', {}, [null, 1, 'x', { fragment: '' }]]) {
      assert.deepEqual(decodeRecentRooms(junk), []);
    }
    const stored = [
      { fragment: 'a', name: 'a', lastVisit: 1 },
      { fragment: 'b', name: 'b', lastVisit: Number.NaN },
      { fragment: 'c', name: 'c', lastVisit: 3, extra: 'dropped' },
      { fragment: 'a', name: 'a again', lastVisit: 5 },
    ];
    assert.deepEqual(decodeRecentRooms(stored), [
      { fragment: 'c', name: 'c', lastVisit: 3 },
      { fragment: 'a', name: 'a', lastVisit: 1 },
    ]);
  });

  test('last visit reads as relative time', () => {
    const now = 1_000_000_000_000;
    assert.equal(timeAgo(now - 10_000, now), 'just now');
    assert.equal(timeAgo(now + 60_000, now), 'just now', 'a clock set back is not "in 1 minute"');
    assert.equal(timeAgo(now - 5 * 60_000, now), '5 minutes ago');
    assert.equal(timeAgo(now - 2 * HOUR - 60_000, now), '2 hours ago');
    assert.equal(timeAgo(now - 30 * HOUR, now), 'yesterday');
    assert.equal(timeAgo(now - 3 * 24 * HOUR, now), '3 days ago');
    assert.equal(timeAgo(now - 400 * 24 * HOUR, now), 'last year');
  });
});

describe('recent rooms: in the store', () => {
  test('visits and forgets are kept under "recent-rooms" and read back', async () => {
    const store = createMemoryStore();
    assert.deepEqual(await loadRecentRooms(store), []);
    await recordRoomVisit(store, random(KEY_A), 10);
    await recordRoomVisit(store, named('Team'), 20);
    assert.deepEqual((await loadRecentRooms(store)).map((r) => r.name), ['team', 'Room AbCdEf']);
    await forgetRoom(store, KEY_A);
    assert.deepEqual(await store.getValue(RECENT_ROOMS_KEY), [{ fragment: 'team', name: 'team', lastVisit: 20 }]);
  });

  test('a broken stored value gives an empty list, and the next visit replaces it', async () => {
    const store = createMemoryStore();
    await store.setValue(RECENT_ROOMS_KEY, 'garbage');
    assert.deepEqual(await loadRecentRooms(store), []);
    await recordRoomVisit(store, random(KEY_B), 5);
    assert.deepEqual(await loadRecentRooms(store), [{ fragment: KEY_B, name: 'Room ZyXwVu', lastVisit: 5 }]);
  });

  test('two tabs opening rooms at once keep both, in either order (one read-modify-write each)', async () => {
    for (const [first, second] of [[random(KEY_A), named('team')], [named('team'), random(KEY_A)]] as const) {
      const store = createMemoryStore();
      await recordRoomVisit(store, random(KEY_B), 1);
      await Promise.all([recordRoomVisit(store, first, 10), recordRoomVisit(store, second, 20)]);
      const names = (await loadRecentRooms(store)).map((r) => r.name);
      assert.deepEqual(names, [recentRoomName(second), recentRoomName(first), 'Room ZyXwVu']);
    }
  });

  test('a forget in one tab and a visit in another at once: the forgotten room stays forgotten, the visit is kept', async () => {
    for (const forgetFirst of [true, false]) {
      const store = createMemoryStore();
      await recordRoomVisit(store, random(KEY_A), 1);
      const forget = () => forgetRoom(store, KEY_A);
      const visit = () => recordRoomVisit(store, random(KEY_B), 2);
      await Promise.all(forgetFirst ? [forget(), visit()] : [visit(), forget()]);
      assert.deepEqual((await loadRecentRooms(store)).map((r) => r.fragment), [KEY_B], `forget first: ${forgetFirst}`);
    }
  });
});
