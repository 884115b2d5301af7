import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PRUNE_BACKOFF_MS } from '../../src/core/mesh/bounded.ts';
import { D, D_HIGH, D_LOW } from '../../src/core/mesh/degree.ts';
import { mulberry32 } from './helpers/random.ts';
import { createClock, drainMicrotasks } from './helpers/sim/clock.ts';
import { createSimNetwork } from './helpers/sim/link.ts';
import { SimPeer, simIdentity, type SimWorld } from './helpers/sim/peer.ts';
import { createRelay } from './helpers/sim/relay.ts';

/**
 * A room outgrowing the full mesh, with real engines (peer manager, mesh
 * rules, sessions) over the in-memory relay and links, in virtual time: 13
 * tabs linked to everyone, then 2 more. Everyone is above its high bound at
 * once and prunes; the newcomers are refused by everyone meanwhile. Refusals
 * and prunes back off for a minute, so in a room this small a peer could be
 * left with nobody to dial: it sat at one neighbour for 60 s.
 */
const FIRST = D_HIGH + 1;
const PEERS = FIRST + 2;
/** The peers prune one link a second from 12 to about 4 (PRUNE_PACE_MS): the repair can start only then. */
const REPAIRED_WITHIN_S = 15;
/** Short of two minutes: every tab is still light (D_LOW..D), as new tabs are. */
const WATCH_S = 90;
const SETTLED_S = 30;

async function growRoom(seed: number) {
  const random = mulberry32(seed);
  const clock = createClock();
  const world: SimWorld = { clock, relay: createRelay(clock, random), net: createSimNetwork({ clock, random }) };
  const key = () => simIdentity(new Uint8Array(32).map(() => Math.floor(random() * 256)));
  const peers = Array.from({ length: PEERS }, (_, i) => new SimPeer(world, key(), `p${i}`, seed * 100 + i));
  const links = (p: SimPeer) => p.engine!.stats().links;
  let t = 0;
  const step = async (ms: number) => clock.run((t += ms));
  try {
    for (const p of peers.slice(0, FIRST)) {
      p.start();
      await step(200);
    }
    await step(10_000);
    const fullMesh = peers.slice(0, FIRST).map((p) => links(p).degree);
    for (const p of peers.slice(FIRST)) {
      p.start();
      await step(200);
    }
    const below = peers.map(() => 0);
    const longestBelow = peers.map(() => 0);
    let maxSettled = 0;
    let prunedAtSettle = 0;
    for (let s = 1; s <= WATCH_S; s++) {
      await step(1_000);
      peers.forEach((p, i) => {
        below[i] = links(p).degree! < D_LOW ? below[i]! + 1 : 0;
        longestBelow[i] = Math.max(longestBelow[i]!, below[i]!);
        if (s >= SETTLED_S) maxSettled = Math.max(maxSettled, links(p).degree!);
      });
      if (s === SETTLED_S) prunedAtSettle = peers.reduce((n, p) => n + links(p).pruned!, 0);
    }
    const prunedLater = peers.reduce((n, p) => n + links(p).pruned!, 0) - prunedAtSettle;
    return { fullMesh, longestBelow, maxSettled, prunedLater, roles: new Set(peers.map((p) => links(p).role)), errors: clock.errors };
  } finally {
    for (const p of peers) p.close();
    await drainMicrotasks();
  }
}

describe('a room of 13 grows to 15', () => {
  for (const seed of [1, 2, 3]) {
    test(`seed ${seed}: a peer left below D_LOW, pruned or refused by everyone, finds neighbours within seconds; no churn after`, async () => {
      const r = await growRoom(seed);
      assert.deepEqual(r.errors, []);
      assert.ok(r.fullMesh.every((d) => d === D_HIGH), `a full mesh first: ${r.fullMesh}`);
      assert.deepEqual([...r.roles], ['light'], 'new tabs: light bounds throughout');
      assert.ok(r.longestBelow.every((s) => s <= REPAIRED_WITHIN_S), `seconds below D_LOW, per peer: ${r.longestBelow} (the backoff is ${PRUNE_BACKOFF_MS / 1000} s)`);
      assert.ok(r.maxSettled <= D + 1, `settled degrees stay within the light bound, one over for a needy offer: ${r.maxSettled}`);
      assert.equal(r.prunedLater, 0, 'once settled, nobody prunes: the repair does not churn');
    });
  }
});
