import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { MeshSignals } from '../../src/app/mesh-signals.ts';
import { peerIdFromPublicKey, verifySignature } from '../../src/core/crypto/identity.ts';
import type { MeshSignal } from '../../src/core/mesh/signal-route.ts';
import type { WireMessage } from '../../src/core/wire/frames.ts';
import { viaMesh, type MeshPort } from '../../src/net/mesh-transport.ts';
import type { RelayStatus, SignalHandlers } from '../../src/net/signal-client.ts';
import { newTestIdentity } from './helpers/node-peer.ts';

const quiet: SignalHandlers = {
  onWelcome: () => undefined, onPeerJoined: () => undefined, onPeerLeft: () => undefined,
  onSignal: () => undefined, onStatus: () => undefined, onError: () => undefined,
};

/** A relay client whose status the test sets, and a mesh port, both recording what they were given. */
function transport() {
  const viaRelay: string[] = [];
  const viaMeshPort: string[] = [];
  const heard: string[] = [];
  let relayHandlers: SignalHandlers | undefined;
  let meshReceiver: ((from: string, wire: string) => void) | undefined;
  const port: MeshPort = { send: (_to, wire) => viaMeshPort.push(wire), onWire: (fn) => void (meshReceiver = fn) };
  const client = viaMesh((h) => {
    relayHandlers = h;
    return { sendSignal: (_to, wire) => viaRelay.push(wire), reconnect: () => undefined, close: () => undefined };
  })({ ...quiet, onSignal: (from, wire) => heard.push(`${from}:${wire}`) }, port);
  return {
    client, viaRelay, viaMeshPort, heard,
    status: (s: RelayStatus) => relayHandlers!.onStatus(s),
    fromRelay: (from: string, wire: string) => relayHandlers!.onSignal(from, wire),
    fromMesh: (from: string, wire: string) => meshReceiver!(from, wire),
  };
}

describe('the transport under the seal', () => {
  test('wires go to the relay only while it is online, to the mesh otherwise, and back to the relay when it returns', () => {
    const t = transport();
    t.client.sendSignal('X', 'while connecting');
    t.status('online');
    t.client.sendSignal('X', 'online');
    t.status('offline');
    t.client.sendSignal('X', 'offline');
    t.status('connecting');
    t.client.sendSignal('X', 'reconnecting');
    t.status('online');
    t.client.sendSignal('X', 'back');
    assert.deepEqual(t.viaRelay, ['online', 'back']);
    assert.deepEqual(t.viaMeshPort, ['while connecting', 'offline', 'reconnecting']);
  });

  test('wires from both arrive on the same path up (the seal opens and replay-checks them alike); none after close', () => {
    const t = transport();
    t.fromRelay('R', 'one');
    t.fromMesh('M', 'two');
    t.client.close();
    t.fromMesh('M', 'late');
    t.client.sendSignal('X', 'after close');
    assert.deepEqual(t.heard, ['R:one', 'M:two']);
    assert.deepEqual(t.viaMeshPort, []);
  });
});

describe('MeshSignals: signed by the sender, checked at the destination', () => {
  /** Three members in a line, A - B - C, whose frames the test carries by hand. */
  function line() {
    const ids = [newTestIdentity(), newTestIdentity(), newTestIdentity()];
    const outbox: { from: string; to: string; m: WireMessage }[] = [];
    const bans: string[] = [];
    const neighbours = new Map([[ids[0]!.id, [ids[1]!.id]], [ids[1]!.id, [ids[0]!.id, ids[2]!.id]], [ids[2]!.id, [ids[1]!.id]]]);
    const nodes = ids.map((self) => new MeshSignals({
      self, topic: 'room-topic', verify: verifySignature, idOf: peerIdFromPublicKey,
      neighbours: () => neighbours.get(self.id)!,
      send: (to, m) => outbox.push({ from: self.id, to, m }),
      now: () => 0, randomBytes: (n) => new Uint8Array(randomBytes(n)),
      ban: (peer, code) => bans.push(`${peer}:${code}`),
      failed: (message) => assert.fail(message),
    }));
    const byId = new Map(ids.map((s, i) => [s.id, nodes[i]!]));
    const heard: string[] = [];
    nodes.forEach((n, i) => n.onWire((from, wire) => heard.push(`${ids.findIndex((s) => s.id === from)}->${i}:${wire}`)));
    /** Carries every frame in flight, optionally rewriting them, until none is left. */
    const settle = async (rewrite: (m: MeshSignal) => MeshSignal = (m) => m) => {
      for (let rounds = 0; rounds < 20; rounds++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        for (const f of outbox.splice(0)) byId.get(f.to)!.receive(f.from, rewrite((f.m as { json: MeshSignal }).json));
      }
    };
    return { ids, nodes, heard, bans, settle };
  }

  test('a signal from A reaches C through B, and the answer comes back; both in order', async () => {
    const l = line();
    l.nodes[0]!.send(l.ids[2]!.id, 'offer');
    l.nodes[0]!.send(l.ids[2]!.id, 'candidate');
    await l.settle();
    l.nodes[2]!.send(l.ids[0]!.id, 'answer');
    await l.settle();
    assert.deepEqual(l.heard, ['0->2:offer', '0->2:candidate', '2->0:answer']);
    assert.ok(l.nodes[1]!.stats().forwarded >= 3);
  });

  test('a forwarder that rewrites a signal, or claims another sender, gets nothing through and nobody banned', async () => {
    const l = line();
    l.nodes[0]!.send(l.ids[2]!.id, 'offer');
    await l.settle((m) => (m.src === l.ids[0]!.id && m.dst === l.ids[2]!.id ? { ...m, data: 'forged offer' } : m));
    // B forges a signal "from A" with its own key.
    l.nodes[1]!.send(l.ids[2]!.id, 'from B');
    await l.settle((m) => (m.dst === l.ids[2]!.id ? { ...m, src: l.ids[0]!.id } : m));
    assert.deepEqual(l.heard, []);
    assert.equal(l.nodes[2]!.stats().forged, 2);
    assert.deepEqual(l.bans, []);
  });

  test('a malformed frame is proof: its neighbour is banned', () => {
    const l = line();
    l.nodes[1]!.receive(l.ids[0]!.id, { id: 'nope' });
    assert.deepEqual(l.bans, [`${l.ids[0]!.id}:ERR_FRAME_FIELD`]);
  });
});
