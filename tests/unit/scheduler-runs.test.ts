import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeSources } from './helpers/fake-sources.ts';
import { drainPicks } from './helpers/drain-picks.ts';
import { mulberry32 } from './helpers/random.ts';
import { Bitfield } from '../../src/core/bitfield.ts';
import { Availability } from '../../src/core/swarm/availability.ts';
import { MIN_RUNS, PieceScheduler, RUN_PIECES } from '../../src/core/swarm/scheduler.ts';

/**
 * Runs: equally rare pieces are picked a run of aligned pieces at a time and
 * in order within it, so a download stores consecutive pieces (one IndexedDB
 * record per run); between runs, and between pieces of different rarity,
 * rarest first still decides. Runs are RUN_PIECES long in a file of
 * MIN_RUNS such runs or more, shorter in smaller files.
 */
const PIECE = 256 * 1024;
const FILE = 'f'.repeat(64);
const A = 'peerAAAAAAAAAAAA';
const B = 'peerBBBBBBBBBBBB';
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function swarm(n: number, seed: number, holders: Record<string, number[]>) {
  const availability = new Availability(new FakeSources());
  const have = new Bitfield(n);
  const s = new PieceScheduler(n, PIECE, have, availability.view(FILE, n), mulberry32(seed));
  for (const [peer, pieces] of Object.entries(holders)) {
    const b = new Bitfield(n);
    for (const p of pieces) b.set(p);
    availability.setBitfield(peer, FILE, b.bytes);
  }
  const drain = (peer: string, limit?: number): number[] => drainPicks(s, peer, have, limit);
  return { s, drain, availability, have };
}

test('one holder: each run is fetched whole and in order before the next starts, runs in random order', () => {
  const N = MIN_RUNS * RUN_PIECES + 3; // a short last run
  const firstRuns = new Set<number>();
  for (let seed = 1; seed <= 10; seed++) {
    const order = swarm(N, seed, { [A]: range(0, N) }).drain(A);
    assert.deepEqual([...order].sort((a, b) => a - b), range(0, N), 'every piece once');
    let at = 0;
    while (at < N) {
      const run = Math.floor(order[at]! / RUN_PIECES);
      const want = range(run * RUN_PIECES, Math.min(N, (run + 1) * RUN_PIECES));
      assert.deepEqual(order.slice(at, at + want.length), want, `seed ${seed}: run ${run} whole and in order`);
      at += want.length;
    }
    firstRuns.add(Math.floor(order[0]! / RUN_PIECES));
  }
  assert.ok(firstRuns.size > 3, `which run goes first is random (BitTorrent's spread): ${[...firstRuns]}`);
});

test('rarest first still wins between runs and within one', () => {
  const N = MIN_RUNS * RUN_PIECES;
  const rare = RUN_PIECES * 2 + 5; // held by A alone, in the middle of run 2
  for (let seed = 1; seed <= 20; seed++) {
    const w = swarm(N, seed, { [A]: range(0, N), [B]: range(0, N).filter((p) => p !== rare) });
    const order = w.drain(A);
    assert.equal(order[0], rare, `seed ${seed}: the piece with one holder goes before every piece with two`);
    // After it, the rest goes by runs again: the next run whole and in order (the rare piece's own run less that piece).
    const next = Math.floor(order[1]! / RUN_PIECES);
    const want = range(next * RUN_PIECES, (next + 1) * RUN_PIECES).filter((p) => p !== rare);
    assert.deepEqual(order.slice(1, 1 + want.length), want, `seed ${seed}: then a run in order`);
  }
});

test('rarity that changes between fills decides the next pick: a HAVE, a peer leaving, a lost piece', () => {
  const N = MIN_RUNS * RUN_PIECES;
  for (let seed = 1; seed <= 10; seed++) {
    const w = swarm(N, seed, { [A]: range(0, N), [B]: range(0, N) });
    const first = w.drain(A, RUN_PIECES + 3); // a run and some (a fill asks for two): the picking order is settled
    const missing = range(0, N).filter((p) => !first.includes(p));
    // C says it has every piece but one: that one is now held by 2 peers, the rest by 3.
    const rareNow = missing[Math.floor(missing.length / 2)]!;
    for (const p of range(0, N)) if (p !== rareNow) w.availability.setHave('peerCCCCCCCCCCCC', FILE, p);
    assert.equal(w.drain(A, 1)[0], rareNow, `seed ${seed}: the piece made rarer by HAVEs goes next`);
    // B leaves: counts fall back to equal but for nothing; one piece C never had is rarest again.
    w.availability.removePeer(B);
    const rareAgain = missing.find((p) => p !== rareNow && !w.have.get(p));
    w.availability.setLacks('peerCCCCCCCCCCCC', FILE, rareAgain!);
    assert.equal(w.drain(A, 1)[0], rareAgain, `seed ${seed}: a refusal recorded as lacking makes the piece rarest`);
    // A piece lost from storage (its bit cleared) is picked again, though the order was sorted while it was held.
    w.have.clear(first[0]!);
    const rest = w.drain(A);
    assert.ok(rest.includes(first[0]!), `seed ${seed}: the lost piece is asked for again`);
    assert.equal(w.have.count, N, `seed ${seed}: every piece stored in the end`);
  }
});

test('two peers share one run between them and its pieces are still asked for in order', () => {
  const N = MIN_RUNS * RUN_PIECES;
  const w = swarm(N, 3, { [A]: range(0, N), [B]: range(0, N) });
  const a = w.s.fill(A, 0);
  const b = w.s.fill(B, 0);
  const run = Math.floor(a[0]! / RUN_PIECES) * RUN_PIECES;
  assert.deepEqual([...a, ...b], range(run, run + a.length + b.length), 'A takes the run’s first pieces, B the next ones');
});

test('a small file has short runs: at least MIN_RUNS of them, one piece each at the least', () => {
  const sizes: [number, number][] = [[MIN_RUNS * RUN_PIECES * 4, RUN_PIECES], [MIN_RUNS * 4, 4], [MIN_RUNS * 2 + 1, 2], [MIN_RUNS, 1], [5, 1]];
  for (const [pieces, run] of sizes) assert.equal(swarm(pieces, 1, {}).s.runPieces, run, `${pieces} pieces`);
  // With runs of one, the order is rarest first with a fresh random tie-break each time, as before runs.
  const order = swarm(MIN_RUNS, 1, { [A]: range(0, MIN_RUNS) }).drain(A);
  const inOrder = order.filter((p, i) => i > 0 && p === order[i - 1]! + 1).length;
  assert.ok(inOrder < MIN_RUNS / 2, `pieces mostly not in file order (${inOrder} follow the one before)`);
});
