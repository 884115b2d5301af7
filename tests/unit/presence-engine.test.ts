import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { EXPIRE_MS } from '../../src/core/gossip/presence.ts';
import type { PeerConnectionFactory } from '../../src/net/link.ts';
import { createMemoryNetwork, type MemoryNetwork } from './helpers/memory-net.ts';
import { fileOf, newTestIdentity, testRelay, until, type NodePeer } from './helpers/node-peer.ts';

/**
 * Presence by gossip in real engines over a real relay and in-memory links.
 * C's relay never introduces A (as a relay listing only a sample of a big
 * room would not): C is not linked to A and hears of A only through B.
 */
const relay = testRelay();

const fileNamed = (p: NodePeer, name: string) => p.engine.getState().files.find((f) => f.meta.name === name);
const peerView = (p: NodePeer, id: string) => p.engine.getState().peers.find((x) => x.id === id);

/** Links whose close lets what was sent before it arrive first (as a data channel's own close does). */
function flushingOnClose(factory: PeerConnectionFactory): PeerConnectionFactory {
  return (opts, handlers) => {
    const conn = factory(opts, handlers);
    const destroy = conn.destroy.bind(conn);
    conn.destroy = (code, detail) => void setTimeout(() => destroy(code, detail), 50);
    return conn;
  };
}

/** A, B and C in `room`; C's relay hides A. A shares a file; C is shown it with A's name. */
async function threeInALine(room: string, opts: { aFlushesOnClose?: boolean; cClock?: { skew: number } } = {}) {
  const net: MemoryNetwork = createMemoryNetwork();
  const aIdentity = newTestIdentity();
  const a = await relay.start(net, {
    name: 'Ada', room, identity: aIdentity,
    deps: opts.aFlushesOnClose ? { createConnection: flushingOnClose(net.factory) } : {},
  });
  const b = await relay.start(net, { name: 'Bea', room });
  const clock = opts.cClock;
  const c = await relay.start(net, {
    name: 'Cy', room, hide: [aIdentity.id],
    deps: clock ? { now: () => performance.now() + clock.skew } : {},
  });
  await until(c.engine, () => peerView(c, b.id)?.link === 'open', 'C linked to B');
  await until(c.engine, () => peerView(c, a.id)?.name === 'Ada', 'C to know of Ada by presence');
  assert.equal(peerView(c, a.id)!.link, 'none', 'C has no link to A');

  await a.engine.share([fileOf(new Uint8Array(randomBytes(5_000)), 'from-ada.txt', 'text/plain')]);
  await until(c.engine, () => fileNamed(c, 'from-ada.txt') !== undefined, 'A\'s announcement at C, through B');
  assert.deepEqual(fileNamed(c, 'from-ada.txt')!.holders.map((h) => h.name), ['Ada'], 'the holder is shown by the name A gives itself');
  assert.equal(c.engine.internals.sessions.has(a.id), false, 'still no link between A and C');
  assert.equal(c.engine.stats().gossip['not-a-member'], 0);
  return { a, b, c };
}

describe('presence by gossip in the engine', () => {
  test('C accepts the announcement of A, whom it hears of only through B; A\'s goodbye makes C forget A\'s files', { timeout: 30_000 }, async () => {
    const { a, b, c } = await threeInALine('presence-gone', { aFlushesOnClose: true });
    const counted = c.engine.stats().presence;
    assert.ok(counted.accepted! >= 2 && counted.here === 2, JSON.stringify(counted));
    a.engine.close();
    await until(c.engine, () => fileNamed(c, 'from-ada.txt') === undefined, 'C to forget A\'s file after its goodbye');
    assert.equal(peerView(c, a.id), undefined, 'A is no longer listed at C');
    await until(b.engine, () => fileNamed(b, 'from-ada.txt') === undefined, 'B to forget it too');
  });

  test('when A vanishes without a word reaching C, C forgets A\'s files once A\'s presence expires, not before', { timeout: 30_000 }, async () => {
    const cClock = { skew: 0 };
    const { a, b, c } = await threeInALine('presence-expiry', { cClock });
    a.engine.close(); // its links drop at once: the goodbye is lost
    await until(b.engine, () => fileNamed(b, 'from-ada.txt') === undefined, 'B (linked to A, told by the relay) forgets A\'s file');
    await new Promise((r) => setTimeout(r, 1_500)); // a tick or two at C
    assert.ok(fileNamed(c, 'from-ada.txt'), 'C has heard nothing yet: A is still here by presence');
    cClock.skew += EXPIRE_MS;
    await until(c.engine, () => fileNamed(c, 'from-ada.txt') === undefined, 'C to forget A\'s file at expiry', 5_000);
    assert.equal(peerView(c, a.id), undefined);
    assert.equal(peerView(c, b.id)?.link, 'open', 'B, who kept linked, is still here');
  });
});
