import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { POLL_MS, waitFor, Wakeups, type Look } from '../../src/sw/piece-wait.ts';

/**
 * The worker's wait for a missing piece, with a fake clock: the piece stored
 * before the first look, after a hint, only seen by the poll, never; the file
 * removed meanwhile; the reader gone.
 */
function clock() {
  let now = 0;
  const timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const t = { at: now + ms, fn };
      timers.push(t);
      return t;
    },
    clearTimer: (t: unknown) => {
      const i = timers.indexOf(t as (typeof timers)[number]);
      if (i >= 0) timers.splice(i, 1);
    },
    /** Moves time on to the next timer and runs it. */
    async next(): Promise<boolean> {
      await new Promise((r) => setImmediate(r));
      timers.sort((a, b) => a.at - b.at);
      const t = timers.shift();
      if (!t) return false;
      now = t.at;
      t.fn();
      await new Promise((r) => setImmediate(r));
      return true;
    },
  };
}

function setup(looks: () => Look<string>) {
  const c = clock();
  const wakeups = new Wakeups(c.setTimer, c.clearTimer);
  let lookCount = 0;
  let cancelled = false;
  const wait = waitFor<string>({
    look: async () => {
      lookCount++;
      return looks();
    },
    nap: (ms) => wakeups.nap('f', ms),
    now: c.now,
    cancelled: () => cancelled,
  }, 10_000);
  return { c, wakeups, wait, looks: () => lookCount, cancel: () => (cancelled = true) };
}

describe('waitFor a piece', () => {
  test('already stored: answered at the first look, no nap', async () => {
    const w = setup(() => ({ state: 'ready', value: 'piece' }));
    assert.deepEqual(await w.wait, { ok: true, value: 'piece' });
    assert.equal(w.looks(), 1);
    assert.equal(w.wakeups.sleeping, 0);
  });

  test('stored later: a wake from the page ends the nap at once', async () => {
    let stored = false;
    const w = setup(() => (stored ? { state: 'ready', value: 'piece' } : { state: 'missing' }));
    await new Promise((r) => setImmediate(r));
    assert.equal(w.wakeups.sleeping, 1);
    stored = true;
    w.wakeups.wake('f');
    assert.deepEqual(await w.wait, { ok: true, value: 'piece' });
    assert.equal(w.c.now(), 0, 'no time passed: the hint, not the poll, found it');
    assert.equal(w.wakeups.sleeping, 0);
  });

  test('a hint lost: the poll finds the piece anyway', async () => {
    let stored = false;
    const w = setup(() => (stored ? { state: 'ready', value: 'piece' } : { state: 'missing' }));
    await w.c.next();
    await w.c.next();
    stored = true;
    await w.c.next();
    assert.deepEqual(await w.wait, { ok: true, value: 'piece' });
    assert.equal(w.c.now(), 3 * POLL_MS);
  });

  test('never stored: ends at the timeout with a reason, leaving no timer behind', async () => {
    const w = setup(() => ({ state: 'missing' }));
    while (await w.c.next());
    const result = await w.wait;
    assert.equal(result.ok, false);
    assert.match((result as { why: string }).why, /within 10 s/);
    assert.equal(w.c.now(), 10_000);
    assert.equal(w.wakeups.sleeping, 0);
  });

  test('the file removed meanwhile: ends at the next look', async () => {
    let removed = false;
    const w = setup(() => (removed ? { state: 'gone', why: 'removed' } : { state: 'missing' }));
    await w.c.next();
    removed = true;
    w.wakeups.wake('f');
    assert.deepEqual(await w.wait, { ok: false, why: 'removed' });
  });

  test('the reader went away (a seek): stops without another look', async () => {
    const w = setup(() => ({ state: 'missing' }));
    await new Promise((r) => setImmediate(r));
    const before = w.looks();
    w.cancel();
    await w.c.next();
    assert.deepEqual(await w.wait, { ok: false, why: 'cancelled' });
    assert.equal(w.looks(), before);
  });

  test('a wake reaches every reader of that file and no other', async () => {
    const c = clock();
    const wakeups = new Wakeups(c.setTimer, c.clearTimer);
    const woken: string[] = [];
    void wakeups.nap('a', 5_000).then(() => woken.push('a1'));
    void wakeups.nap('a', 5_000).then(() => woken.push('a2'));
    void wakeups.nap('b', 5_000).then(() => woken.push('b'));
    wakeups.wake('a');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(woken, ['a1', 'a2']);
    assert.equal(wakeups.sleeping, 1);
  });
});
