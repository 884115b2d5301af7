import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toBase64Url } from '../../src/core/bytes.ts';
import { MAX_HOPS } from '../../src/core/gossip/announcement.ts';
import {
  AWAY_MS, EXPIRE_MS, MAX_PRESENCE_ORIGINS, pageStatus, parsePresence, PRESENCE_CONTEXT, presenceBytes, PresenceBook, PRESENCE_BURST,
  REFRESH_MS, signPresence, verifyPresence, type Presence, type PresenceStatus,
} from '../../src/core/gossip/presence.ts';
import { MAX_NAME_BYTES } from '../../src/core/names.ts';
import { idOf, makeFakeKey, makeKey, verify, type TestKey } from './helpers/gossip-keys.ts';
import { mulberry32 } from './helpers/random.ts';

const ROOM = 'room-topic-a';
const T0 = 1_700_000_000_000;

function say(key: TestKey, seq: number, kind: Presence['kind'] = 'here', name = 'Amber Otter', hops = MAX_HOPS, since = T0): Promise<Presence> {
  return signPresence({ origin: key.id, key: toBase64Url(key.publicKey), seq, since, kind, name, hops }, ROOM, (d) => key.sign(d));
}

/** Screen then admit, as RoomPresence does around the signature check. */
function judge(book: PresenceBook, p: Presence, from: string, neighbours: string[], now: number) {
  const screened = book.screen(p, now);
  return screened.ok ? book.admit(p, from, neighbours, now) : { action: 'drop' as const, reason: screened.reason };
}

describe('presence statements: signed, bound to the room and the origin', () => {
  test('a statement verifies in its room with any hop count, and in no other room', async () => {
    const key = await makeKey();
    const p = await say(key, T0);
    assert.equal((await verifyPresence(p, ROOM, verify, idOf)).ok, true);
    assert.equal((await verifyPresence({ ...p, hops: 1 }, ROOM, verify, idOf)).ok, true, 'forwarders count hops down');
    const elsewhere = await verifyPresence(p, 'room-topic-b', verify, idOf);
    assert.equal(!elsewhere.ok && elsewhere.code, 'bad-signature', 'replayed into another room');
  });

  test('a changed name, seq or kind breaks the signature; an origin that is not the key\'s id is bad-origin', async () => {
    const [key, other] = [await makeKey(), await makeKey()];
    const p = await say(key, T0);
    for (const forged of [{ ...p, name: 'Mallory' }, { ...p, seq: p.seq + 5 }, { ...p, since: p.since - 1 }, { ...p, kind: 'gone' as const }]) {
      const r = await verifyPresence(forged, ROOM, verify, idOf);
      assert.equal(!r.ok && r.code, 'bad-signature');
    }
    const r = await verifyPresence({ ...p, origin: other.id }, ROOM, verify, idOf);
    assert.equal(!r.ok && r.code, 'bad-origin');
  });

  test('a verifier that throws proves nothing about the sender', async () => {
    const p = await say(await makeKey(), T0);
    const r = await verifyPresence(p, ROOM, async () => { throw new Error('no crypto'); }, idOf);
    assert.equal(!r.ok && r.code, 'verify-failed');
  });

  test('parse keeps the known fields and refuses each malformed one with an error value', async () => {
    const p = await say(makeFakeKey(1), T0);
    assert.deepEqual(parsePresence({ ...p, extra: 'x'.repeat(100) }), { ok: true, value: p });
    const bad: unknown[] = [
      null, 'here', [p], { ...p, v: 2 }, { ...p, origin: 'short' }, { ...p, key: 'AAAA' }, { ...p, seq: -1 }, { ...p, seq: 1.5 },
      { ...p, seq: 2 ** 53 }, { ...p, since: p.seq + 1 }, { ...p, since: -1 }, { ...p, kind: 'away' }, { ...p, name: 7 }, { ...p, name: 'é'.repeat(MAX_NAME_BYTES / 2 + 1) },
      { ...p, hops: MAX_HOPS + 1 }, { ...p, hops: -1 }, { ...p, sig: p.sig.slice(1) }, { ...p, sig: undefined },
    ];
    for (const v of bad) assert.equal(parsePresence(v).ok, false, JSON.stringify(v)?.slice(0, 80));
    assert.equal(parsePresence({ ...p, name: 'é'.repeat(MAX_NAME_BYTES / 2) }).ok, true, 'a name of exactly MAX_NAME_BYTES');
  });

  test('parse never throws on random JSON-ish values', async () => {
    const p = await say(makeFakeKey(2), T0);
    const random = mulberry32(11);
    const values = [0, -1, 1e300, '', 'x', null, true, [], {}, { v: 1 }, NaN];
    for (let i = 0; i < 2_000; i++) {
      const v: Record<string, unknown> = { ...p };
      for (const field of Object.keys(v)) if (random() < 0.3) v[field] = values[Math.floor(random() * values.length)];
      assert.doesNotThrow(() => parsePresence(v));
    }
  });
});

describe('PresenceBook: who is here', () => {
  const SELF = makeFakeKey(0).id;
  const [A, B, C] = [makeFakeKey(1), makeFakeKey(2), makeFakeKey(3)];

  test('seq decides: a duplicate and an older copy are dropped, a stale "here" never undoes a "gone"', async () => {
    const book = new PresenceBook({ self: SELF });
    const here1 = await say(A, T0);
    assert.equal(judge(book, here1, B.id, [B.id], 0).action, 'accept');
    assert.equal(book.isHere(A.id), true);
    assert.deepEqual(judge(book, here1, C.id, [B.id, C.id], 1), { action: 'drop', reason: 'duplicate' });
    const gone = await say(A, T0 + 1, 'gone');
    const v = judge(book, gone, B.id, [B.id], 2);
    assert.equal(v.action === 'accept' && v.change, 'left');
    assert.deepEqual(judge(book, here1, C.id, [B.id, C.id], 3), { action: 'drop', reason: 'stale' });
    assert.equal(book.isHere(A.id), false);
    assert.deepEqual(book.here(), []);
    // A reload: the same identity, a newer seq from the wall clock.
    const back = judge(book, await say(A, T0 + 60_000), B.id, [B.id], 4);
    assert.equal(back.action === 'accept' && back.change, 'arrived');
    assert.deepEqual(book.here(), [A.id]);
  });

  test('a "gone" that arrives before the "here" it follows leaves the origin away', async () => {
    const book = new PresenceBook({ self: SELF });
    assert.equal(judge(book, await say(A, T0 + 1, 'gone'), B.id, [B.id], 0).action, 'accept');
    assert.deepEqual(judge(book, await say(A, T0), B.id, [B.id], 1), { action: 'drop', reason: 'stale' });
    assert.equal(book.isHere(A.id), false);
  });

  test('a reload (a later session start) is flagged once; refreshes and a lagging copy of the old session are not', async () => {
    const book = new PresenceBook({ self: SELF });
    const restarted = async (seq: number, since: number) => {
      const v = judge(book, await say(A, seq, 'here', 'A', MAX_HOPS, since), B.id, [B.id], seq - T0);
      return v.action === 'accept' ? v.restarted : v.reason;
    };
    assert.equal(await restarted(T0, T0), true, 'first word of a session');
    assert.equal(await restarted(T0 + REFRESH_MS, T0), false, 'a refresh');
    assert.equal(await restarted(T0 + 2 * REFRESH_MS, T0 + 2 * REFRESH_MS - 10), true, 'the page reloaded');
    assert.equal(await restarted(T0 + REFRESH_MS + 1, T0), 'stale', 'the old session\'s late copy');
    assert.equal(book.since(A.id), T0 + 2 * REFRESH_MS - 10);
  });

  test('our own statements echoed back are dropped', async () => {
    const book = new PresenceBook({ self: A.id });
    assert.deepEqual(judge(book, await say(A, T0), B.id, [B.id], 0), { action: 'drop', reason: 'own' });
    assert.equal(book.counters.own, 1);
  });

  test('expiry: three missed refreshes and the origin is gone, reported once; a refresh keeps it', async () => {
    const book = new PresenceBook({ self: SELF });
    judge(book, await say(A, T0), B.id, [B.id], 0);
    judge(book, await say(C, T0), B.id, [B.id], 0);
    judge(book, await say(A, T0 + REFRESH_MS), B.id, [B.id], REFRESH_MS);
    assert.deepEqual(book.expire(EXPIRE_MS - 1), []);
    assert.deepEqual(book.expire(EXPIRE_MS), [C.id], 'C went silent; A refreshed a minute later');
    assert.deepEqual(book.expire(EXPIRE_MS + 1), [], 'reported once');
    assert.deepEqual(book.expire(REFRESH_MS + EXPIRE_MS), [A.id]);
    assert.deepEqual(book.here(), []);
    // The expired statement's copies stay stale; a new one brings it back.
    assert.deepEqual(judge(book, await say(A, T0 + REFRESH_MS), B.id, [B.id], 10 * EXPIRE_MS), { action: 'drop', reason: 'duplicate' });
    assert.equal(judge(book, await say(A, T0 + 5 * REFRESH_MS), B.id, [B.id], 10 * EXPIRE_MS).action, 'accept');
    assert.equal(book.isHere(A.id), true);
  });

  test('the relay\'s word that an origin left: copies of its statement stay away, a newer one brings it back', async () => {
    const book = new PresenceBook({ self: SELF });
    const p = await say(A, T0);
    judge(book, p, B.id, [B.id], 0);
    assert.equal(book.absent(A.id), true);
    assert.equal(book.absent(A.id), false, 'already away');
    assert.deepEqual(judge(book, p, C.id, [C.id], 1), { action: 'drop', reason: 'duplicate' });
    assert.equal(book.isHere(A.id), false);
    assert.equal(judge(book, await say(A, T0 + 2), C.id, [C.id], 2).action, 'accept');
    assert.equal(book.isHere(A.id), true);
  });

  test('per-origin budget: a burst, then dropped and counted, then refilled; other origins are not charged', async () => {
    const book = new PresenceBook({ self: SELF });
    let accepted = 0;
    for (let i = 0; i < PRESENCE_BURST + 5; i++) if (judge(book, await say(A, T0 + i), B.id, [B.id], 0).action === 'accept') accepted++;
    assert.equal(accepted, PRESENCE_BURST);
    assert.equal(book.counters['over-budget'], 5);
    assert.equal(judge(book, await say(C, T0), B.id, [B.id], 0).action, 'accept', 'C has its own budget');
    assert.equal(judge(book, await say(A, T0 + 100), B.id, [B.id], 5_000).action, 'accept', 'one more after 5 s');
  });

  test('forwarding: on to neighbours but the sender and the origin with one hop less; a one-hop statement goes nowhere', async () => {
    const book = new PresenceBook({ self: SELF });
    const v = judge(book, await say(A, T0, 'here', 'A', 3), B.id, [A.id, B.id, C.id], 0);
    assert.equal(v.action, 'accept');
    if (v.action !== 'accept') return;
    assert.deepEqual(v.forwardTo, [C.id]);
    assert.equal(v.message.hops, 2);
    const w = judge(book, await say(C, T0, 'here', 'C', 1), B.id, [A.id, B.id, C.id], 0);
    assert.deepEqual(w.action === 'accept' && w.forwardTo, [], 'the origin reached every member itself (full mesh)');
    assert.equal(book.counters.forwarded, 1);
  });

  test('a rename is a change; a refresh under the same name is not', async () => {
    const book = new PresenceBook({ self: SELF });
    judge(book, await say(A, T0, 'here', 'Ann'), B.id, [B.id], 0);
    const same = judge(book, await say(A, T0 + 2, 'here', 'Ann'), B.id, [B.id], 1);
    const renamed = judge(book, await say(A, T0 + 4, 'here', 'Anna'), B.id, [B.id], 2);
    assert.equal(same.action === 'accept' && same.change, 'none');
    assert.equal(renamed.action === 'accept' && renamed.change, 'renamed');
    assert.equal(book.nameOf(A.id), 'Anna');
  });

  test('bounded: forged identities cannot grow the book past its cap; those away make way, those here never do', async () => {
    const book = new PresenceBook({ self: SELF, maxOrigins: 3 });
    const keys = [1, 2, 3, 4, 5].map((n) => makeFakeKey(100 + n));
    for (const k of keys.slice(0, 3)) judge(book, await say(k, T0), B.id, [B.id], 0);
    assert.deepEqual(judge(book, await say(keys[3]!, T0), B.id, [B.id], 0), { action: 'drop', reason: 'over-limit' });
    judge(book, await say(keys[1]!, T0 + 1, 'gone'), B.id, [B.id], 0);
    assert.equal(judge(book, await say(keys[3]!, T0), B.id, [B.id], 0).action, 'accept', 'the one that left made way');
    assert.equal(book.size, 3);
    assert.deepEqual(new Set(book.here()), new Set([keys[0]!.id, keys[2]!.id, keys[3]!.id]));
    assert.ok(MAX_PRESENCE_ORIGINS >= 4 * 250, 'room for four times the room cap');
  });
});

describe('presence status: active, idle, away', () => {
  const withStatus = (key: TestKey, seq: number, status: PresenceStatus) =>
    signPresence({ origin: key.id, key: toBase64Url(key.publicKey), seq, since: T0, kind: 'here', name: 'Amber Otter', status, hops: MAX_HOPS }, ROOM, (d) => key.sign(d));

  test('the page\'s visibility alone: shown is active, hidden idle, hidden AWAY_MS away', () => {
    assert.equal(pageStatus(null, 10), 'active');
    assert.equal(pageStatus(1_000, 1_000 + AWAY_MS - 1), 'idle');
    assert.equal(pageStatus(1_000, 1_000 + AWAY_MS), 'away');
  });

  test('the status is signed after the name; a statement without one signs exactly as before', async () => {
    const key = await makeKey();
    const p = await withStatus(key, T0, 'idle');
    assert.equal((await verifyPresence(p, ROOM, verify, idOf)).ok, true);
    for (const forged of [{ ...p, status: 'active' as const }, { ...p, status: undefined }]) {
      const r = await verifyPresence(forged, ROOM, verify, idOf);
      assert.equal(!r.ok && r.code, 'bad-signature');
    }
    const old = await say(key, T0 + 2);
    assert.equal('status' in old, false);
    assert.equal(new TextDecoder().decode(presenceBytes(old, ROOM)), JSON.stringify([PRESENCE_CONTEXT, 1, ROOM, old.origin, old.key, old.seq, old.since, 'here', 'Amber Otter']));
  });

  test('parse keeps a known status, refuses an unknown one, and keeps a statement with none without one', async () => {
    const key = await makeKey();
    const p = await withStatus(key, T0, 'away');
    assert.deepEqual(parsePresence(JSON.parse(JSON.stringify(p))), { ok: true, value: p });
    for (const status of ['asleep', 1, null, '']) {
      const r = parsePresence({ ...p, status });
      assert.equal(!r.ok && r.error, 'presence: bad status');
    }
    const none = parsePresence(await say(key, T0));
    assert.equal(none.ok && 'status' in none.value, false);
  });

  test('a status change is a change the screen shows; the book says each origin\'s status while it is here', async () => {
    const book = new PresenceBook({ self: 'me' });
    const key = makeFakeKey(5);
    const first = judge(book, await withStatus(key, T0, 'active'), key.id, [], 0);
    assert.equal(first.action === 'accept' && first.change, 'arrived');
    assert.equal(book.statusOf(key.id), 'active');
    const idle = judge(book, await withStatus(key, T0 + 2, 'idle'), key.id, [], 1);
    assert.equal(idle.action === 'accept' && idle.change, 'status');
    const same = judge(book, await withStatus(key, T0 + 4, 'idle'), key.id, [], 2);
    assert.equal(same.action === 'accept' && same.change, 'none');
    book.absent(key.id);
    assert.equal(book.statusOf(key.id), null, 'not here: no status');
  });
});
