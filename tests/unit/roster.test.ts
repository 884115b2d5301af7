import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  blockedIds, decodeRoster, encodeRoster, mark, MAX_NAMES, MAX_PEOPLE, MAX_ROOMS, mergeRosters, migrateVerified, sameRoster, see,
  seeAll, SEEN_STEP_MS, type Roster,
} from '../../src/core/roster.ts';

/** Peer ids are 16 base64url characters (derived from the identity key). */
const id = (n: number) => `peer${String(n).padStart(12, '0')}`;
const BOB = id(1);
const CAROL = id(2);
const ROOM_A = 'a'.repeat(64);
const ROOM_B = 'b'.repeat(64);
const empty: Roster = new Map();

describe('roster: seeing people', () => {
  test('names latest first, rooms latest first, lastSeen; a new name does not lose the old one', () => {
    let r = see(empty, { id: BOB, name: 'Bob', room: ROOM_A, now: 1_000 });
    r = see(r, { id: BOB, name: 'Robert', room: ROOM_B, now: 2_000 });
    const bob = r.get(BOB)!;
    assert.deepEqual(bob.names, ['Robert', 'Bob']);
    assert.deepEqual(bob.rooms, [ROOM_B, ROOM_A]);
    assert.equal(bob.firstSeen, 1_000);
    assert.equal(bob.lastSeen, 2_000);
  });

  test('the same sighting again, within a step of lastSeen, is the same roster: nothing to write', () => {
    const r = see(empty, { id: BOB, name: 'Bob', room: ROOM_A, now: 1_000 });
    assert.equal(see(r, { id: BOB, name: 'Bob', room: ROOM_A, now: 1_000 + SEEN_STEP_MS - 1 }), r);
    assert.notEqual(see(r, { id: BOB, name: 'Bob', room: ROOM_A, now: 1_000 + SEEN_STEP_MS }), r);
  });

  test('a batch (everyone here, each tick): one new roster when someone changed, the same one when nobody did', () => {
    const everyone = (now: number) => [BOB, CAROL].map((who) => ({ id: who, name: who === BOB ? 'Bob' : 'Carol', room: ROOM_A, now }));
    const r = seeAll(empty, everyone(1_000));
    assert.deepEqual([...r.keys()], [BOB, CAROL]);
    assert.equal(seeAll(r, everyone(2_000)), r);
    const later = seeAll(r, everyone(1_000 + SEEN_STEP_MS));
    assert.deepEqual([...later.values()].map((p) => p.lastSeen), [1_000 + SEEN_STEP_MS, 1_000 + SEEN_STEP_MS]);
    assert.equal(sameRoster(r, later), false);
    assert.equal(sameRoster(later, decodeRoster(structuredClone(encodeRoster(later)))), true);
  });

  test('names are hostile input: cleaned as display names; nothing visible is no name', () => {
    let r = see(empty, { id: BOB, name: 'Bob\u202egpj.exe', room: ROOM_A, now: 1 });
    r = see(r, { id: BOB, name: '\u200b\u200b', room: ROOM_A, now: 2 });
    assert.deepEqual(r.get(BOB)!.names, ['Bobgpj.exe']);
  });

  test('names and rooms are bounded per person; ids that are not peer ids are not taken', () => {
    let r = empty;
    for (let i = 0; i < 30; i++) r = see(r, { id: BOB, name: `Name ${i}`, room: `${i}`.padStart(64, 'c'), now: i });
    assert.equal(r.get(BOB)!.names.length, MAX_NAMES);
    assert.equal(r.get(BOB)!.names[0], 'Name 29');
    assert.equal(r.get(BOB)!.rooms.length, MAX_ROOMS);
    assert.equal(see(r, { id: 'not an id', name: 'x', room: ROOM_A, now: 1 }), r);
  });

  test('at most MAX_PEOPLE: the longest unseen go first, and a verified or blocked one only after every unmarked one', () => {
    let r = mark(empty, id(0), 'blocked', true, 0);
    r = mark(r, id(1), 'verified', true, 0);
    for (let i = 2; i < MAX_PEOPLE + 10; i++) r = see(r, { id: id(i), name: `P${i}`, room: ROOM_A, now: i });
    assert.equal(r.size, MAX_PEOPLE);
    assert.ok(r.has(id(0)) && r.has(id(1)), 'the marked stay');
    assert.ok(!r.has(id(2)) && !r.has(id(11)), 'the oldest unmarked went');
    assert.ok(r.has(id(12)));
  });
});

describe('roster: marks, merging, storage', () => {
  test('block and unblock; blockedIds lists the blocked', () => {
    let r = mark(empty, BOB, 'blocked', true, 10);
    r = mark(r, CAROL, 'blocked', true, 11);
    r = mark(r, CAROL, 'blocked', false, 12);
    assert.deepEqual(blockedIds(r), [BOB]);
  });

  test('two tabs merge: everyone from both, names of the later sighting first, the later-set mark wins either way', () => {
    let tab1 = see(empty, { id: BOB, name: 'Bob', room: ROOM_A, now: 100 });
    tab1 = mark(tab1, BOB, 'blocked', true, 200);
    let tab2 = see(empty, { id: BOB, name: 'Robert', room: ROOM_B, now: 300 });
    tab2 = see(tab2, { id: CAROL, name: 'Carol', room: ROOM_B, now: 300 });
    const merged = mergeRosters(tab1, tab2);
    assert.deepEqual(merged.get(BOB)!.names, ['Robert', 'Bob']);
    assert.equal(merged.get(BOB)!.blocked.on, true, 'tab 2 never touched the mark: tab 1\'s block holds');
    assert.ok(merged.has(CAROL));
    const unblocked = mark(merged, BOB, 'blocked', false, 400);
    assert.equal(mergeRosters(tab1, unblocked).get(BOB)!.blocked.on, false, 'an unblock set later is not undone by a tab that still holds the block');
    assert.equal(mergeRosters(unblocked, tab1).get(BOB)!.blocked.on, false, 'in either order');
  });

  test('the old verified list migrates as marks stamped 0: a mark set since wins', () => {
    let r = mark(empty, CAROL, 'verified', false, 50);
    r = migrateVerified(r, [BOB, CAROL, 'junk'], 1);
    assert.equal(r.get(BOB)!.verified.on, true);
    assert.equal(r.get(CAROL)!.verified.on, false, 'unverified after the list was written');
    assert.equal(r.size, 2);
  });

  test('encode then decode is the same roster; a broken stored value is an empty or cleaned one, never a throw', () => {
    let r = see(empty, { id: BOB, name: 'Bob', room: ROOM_A, now: 5 });
    r = mark(r, BOB, 'verified', true, 6);
    assert.deepEqual(decodeRoster(structuredClone(encodeRoster(r))), r);
    for (const junk of [undefined, null, 7, 'x', [], { people: 'x' }, { people: [null, 1, { id: 3 }] }]) {
      assert.equal(decodeRoster(junk).size, 0);
    }
    const dirty = decodeRoster({ v: 1, people: [{ id: BOB, names: ['ok', 5, 'Bob\u202e'], rooms: ['../x', ROOM_A], firstSeen: 1, lastSeen: 2, verified: { on: 'yes', at: 1 }, blocked: { on: true, at: 3 } }] });
    assert.deepEqual(dirty.get(BOB), { id: BOB, names: ['ok', 'Bob'], rooms: [ROOM_A], firstSeen: 1, lastSeen: 2, verified: { on: false, at: 0 }, blocked: { on: true, at: 3 } });
  });
});
