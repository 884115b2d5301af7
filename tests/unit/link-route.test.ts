import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LinkRoute } from '../../src/net/link.ts';
import { createMemoryNetwork, type MemoryNetwork } from './helpers/memory-net.ts';
import { testRelay, until } from './helpers/node-peer.ts';

/**
 * How each link runs (direct, or relayed through TURN) reaches the peer list:
 * read when the link opens, and again every tick, since ICE can move a link.
 */
const relay = testRelay();

test('each open link shows its route, and a change of route is picked up on a tick', { timeout: 20_000 }, async () => {
  const memory = createMemoryNetwork();
  let via: LinkRoute | null = 'direct';
  const net: MemoryNetwork = {
    conns: memory.conns,
    factory: (opts, handlers) => Object.assign(memory.factory(opts, handlers), { route: async () => via }),
  };
  const alice = await relay.start(net, { name: 'Alice', room: 'route-room' });
  const bob = await relay.start(net, { name: 'Bob', room: 'route-room' });
  const viewOf = (p: typeof alice, other: typeof bob) => p.engine.getState().peers.find((x) => x.id === other.id);
  await until(alice.engine, () => viewOf(alice, bob)?.link === 'open', 'Alice to link to Bob');
  await until(alice.engine, () => viewOf(alice, bob)?.via === 'direct', 'the direct route');
  via = 'relay';
  await until(alice.engine, () => viewOf(alice, bob)?.via === 'relay', 'the relayed route, on a tick');
  await until(bob.engine, () => viewOf(bob, alice)?.via === 'relay', 'Bob sees it too');
});

test('links that cannot tell their route (in-memory ones) show none', { timeout: 20_000 }, async () => {
  const net = createMemoryNetwork();
  const carol = await relay.start(net, { name: 'Carol', room: 'no-route-room' });
  const dave = await relay.start(net, { name: 'Dave', room: 'no-route-room' });
  await until(carol.engine, () => carol.engine.getState().peers.some((p) => p.id === dave.id && p.link === 'open'), 'Carol to link to Dave');
  assert.equal(carol.engine.getState().peers.find((p) => p.id === dave.id)?.via, null);
});
