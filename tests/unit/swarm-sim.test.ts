import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { MAX_STRIKES } from '../../src/app/peer-discipline.ts';
import { STALL_MS } from '../../src/core/swarm/scheduler.ts';
import { runSwarm, summary, type PeerResult, type PeerSpec, type SimOptions, type SimResult } from './helpers/swarm-sim.ts';

/**
 * Swarm behaviour of real engines (createEngine) over the sim harness's
 * relay and links in virtual time: each peer's upload capacity is the
 * engine's throttle on the fake clock; stalling and corrupting peers are
 * link faults. Every run is deterministic; SWARM_SEED=n replays another file
 * and other random tie-breaks. Times asserted are virtual.
 */
const SEED = Number(process.env.SWARM_SEED ?? 1);
const KB = 1000;
const MB = 1000 * KB;
const N = 32;
const PIECE = 256 * 1024;
const FILE_BYTES = N * PIECE;
const TICK_MS = 1000; // the engine's
const MIXED = [200 * KB, 500 * KB, MB, 1.5 * MB, 2 * MB];

const seeder = (id: string, upBps: number, extra: Partial<PeerSpec> = {}): PeerSpec => ({ id, upBps, holds: 'all', ...extra });
const downloaders = (speeds: number[]): PeerSpec[] => speeds.map((upBps, i) => ({ id: `d${i + 1}`, upBps }));

async function run(t: TestContext, peers: PeerSpec[], opts: Partial<SimOptions> = {}): Promise<SimResult> {
  const res = await runSwarm({ seed: SEED, pieceCount: N, ...opts, peers });
  for (const line of summary(res).split('\n')) t.diagnostic(line);
  return res;
}

const downloadersOf = (res: SimResult): PeerResult[] => res.peers.filter((p) => p.downloader);
const peer = (res: SimResult, id: string): PeerResult => res.peers.find((p) => p.id === id)!;
const finishTime = (res: SimResult): number => Math.max(...downloadersOf(res).map((p) => p.finishedAtMs ?? Infinity));
const logEntry = (res: SimResult, id: string, what: string) => res.log.find((e) => e.peer === id && e.what === what)!;
const bans = (p: PeerResult) => p.notices.filter((n) => n.startsWith('Disconnected'));

/** The user-visible truth: every downloader saved exactly the shared bytes, nothing else was stored, nothing threw. */
function assertEveryoneHasTheFile(res: SimResult, pieceCount = N): void {
  assert.deepEqual(res.errors, [], 'no handler threw and no promise was rejected unhandled');
  assert.equal(res.finished, true, 'the run ended because everyone finished, not at the time limit');
  for (const p of downloadersOf(res)) {
    assert.equal(p.status, 'complete', `${p.id}: the engine reports the download complete`);
    assert.equal(p.exact, true, `${p.id}: every stored piece equals the original's bytes`);
    assert.equal(p.unverifiedStored, 0, `${p.id}: stored only pieces equal to the original`);
    assert.equal(p.piecesReceived - p.duplicatePieces - p.badPieces, pieceCount, `${p.id}: each piece was kept once`);
  }
}

/** Honest peers are never punished for load: nobody bans anybody. */
function assertNoBans(res: SimResult): void {
  for (const p of res.peers) {
    assert.deepEqual(p.banned, [], `${p.id} banned nobody`);
    assert.deepEqual(bans(p), [], `${p.id} disconnected nobody`);
  }
}

describe('swarm simulation (real engines)', () => {
  test('1 seeder + 5 downloaders of mixed speeds: exact files, little waste, downloaders trade', async (t) => {
    const res = await run(t, [seeder('seed', MB), ...downloaders(MIXED)]);
    assertEveryoneHasTheFile(res);
    assertNoBans(res);
    for (const p of downloadersOf(res)) {
      assert.ok(p.duplicatePieces <= 0.1 * N, `${p.id} received ${p.duplicatePieces} pieces twice`);
    }
    const traded = downloadersOf(res).reduce((sum, p) => sum + p.uploadedBytes, 0);
    assert.ok(traded > FILE_BYTES, `downloaders uploaded ${traded} bytes to each other: more than a whole copy`);
    // Alone, the seeder would need 5 copies / its bandwidth; trading is what beats that.
    const seederAloneMs = (5 * FILE_BYTES * 1000) / MB;
    assert.ok(finishTime(res) < seederAloneMs / 2, `finished at ${finishTime(res)} ms; the seeder alone needs ${seederAloneMs} ms`);
  });

  test('three holders serve the file faster than one', async (t) => {
    const slowDownloaders = downloaders([100 * KB, 100 * KB]);
    const one = await run(t, [seeder('s1', MB), ...slowDownloaders]);
    const three = await run(t, [seeder('s1', MB), seeder('s2', MB), seeder('s3', MB), ...slowDownloaders]);
    assertEveryoneHasTheFile(one);
    assertEveryoneHasTheFile(three);
    const ratio = finishTime(three) / finishTime(one);
    t.diagnostic(`finish with three holders / one holder = ${ratio.toFixed(2)}`);
    assert.ok(ratio < 0.6, `three holders finished at ${finishTime(three)} ms, one at ${finishTime(one)} ms`);
    for (const id of ['s1', 's2', 's3']) assert.ok(peer(three, id).uploadedBytes > FILE_BYTES / 4, `${id} served its share`);
  });

  test('the seeder leaves once the others hold every piece: they finish from each other', async (t) => {
    const res = await run(t, [seeder('seed', MB, { leaves: { whenOthersHoldAll: true } }), ...downloaders(MIXED)]);
    const left = logEntry(res, 'seed', 'left');
    assert.equal(left.coverage, N, 'every piece was out in the swarm when the seeder left');
    assert.ok(left.finishedDownloaders < 5, `${left.finishedDownloaders} downloaders had finished when the seeder left`);
    assertEveryoneHasTheFile(res);
    assertNoBans(res);
    assert.ok(downloadersOf(res).some((p) => p.finishedAtMs! > left.atMs), 'someone finished after the seeder left');
  });

  test('the seeder leaves before the file is out; downloaders wait and finish once a second seeder joins', async (t) => {
    const joinsAtMs = 30_000;
    const res = await run(t, [seeder('seed', MB, { leaves: { atProgress: 0.3 } }), seeder('seed2', MB, { joinsAtMs }), ...downloaders(MIXED)]);
    const left = logEntry(res, 'seed', 'left');
    assert.ok(left.coverage < N, `only ${left.coverage} of ${N} pieces remained: nobody could finish without a new source`);
    assert.ok(left.atMs < joinsAtMs);
    assertEveryoneHasTheFile(res);
    assertNoBans(res);
    for (const p of downloadersOf(res)) assert.ok(p.finishedAtMs! > joinsAtMs, `${p.id} finished after seed2 joined`);
  });

  test('a corrupting peer is banned after 3 bad pieces and the file still arrives exactly', async (t) => {
    const res = await run(t, [seeder('seed', MB), seeder('evil', MB, { corrupt: true }), ...downloaders(MIXED.slice(0, 4))]);
    assertEveryoneHasTheFile(res);
    for (const p of downloadersOf(res)) {
      assert.equal(p.badPieces, MAX_STRIKES, `${p.id} got exactly ${MAX_STRIKES} bad pieces before the ban, none from honest peers`);
      assert.deepEqual(p.banned, ['evil'], `${p.id} banned evil and only evil`);
      assert.equal(bans(p).length, 1, `${p.id} told its person once: ${bans(p).join(' | ')}`);
    }
    assert.deepEqual(peer(res, 'seed').banned, [], 'the honest seeder banned nobody');
  });

  test('a peer that stalls mid-transfer but stays connected is routed around, not banned', async (t) => {
    const speeds = [100 * KB, 150 * KB, 200 * KB, 250 * KB];
    const baseline = await run(t, [seeder('seed', 500 * KB), ...downloaders(speeds)]);
    const res = await run(t, [seeder('seed', 500 * KB), seeder('stall', 500 * KB, { stalls: { atProgress: 0.1 } }), ...downloaders(speeds)]);
    assertEveryoneHasTheFile(baseline);
    assertEveryoneHasTheFile(res);
    assertNoBans(res); // silence is not proof
    const stalled = logEntry(res, 'stall', 'stalled');
    assert.equal(stalled.finishedDownloaders, 0, 'it stalled while everyone was still downloading');
    // The staller's stuck requests are released after STALL_MS and fetched elsewhere; it may not cost more than that.
    const bound = finishTime(baseline) + 2 * STALL_MS + TICK_MS;
    assert.ok(finishTime(res) < bound, `finished at ${finishTime(res)} ms; bound ${bound} ms`);
  });

  // Regression: a slow, honest seeder shared by eight downloaders goes more than STALL_MS between
  // frames to any one of them. Taken for stalled, it was released, penalised and re-asked for ever.
  // Keep-alives tell "slow" from "gone".
  test('a slow seeder shared by many downloaders is not mistaken for a stalled one', async (t) => {
    const pieceCount = 20;
    const res = await run(t, [seeder('seed', 40 * KB), ...downloaders(Array(8).fill(100 * KB))], { pieceCount, maxTimeMs: 3_600_000 });
    assertEveryoneHasTheFile(res, pieceCount);
    assertNoBans(res);
    const fileBytes = pieceCount * PIECE;
    // 8 downloaders need 8 copies; a healthy swarm has the seeder send a fraction and the rest trade.
    assert.ok(peer(res, 'seed').uploadedBytes < 4 * fileBytes, `the seeder sent ${peer(res, 'seed').uploadedBytes} bytes for a ${fileBytes}-byte file`);
    assert.ok(finishTime(res) < 400_000, `finished at ${finishTime(res)} ms`);
    for (const p of downloadersOf(res)) assert.ok(p.duplicatePieces <= 2, `${p.id} received ${p.duplicatePieces} pieces twice`);
  });

  test('the same seed gives the same run', async () => {
    const opts = { seed: SEED, pieceCount: 8, peers: [seeder('seed', MB), ...downloaders(MIXED.slice(0, 3))] };
    assert.deepEqual(await runSwarm(opts), await runSwarm(opts));
  });

  test('a run that cannot finish ends at the time limit with finished: false', async (t) => {
    const res = await run(t, [seeder('seed', MB, { stalls: { atMs: 500 } }), ...downloaders([MB])], { maxTimeMs: 60_000 });
    assert.deepEqual(res.errors, []);
    assert.equal(res.finished, false);
    assert.equal(res.timeMs, 60_000);
    assert.equal(peer(res, 'd1').finishedAtMs, null);
    assert.equal(peer(res, 'd1').exact, false);
  });
});
