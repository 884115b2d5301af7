import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeFetchRules, encodeFetchRules } from '../../src/core/fetch-rules-codec.ts';
import {
  describeRule, FetchRules, MAX_LOG, MAX_RULES, MAX_SEEN, MiB, matches, type Candidate, type FetchRule,
} from '../../src/core/fetch-rules.ts';

/** The pure rules: what they match, what counts as new, the storage budget, undo, and what survives a reload. */
const SELF = 'self-peer-id-000';
const ALICE = 'alice-peer-id-00';
const CAROL = 'carol-peer-id-00';
const idOf = (n: number) => n.toString(16).padStart(64, '0');
const file = (n: number, name: string, opts: Partial<Omit<Candidate, 'meta'>> & { size?: number; mime?: string } = {}): Candidate => ({
  meta: { id: idOf(n), name, size: opts.size ?? 1000, mime: opts.mime ?? '' },
  holders: opts.holders ?? [ALICE],
  held: opts.held ?? false,
  ...(opts.was === undefined ? {} : { was: opts.was }),
});
const rule = (id: string, r: Partial<FetchRule> = {}): FetchRule => ({ id, createdAt: 1, ...r });
const plenty = { free: null, slots: 100 };
const started = (d: { start: { fileId: string }[] }) => d.start.map((s) => s.fileId);

describe('matching', () => {
  test('by sharer, by kind, by both; the size limit is not part of matching', () => {
    const photo = file(1, 'a.jpg', { holders: [ALICE, CAROL] });
    const doc = file(2, 'b.pdf', { holders: [CAROL] });
    assert.equal(matches(rule('r1', { from: ALICE }), photo), true);
    assert.equal(matches(rule('r1', { from: ALICE }), doc), false);
    assert.equal(matches(rule('r1', { category: 'image' }), photo), true);
    assert.equal(matches(rule('r1', { category: 'image' }), doc), false);
    assert.equal(matches(rule('r1', { from: CAROL, category: 'document' }), doc), true);
    assert.equal(matches(rule('r1', { from: ALICE, category: 'document' }), doc), false);
    assert.equal(matches(rule('r1', { maxBytes: 1 }), photo), true);
  });

  test('a rule in words', () => {
    const names = (id: string) => (id === ALICE ? 'Alice' : null);
    assert.equal(describeRule(rule('r', { from: ALICE, maxBytes: 100 * MiB }), names), 'Everything new from Alice up to 100 MiB');
    assert.equal(describeRule(rule('r', { category: 'image' }), names), 'Every new image');
    assert.equal(describeRule(rule('r', { from: CAROL, fromName: 'Carol', category: 'video', maxBytes: 1.5 * MiB }), names), 'Every new video from Carol up to 1.5 MiB');
  });
});

describe('what a rule fetches', () => {
  test('files already here when the rule is made are old; new matching ones start, others are ignored', () => {
    const rules = new FetchRules(SELF);
    const old = file(1, 'old.jpg');
    assert.ok(rules.add(rule('r1', { category: 'image' }), [old], 'old'));
    const fresh = file(2, 'new.jpg');
    const text = file(3, 'notes.txt');
    const d = rules.decide([old, fresh, text], plenty, 10);
    assert.deepEqual(started(d), [fresh.meta.id]);
    assert.deepEqual(d.skip, []);
    assert.deepEqual(started(rules.decide([old, fresh, text], plenty, 11)), [], 'each file is decided once');
    assert.equal(rules.fetchedBy(fresh.meta.id)?.id, 'r1');
    assert.equal(rules.fetchedBy(old.meta.id), undefined);
  });

  test('asked to, a rule fetches what is already here too', () => {
    const rules = new FetchRules(SELF);
    const old = file(1, 'old.jpg');
    rules.add(rule('r1', { category: 'image' }), [old], 'fetch');
    assert.deepEqual(started(rules.decide([old], plenty, 10)), [old.meta.id]);
  });

  test('never our own files, nor files already here or being fetched', () => {
    const rules = new FetchRules(SELF);
    rules.add(rule('r1'), [], 'old');
    const ours = file(1, 'mine.bin', { holders: [SELF] });
    const held = file(2, 'got.bin', { held: true });
    const d = rules.decide([ours, held], plenty, 10);
    assert.deepEqual(started(d), []);
    assert.deepEqual(d.skip, []);
    assert.equal(d.changed, true, 'seen, so a later removal does not bring them back');
    assert.deepEqual(started(rules.decide([{ ...held, held: false }], plenty, 11)), [], 'removed by the person later: not fetched');
  });

  test('two rules matching one file fetch it once, for the first rule that accepts it', () => {
    const rules = new FetchRules(SELF);
    rules.add(rule('small', { from: ALICE, maxBytes: 10 * MiB }), [], 'old');
    rules.add(rule('videos', { category: 'video' }), [], 'old');
    const clip = file(1, 'clip.mp4', { size: 5 * MiB });
    const film = file(2, 'film.mp4', { size: 50 * MiB });
    const d = rules.decide([clip, film], plenty, 10);
    assert.deepEqual(d.start, [{ fileId: clip.meta.id, ruleId: 'small' }, { fileId: film.meta.id, ruleId: 'videos' }]);
    assert.equal(rules.get('small')!.log.length, 1);
    assert.equal(rules.get('videos')!.log.length, 1);
  });

  test('over the size limit: skipped, with the reason', () => {
    const rules = new FetchRules(SELF);
    rules.add(rule('r1', { from: ALICE, maxBytes: 100 * MiB }), [], 'old');
    const big = file(1, 'big.iso', { size: 101 * MiB });
    const d = rules.decide([big], plenty, 10);
    assert.deepEqual(d.start, []);
    assert.deepEqual(d.skip, [{ fileId: big.meta.id, ruleId: 'r1', reason: 'over 100 MiB' }]);
    assert.equal(rules.get('r1')!.log[0]!.outcome, 'skipped');
  });

  test('within the storage budget: what does not fit is skipped, never started', () => {
    const rules = new FetchRules(SELF);
    rules.add(rule('r1'), [], 'old');
    const a = file(1, 'a.bin', { size: 6 * MiB });
    const b = file(2, 'b.bin', { size: 6 * MiB });
    const c = file(3, 'c.bin', { size: 3 * MiB });
    const d = rules.decide([a, b, c], { free: 10 * MiB, slots: 10 }, 10);
    assert.deepEqual(started(d), [a.meta.id, c.meta.id], 'b would not fit after a; c still does');
    assert.equal(d.skip.length, 1);
    assert.equal(d.skip[0]!.fileId, b.meta.id);
    assert.match(d.skip[0]!.reason, /^not enough storage: it needs 6 MiB, about 4 MiB is free$/);
  });

  test('a few at a time: the rest wait for a slot, undecided', () => {
    const rules = new FetchRules(SELF);
    rules.add(rule('r1'), [], 'old');
    const files = [1, 2, 3].map((n) => file(n, `${n}.bin`));
    const first = rules.decide(files, { free: null, slots: 2 }, 10);
    assert.equal(first.start.length, 2);
    assert.equal(first.waiting, 1);
    const second = rules.decide(files, { free: null, slots: 2 }, 11);
    assert.deepEqual(started(second), [files[2]!.meta.id]);
    assert.equal(second.waiting, 0);
  });

  test('a finished draft keeps what the rule did with it: no second download, one entry', () => {
    const rules = new FetchRules(SELF);
    rules.add(rule('r1'), [], 'old');
    const draft = file(1, 'big.bin');
    assert.deepEqual(started(rules.decide([draft], plenty, 10)), [draft.meta.id]);
    const final = file(2, 'big.bin', { was: draft.meta.id, held: false });
    const d = rules.decide([final], plenty, 11);
    assert.deepEqual(started(d), []);
    assert.equal(d.changed, true);
    assert.deepEqual(rules.get('r1')!.log.map((e) => e.fileId), [final.meta.id]);
    assert.equal(rules.fetchedBy(final.meta.id)?.id, 'r1');
  });

  test('the sharer leaving mid-way and coming back starts nothing twice', () => {
    const rules = new FetchRules(SELF);
    rules.add(rule('r1', { from: ALICE }), [], 'old');
    const f = file(1, 'a.bin');
    assert.equal(rules.decide([f], plenty, 10).start.length, 1);
    assert.equal(rules.decide([], plenty, 11).start.length, 0, 'gone with its sharer');
    assert.equal(rules.decide([f], plenty, 12).start.length, 0, 'back: its download carries on by itself');
  });
});

describe('undo, remove, reload', () => {
  test('undo gives back what was fetched and not kept; those are not fetched again', () => {
    const rules = new FetchRules(SELF);
    rules.add(rule('r1'), [], 'old');
    const [a, b] = [file(1, 'a.bin'), file(2, 'b.bin')];
    rules.decide([a, b], plenty, 10);
    assert.equal(rules.keep(b.meta.id), true);
    assert.equal(rules.keep(idOf(99)), false, 'not fetched by a rule');
    assert.deepEqual(rules.undo('r1').map((e) => e.fileId), [a.meta.id]);
    assert.equal(rules.fetchedBy(a.meta.id), undefined);
    assert.equal(rules.fetchedBy(b.meta.id)?.id, 'r1', 'kept, still labelled');
    assert.deepEqual(started(rules.decide([a, b], plenty, 11)), []);
    assert.deepEqual(rules.undo('r1'), [], 'nothing left to undo');
  });

  test('a removed rule decides nothing more, and says what it had started', () => {
    const rules = new FetchRules(SELF);
    rules.add(rule('r1'), [], 'old');
    const a = file(1, 'a.bin');
    rules.decide([a], plenty, 10);
    assert.deepEqual(rules.remove('r1').map((e) => e.fileId), [a.meta.id]);
    assert.equal(rules.fetchedBy(a.meta.id), undefined);
    assert.deepEqual(started(rules.decide([file(2, 'b.bin')], plenty, 11)), []);
  });

  test('after a reload: rules and what they did come back; nothing is fetched again, undone files included', () => {
    const rules = new FetchRules(SELF);
    rules.add(rule('aaaa0001', { from: ALICE, fromName: 'Alice', maxBytes: 5 * MiB }), [file(1, 'old.bin')], 'old');
    rules.add(rule('aaaa0002', { category: 'image' }), [], 'old');
    const room = [file(1, 'old.bin'), file(2, 'a.bin'), file(3, 'b.jpg', { holders: [CAROL] }), file(4, 'big.bin', { size: 9 * MiB })];
    rules.decide(room, plenty, 10);
    rules.undo('aaaa0002');
    const stored = encodeFetchRules(rules.all());
    const back = decodeFetchRules(stored);
    assert.ok(back.ok);
    const reloaded = new FetchRules(SELF, back.value);
    assert.deepEqual(JSON.parse(encodeFetchRules(reloaded.all())), JSON.parse(stored));
    assert.deepEqual(reloaded.get('aaaa0002')!.log.map((e) => e.outcome), ['undone']);
    assert.deepEqual(started(reloaded.decide(room, plenty, 20)), []);
    assert.deepEqual(started(reloaded.decide([...room, file(5, 'c.bin')], plenty, 21)), [idOf(5)], 'new files still count');
  });

  test('at most MAX_RULES rules; seen and log stay bounded', () => {
    const rules = new FetchRules(SELF);
    for (let i = 0; i < MAX_RULES; i++) assert.ok(rules.add(rule(`r${i}`.padEnd(8, '0'), { from: `${i}`.padEnd(16, 'x') }), [], 'old'));
    assert.equal(rules.add(rule('overflow'), [], 'old'), false);
    const one = new FetchRules(SELF);
    one.add(rule('r1'), [], 'old');
    const many = Array.from({ length: MAX_SEEN + 10 }, (_, i) => file(i + 1, `${i}.bin`));
    one.decide(many, { free: null, slots: Infinity }, 10);
    assert.equal(one.get('r1')!.seen.size, MAX_SEEN);
    assert.equal(one.get('r1')!.log.length, MAX_LOG);
  });

  test('over MAX_SEEN, the ids forgotten first are those the room no longer offers, so nothing still offered looks new', () => {
    const rules = new FetchRules(SELF);
    const offered = Array.from({ length: MAX_SEEN - 5 }, (_, i) => file(i + 1, `${i}.bin`));
    rules.add(rule('r1'), offered, 'old'); // the room's files when the rule is made: old
    const later = Array.from({ length: 10 }, (_, i) => file(MAX_SEEN + i, `later-${i}.bin`, { held: true }));
    rules.decide([...offered, ...later.slice(0, 5)], plenty, 10);
    assert.equal(rules.get('r1')!.seen.size, MAX_SEEN);
    rules.decide([...offered, ...later.slice(5)], plenty, 11); // the first five are no longer offered
    const seen = rules.get('r1')!.seen;
    assert.equal(seen.size, MAX_SEEN);
    assert.ok(later.slice(0, 5).every((f) => !seen.has(f.meta.id)), 'the ones gone from the room were forgotten');
    assert.ok(offered.every((f) => seen.has(f.meta.id)), 'the older ones still offered were not');
    assert.deepEqual(started(rules.decide(offered, plenty, 12)), []);
  });
});

describe('stored rules, decoded', () => {
  test('damaged or foreign values are error values, never exceptions', () => {
    const bad = [
      'not json', '[]', '{"v":2,"rules":[]}', '{"v":1}', '{"v":1,"rules":[1]}',
      '{"v":1,"rules":[{"rule":{"id":"zz","createdAt":1},"seen":[],"log":[]}]}',
      '{"v":1,"rules":[{"rule":{"id":"0011aabb","createdAt":1,"from":"<script>"},"seen":[],"log":[]}]}',
      '{"v":1,"rules":[{"rule":{"id":"0011aabb","createdAt":1,"category":"weapons"},"seen":[],"log":[]}]}',
      '{"v":1,"rules":[{"rule":{"id":"0011aabb","createdAt":1,"maxBytes":-1},"seen":[],"log":[]}]}',
      '{"v":1,"rules":[{"rule":{"id":"0011aabb","createdAt":1},"seen":["nope"],"log":[]}]}',
      `{"v":1,"rules":[{"rule":{"id":"0011aabb","createdAt":1},"seen":[],"log":[{"fileId":"${idOf(1)}","name":"x","size":1,"outcome":"stolen","at":1}]}]}`,
      JSON.stringify({ v: 1, rules: Array.from({ length: MAX_RULES + 1 }, (_, i) => ({ rule: { id: `${i}`.padStart(8, '0'), createdAt: 1 }, seen: [], log: [] })) }),
    ];
    for (const raw of bad) {
      const r = decodeFetchRules(raw);
      assert.equal(r.ok, false, raw.slice(0, 80));
    }
    assert.deepEqual(decodeFetchRules(undefined), { ok: true, value: [] });
  });
});
