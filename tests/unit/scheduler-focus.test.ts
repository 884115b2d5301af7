import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeSources } from './helpers/fake-sources.ts';
import { drainPicks } from './helpers/drain-picks.ts';
import { mulberry32 } from './helpers/random.ts';
import { Bitfield } from '../../src/core/bitfield.ts';
import { Availability } from '../../src/core/swarm/availability.ts';
import { ENDGAME_AFTER_MS, FOCUS_WINDOW_BYTES, MIN_PIPELINE, PieceScheduler } from '../../src/core/swarm/scheduler.ts';

/**
 * Playhead-first picking: while a player reads a file, the pieces just ahead
 * of where it reads go first and in order; everything else stays rarest first.
 */
const PIECE = 256 * 1024;
const WINDOW = FOCUS_WINDOW_BYTES / PIECE;
const N = 64;
const FILE = 'f'.repeat(64);
const A = 'peerAAAAAAAAAAAA';
const B = 'peerBBBBBBBBBBBB';
const C = 'peerCCCCCCCCCCCC';
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * A scheduler as download.ts wires it. A holds the whole file; B and C hold all
 * but pieces 0-9, so those ten are the rarest (one holder) and plain
 * rarest-first asks A for them before anything else.
 */
function swarm(seed = 1, have: number[] = []) {
  const availability = new Availability(new FakeSources());
  const stored = new Bitfield(N);
  for (const p of have) stored.set(p);
  const s = new PieceScheduler(N, PIECE, stored, availability.view(FILE, N), mulberry32(seed));
  const holding = (pieces: number[]) => {
    const b = new Bitfield(N);
    for (const p of pieces) b.set(p);
    return b.bytes;
  };
  availability.setBitfield(A, FILE, Bitfield.full(N).bytes);
  availability.setBitfield(B, FILE, holding(range(10, N)));
  availability.setBitfield(C, FILE, holding(range(10, N)));
  /** Everything A is asked for, in order, as its pipeline drains piece by piece. */
  const drainA = (count: number): number[] => drainPicks(s, A, stored, count);
  return { s, stored, drainA };
}

describe('PieceScheduler focus (playhead first)', () => {
  test('the window ahead of the playhead goes first, in order, before rarer pieces', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const w = swarm(seed);
      w.s.setFocus(20 * PIECE + 1234); // inside piece 20
      const order = w.drainA(WINDOW + 10);
      assert.deepEqual(order.slice(0, WINDOW), range(20, 20 + WINDOW), `seed ${seed}: the window in order`);
      assert.deepEqual([...order.slice(WINDOW)].sort((x, y) => x - y), range(0, 10), `seed ${seed}: then rarest first`);
    }
  });

  test('pieces already held are skipped: the window is the missing pieces ahead', () => {
    const w = swarm(1, [20, 21, 23]);
    w.s.setFocus(20 * PIECE);
    assert.deepEqual(w.s.fill(A, 0), [22, 24]);
  });

  test('a seek moves the window; requests already in flight stay', () => {
    const w = swarm();
    w.s.setFocus(5 * PIECE);
    assert.deepEqual(w.s.fill(A, 0), [5, 6]);
    w.s.setFocus(40 * PIECE);
    for (const p of [5, 6]) {
      w.s.completed(A, p);
      w.stored.set(p);
      w.s.settled(p);
    }
    assert.deepEqual(w.s.fill(A, 0), [40, 41], 'the new window, from the seek point');
    w.s.setFocus(10 * PIECE);
    assert.deepEqual([...w.s.outstanding(A)], [40, 41], 'a later seek does not withdraw what is on its way');
  });

  test('with the focus cleared it is rarest first again', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const w = swarm(seed);
      w.s.setFocus(30 * PIECE);
      assert.deepEqual(w.drainA(4), [30, 31, 32, 33]);
      w.s.setFocus(null);
      assert.equal(w.s.focus, null);
      const next = w.drainA(10);
      assert.deepEqual([...next].sort((x, y) => x - y), range(0, 10), `seed ${seed}: ${next} are not the ten rarest`);
    }
  });

  test('a peer that lacks the window is still asked for what it has, rarest first', () => {
    const w = swarm();
    w.s.setFocus(2 * PIECE); // pieces 2.. are held by A only up to 9
    const fromB = w.s.fill(B, 0);
    assert.equal(fromB.length, MIN_PIPELINE);
    assert.ok(fromB.every((p) => p >= 10), `${fromB}: B holds none of 0-9`);
    assert.deepEqual(w.s.fill(A, 0), [2, 3], 'A, which has the window, serves it');
  });

  test('the focus is clamped to the file, and the last piece ends the window', () => {
    const w = swarm();
    w.s.setFocus(10 * N * PIECE);
    assert.equal(w.s.focus, N - 1);
    assert.deepEqual(w.s.fill(A, 0)[0], N - 1);
    w.s.setFocus(-5);
    assert.equal(w.s.focus, 0);
    w.s.setFocus(Number.NaN);
    assert.equal(w.s.focus, null, 'a broken offset is no focus, never a crash');
  });

  test('in endgame the window piece is the one duplicated first', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const w = swarm(seed, range(0, N).filter((p) => p !== 12 && p !== 50));
      w.s.setFocus(50 * PIECE);
      assert.deepEqual(w.s.fill(A, 0).sort((x, y) => x - y), [12, 50], 'everything missing is requested from A');
      // B holds both (equally rare): after the endgame delay it duplicates the playhead's piece first.
      assert.equal(w.s.fill(B, ENDGAME_AFTER_MS)[0], 50, `seed ${seed}`);
    }
  });
});
