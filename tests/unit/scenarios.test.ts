import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runScenario, type RunResult } from './helpers/sim/runner.ts';
import { formatScenario, generateScenario, type Scenario } from './helpers/sim/scenario.ts';
import { shrinkScenario } from './helpers/sim/shrink.ts';

/**
 * Seeded random scenarios against the real engines over in-memory links, an
 * in-memory relay and a virtual clock. SCENARIOS=n runs n seeds (default 500);
 * SCENARIO_SEED=s replays one seed, prints its op log and shrinks a failure;
 * SHRINK=1 also shrinks the first failure of each invariant in a batch.
 */
const COUNT = Number(process.env.SCENARIOS ?? 500);
const ONLY = process.env.SCENARIO_SEED === undefined ? undefined : Number(process.env.SCENARIO_SEED);
const SHRINK = process.env.SHRINK === '1' || ONLY !== undefined;
const FIRST_SEED = Number(process.env.SCENARIO_FIRST_SEED ?? 1);

const failedInvariants = (r: RunResult) => new Set(r.violations.map((v) => v.invariant));

function describeFailure(s: Scenario, r: RunResult): string {
  return [formatScenario(s), '  what happened:', ...r.log.map((l) => `    ${l}`), '  violations:', ...r.violations.map((v) => `    ${v.message}`)].join('\n');
}

const smoke: Scenario = {
  seed: 7, peerCount: 2, contentSizes: [300_000],
  ops: [
    { kind: 'join', peer: 0, gapMs: 0 },
    { kind: 'join', peer: 1, gapMs: 0 },
    { kind: 'share', peer: 0, content: 0, name: 'a.bin', gapMs: 1_000 },
    { kind: 'download', peer: 1, content: 0, gapMs: 2_000 },
  ],
};

describe('randomized scenarios over the real engine', () => {
  test('smoke: two peers, one shares, the other downloads and the file completes', async () => {
    const scenario = smoke;
    const r = await runScenario(scenario);
    assert.match(r.log.join('\n'), /p1 download c0 \(was available\)/, 'the download really ran');
    assert.deepEqual(r.wanted.get(1)?.get(0)?.calls.map((c) => c.result), [true], 'download() resolved true');
    // Invariant r (stored record = page) is left to the batch: today a record write can be lost
    // (see the report); this test proves the harness moves bytes and checks them.
    assert.deepEqual(r.violations.filter((v) => v.invariant !== 'r'), [], describeFailure(scenario, r));
  });

  test('the invariants catch planted faults: a rotten piece, an orphan piece, a peer left in presence', async () => {
    const r = await runScenario(smoke, {
      beforeFinalCheck(st) {
        const [fileId] = st.peers[1]!.store.fileIds();
        st.peers[1]!.store.corruptPiece(fileId!, 1);
        void st.peers[0]!.store.putPieces('f'.repeat(64), [{ index: 0, data: new Uint8Array(3) }]);
        st.peers[1]!.close(); // gone without the others hearing yet
      },
    });
    const found = new Set(r.violations.map((v) => v.invariant));
    for (const inv of ['b', 'e', 'f']) assert.ok(found.has(inv), `invariant ${inv} caught its fault:\n${r.violations.map((v) => v.message).join('\n')}`);
  });

  test('the same seed replays the same story', async () => {
    const s = generateScenario(14); // a seed with reloads, downloads and violations today
    const [a, b] = [await runScenario(s), await runScenario(s)];
    assert.deepEqual(a.log, b.log);
    assert.equal(a.events, b.events);
    assert.deepEqual(a.violations, b.violations);
  });

  test(ONLY !== undefined ? `seed ${ONLY}` : `${COUNT} seeded scenarios`, { timeout: 600_000 }, async () => {
    const seeds = ONLY !== undefined ? [ONLY] : Array.from({ length: COUNT }, (_, k) => FIRST_SEED + k);
    const failures: { scenario: Scenario; result: RunResult }[] = [];
    const started = performance.now();
    let events = 0;
    for (const seed of seeds) {
      const scenario = generateScenario(seed);
      const result = await runScenario(scenario);
      events += result.events;
      if (ONLY !== undefined) console.log(describeFailure(scenario, result));
      if (result.violations.length) failures.push({ scenario, result });
    }
    const ms = performance.now() - started;
    console.log(`${seeds.length} scenarios in ${ms.toFixed(0)} ms (${(ms / seeds.length).toFixed(1)} ms each, ${events} events)`);
    if (failures.length === 0) return;

    const byInvariant = new Map<string, number[]>();
    for (const f of failures) for (const inv of failedInvariants(f.result)) byInvariant.set(inv, [...(byInvariant.get(inv) ?? []), f.scenario.seed]);
    const summary = [...byInvariant].sort().map(([inv, s]) => `  ${inv}: ${s.length} seeds, e.g. ${s.slice(0, 8).join(' ')}`);
    const shown: string[] = [];
    for (const [inv, s] of [...byInvariant].sort()) {
      const first = failures.find((f) => f.scenario.seed === s[0])!;
      if (!SHRINK) {
        shown.push(`--- ${inv}: first failing seed ${s[0]} (replay: SCENARIO_SEED=${s[0]})\n${describeFailure(first.scenario, first.result)}`);
        continue;
      }
      const small = await shrinkScenario(first.scenario, inv);
      shown.push(`--- ${inv}: seed ${s[0]} shrunk to ${small.scenario.ops.length} ops\n${describeFailure(small.scenario, small.result)}`);
    }
    assert.fail(`${failures.length} of ${seeds.length} scenarios broke invariants:\n${summary.join('\n')}\n\n${shown.join('\n\n')}`);
  });
});
