import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { WebSocket } from 'ws';
import { parseRelayMessage, type RelayMessage } from '../../signaling/protocol.ts';
import { fromBase64Url } from '../../src/core/bytes.ts';
import { deriveRoomKeys } from '../../src/core/crypto/room-keys.ts';
import { createMemoryNetwork } from './helpers/memory-net.ts';
import { fileOf, testRelay, until } from './helpers/node-peer.ts';
import { challengeOf, joinMessage, newTestIdentity } from './helpers/signed-join.ts';

/**
 * Someone who learned a room's topic (say, from relay logs) but not its
 * secret: it can join the topic, but every signalling message it sees is
 * sealed, and everything it sends is dropped before it reaches WebRTC.
 */
const relay = testRelay();

test('a client with only the topic can join but cannot connect or learn anything', { timeout: 30_000 }, async () => {
  const room = 'intruder-test-room';
  const net = createMemoryNetwork();
  const alice = await relay.start(net, { name: 'Alice Secretname', room });
  await alice.engine.share([fileOf(new Uint8Array(randomBytes(1000)), 'private-plans.txt', 'text/plain')]);
  const { topic } = await deriveRoomKeys({ secret: room, named: false }, (n) => new Uint8Array(randomBytes(n)));

  // The intruder: a plain WebSocket client that joins the topic, with an id that Alice will call (lower than hers).
  let identity = newTestIdentity();
  while (identity.id < alice.id) identity = newTestIdentity(); // the lower id initiates: make it Alice, so the intruder sees her offer
  const id = identity.id;
  const ws = new WebSocket(relay.url());
  const challenge = challengeOf(ws);
  const inbox: RelayMessage[] = [];
  ws.on('message', (data) => {
    const m = parseRelayMessage(String(data));
    if (m.ok) inbox.push(m.value);
  });
  await new Promise((resolve) => ws.once('open', resolve));
  after(() => ws.terminate());
  ws.send(JSON.stringify(await joinMessage(identity, await challenge, topic)));
  await until(alice.engine, () => alice.engine.getState().peers.some((p) => p.id === id), 'Alice to see the intruder present');

  // Alice's side tries to connect; all the intruder gets is sealed blobs.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const signals = inbox.filter((m): m is Extract<RelayMessage, { type: 'signal' }> => m.type === 'signal');
  assert.ok(signals.length > 0, 'Alice did send it signalling');
  for (const s of signals) {
    assert.throws(() => JSON.parse(s.data), 'not readable JSON');
    const [seq, sealed] = s.data.split('.');
    assert.match(seq!, /^\d+$/, 'a sequence number in clear, then the sealed payload');
    const bytes = Buffer.from(fromBase64Url(sealed!)!).toString('latin1');
    for (const secret of ['Alice', 'private-plans', 'offer', 'token', 'sdp']) assert.ok(!bytes.includes(secret), `no "${secret}" in clear`);
  }

  // Whatever the intruder sends back (a forged answer, a replay, garbage) is dropped.
  const forged = [JSON.stringify({ type: 'answer', token: 'x' }), signals[0]!.data, 'A'.repeat(200)];
  for (const data of forged) ws.send(JSON.stringify({ type: 'signal', topic, to: alice.id, data }));
  await until(alice.engine, () => alice.engine.getState().notices.some((n) => n.text.includes("did not carry this room's key")), 'the drop to be reported');
  assert.equal(alice.engine.getState().peers.find((p) => p.id === id)?.link === 'open', false, 'no link to the intruder');
  assert.equal(alice.engine.internals.sessions.has(id), false);
});
