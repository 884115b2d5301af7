import assert from 'node:assert/strict';
import { test } from 'node:test';
import { throttledListener } from '../../src/ui/throttle.ts';

/** An engine's subscribe, a fake clock and a fake scheduler: time moves only when the test says. */
function harness(minGapMs = 100, changesFromListener = 0) {
  let reenter = changesFromListener;
  let now = 0;
  const listeners = new Set<() => void>();
  const change = () => listeners.forEach((fn) => fn());
  const pending: { at: number; run: () => void; cancelled: boolean }[] = [];
  const runs: number[] = [];
  const delays: number[] = [];
  const unsubscribe = throttledListener(
    {
      subscribe: (fn) => (listeners.add(fn), () => listeners.delete(fn)),
      schedule: (run, delayMs) => {
        delays.push(delayMs);
        const p = { at: now + delayMs, run, cancelled: false };
        pending.push(p);
        return () => (p.cancelled = true);
      },
      now: () => now,
      minGapMs,
    },
    () => {
      runs.push(now);
      if (reenter-- > 0) change();
    },
  );
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      const next = pending.filter((p) => !p.cancelled && p.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      pending.splice(pending.indexOf(next), 1);
      now = next.at;
      next.run();
    }
    now = until;
  };
  return { change, advance, runs, delays, unsubscribe, listeners, live: () => pending.filter((p) => !p.cancelled).length };
}

test('a burst of changes is handled once, at once after a quiet spell', () => {
  const h = harness();
  for (let i = 0; i < 500; i++) h.change();
  h.advance(0);
  assert.deepEqual(h.runs, [0]);
  assert.deepEqual(h.delays, [0]);
});

test('changes right after a run wait out the gap, and the run sees them all', () => {
  const h = harness(100);
  h.change();
  h.advance(0);
  h.advance(30);
  h.change();
  h.change();
  assert.deepEqual(h.delays, [0, 70]);
  h.advance(69);
  assert.deepEqual(h.runs, [0]);
  h.advance(1);
  assert.deepEqual(h.runs, [0, 100]);
});

test('a steady stream of changes runs once per gap, never more, never dropped', () => {
  const h = harness(100);
  for (let t = 0; t < 1000; t += 5) {
    h.change();
    h.advance(5);
  }
  assert.deepEqual(h.runs, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  h.advance(50);
  h.change(); // the last change still gets its run, a gap after the one before
  h.advance(100);
  assert.deepEqual(h.runs.slice(-2), [1000, 1100]);
});

test('a change made while the listener runs is handled in the next slot, not lost', () => {
  const h = harness(100, 1);
  h.change();
  h.advance(0);
  assert.deepEqual(h.runs, [0]);
  h.advance(100);
  assert.deepEqual(h.runs, [0, 100]);
  h.advance(1000);
  assert.deepEqual(h.runs, [0, 100]);
});

test('unsubscribing drops a pending run and hears no more changes', () => {
  const h = harness(100);
  h.change();
  h.unsubscribe();
  h.advance(1000);
  assert.deepEqual(h.runs, []);
  assert.equal(h.live(), 0);
  assert.equal(h.listeners.size, 0);
});
