import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { EngineDeps } from '../../src/app/engine.ts';
import { fromHex } from '../../src/core/bytes.ts';
import { D } from '../../src/core/mesh/degree.ts';
import { MAX_SERVED_TRANSFERS, MAX_TRANSFER_LINKS } from '../../src/core/mesh/transfer.ts';
import { createMemoryStore } from '../../src/storage/memory-store.ts';
import { assertNeverLearned, contains, recordingFrames } from './helpers/audience-check.ts';
import { createMemoryNetwork, type MemoryNetwork } from './helpers/memory-net.ts';
import { blobSha256, fileOf, newTestIdentity, testRelay, throttle, until, type NodePeer } from './helpers/node-peer.ts';

/**
 * Share with chosen people in a large room (core/mesh/reach.ts): real engines
 * in a bounded mesh over in-memory links and a real relay. The chosen are
 * not the sharer's neighbours: holders dial them, the statement goes over
 * the proven link, they download intact, and nobody else ever receives a
 * byte naming the file. Degrees stay within the light bound throughout.
 */
const relay = testRelay();
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const links = (p: NodePeer) => p.engine.stats().links;
const fileView = (p: NodePeer, name: string) => p.engine.getState().files.find((f) => f.meta.name === name);
const linked = (a: NodePeer, b: NodePeer) => a.engine.internals.sessions.has(b.id) || b.engine.internals.sessions.has(a.id);

interface Room {
  peers: NodePeer[];
  /** Every frame each peer received, by peer id. */
  frames: Map<string, Uint8Array[]>;
  start(name: string, deps?: Partial<EngineDeps>, more?: Parameters<typeof relay.start>[1]): Promise<NodePeer>;
  /** Degrees seen above the light bound (+1 for a needy offer), or transfer links beyond both limits. */
  violations: string[];
  stop(): void;
}

async function boundedRoom(net: MemoryNetwork, topic: string, count: number, sharerDeps: Partial<EngineDeps>): Promise<Room> {
  const frames = new Map<string, Uint8Array[]>();
  const peers: NodePeer[] = [];
  const start = async (name: string, deps: Partial<EngineDeps> = {}, more: Parameters<typeof relay.start>[1] = {}) => {
    const seen: Uint8Array[] = [];
    const p = await relay.start(net, { name, room: topic, ...more, deps: { ...recordingFrames(net, seen), ...deps } });
    frames.set(p.id, seen);
    peers.push(p);
    return p;
  };
  for (let i = 0; i < count; i++) await start(`P${i}`, i === 0 ? sharerDeps : {});
  await Promise.all(peers.map((p) => p.engine.ready));
  // The first thirteen met as a full mesh and prune one link a second down to the light bound: wait until
  // everyone has been within it for 3 s together (a needy straggler may take a peer one over for a moment).
  const within = () => peers.every((p) => (links(p).degree ?? 0) >= 1 && (links(p).degree ?? 0) <= D + 1);
  let calm = 0;
  for (const end = Date.now() + 45_000; calm < 3; await new Promise((r) => setTimeout(r, 1000))) {
    if (Date.now() > end) throw new Error(`degrees never settled: ${peers.map((p) => links(p).degree)}`);
    calm = within() ? calm + 1 : 0;
  }
  const violations: string[] = [];
  const watch = setInterval(() => {
    for (const p of peers) {
      const l = links(p);
      if (l.degree! > D + 1) violations.push(`degree ${l.degree} of ${p.engine.getState().self.name}`);
      if (l.transfer! > MAX_TRANSFER_LINKS + MAX_SERVED_TRANSFERS) violations.push(`${l.transfer} transfer links`);
    }
  }, 100);
  return { peers, frames, start, violations, stop: () => clearInterval(watch) };
}

/** Nobody outside the audience received a byte naming the file, or holds anything of it. */
function assertOutsidersNeverLearned(room: Room, audience: NodePeer[], id: string, name: string): void {
  const outsiders = room.peers.filter((p) => !audience.some((a) => a.id === p.id));
  assert.ok(outsiders.length >= 8);
  const idBytes = fromHex(id)!;
  const nameBytes = new TextEncoder().encode(name);
  for (const p of outsiders) {
    assertNeverLearned(p, id, name);
    for (const frame of room.frames.get(p.id)!) {
      assert.ok(!contains(frame, idBytes) && !contains(frame, nameBytes), `a frame to ${p.engine.getState().self.name} names the file`);
    }
  }
}

const assertNobodyBanned = (room: Room) =>
  assert.deepEqual(room.peers.flatMap((p) => p.engine.getState().notices.filter((n) => n.text.startsWith('Disconnected')).map((n) => n.text)), [], 'nobody was banned');

describe('share with chosen people in a large room', () => {
  test('Alice shares with Dave and Bob (joining after), neither her neighbour: both reached and served, Bob reloads mid-download, Erin added mid-way; nobody else learns of it', { timeout: 180_000 }, async () => {
    const net = createMemoryNetwork();
    const room = await boundedRoom(net, 'reach-1', 15, { throttle: throttle(2 ** 20) });
    const alice = room.peers[0]!;
    const notLinked = room.peers.filter((p) => p !== alice && !linked(alice, p));
    const [dave, erin] = notLinked as [NodePeer, NodePeer];
    assert.ok(erin, 'two peers not linked to Alice');
    const bobIdentity = newTestIdentity();
    const bobStore = createMemoryStore();
    try {
      const original = new Uint8Array(randomBytes(2 * 1024 * 1024 + 777));
      await alice.engine.share([fileOf(original, 'chosen-few.bin')], [bobIdentity.id, dave.id]);
      await until(dave.engine, () => fileView(dave, 'chosen-few.bin') !== undefined, 'Dave to be reached', 30_000);
      const id = fileView(dave, 'chosen-few.bin')!.meta.id;
      assert.ok(links(alice).reachDialled! > 0, 'Alice dialled him');

      // Bob joins after the share: reached as soon as he is here.
      let bob = await room.start('Bob', {}, { identity: bobIdentity, store: bobStore });
      await until(bob.engine, () => fileView(bob, 'chosen-few.bin') !== undefined, 'Bob to be reached', 30_000);
      const daveDone = dave.engine.download(id);
      void bob.engine.download(id).catch(() => undefined); // ended by his reload
      await until(bob.engine, () => (bob.engine.internals.library.get(id)?.have.count ?? 0) > 0, 'Bob to hold a piece');
      assert.equal(bob.engine.internals.library.get(id)!.have.complete, false, 'mid-download');

      // Mid-way: Alice adds Erin, and Bob reloads (same identity and storage).
      alice.engine.widen(id, [erin.id]);
      bob.engine.close();
      room.peers.splice(room.peers.indexOf(bob), 1);
      bob = await room.start('Bob', {}, { identity: bobIdentity, store: bobStore });
      await until(erin.engine, () => fileView(erin, 'chosen-few.bin') !== undefined, 'Erin to be reached', 30_000);
      await until(bob.engine, () => fileView(bob, 'chosen-few.bin') !== undefined, 'Bob to be reached after his reload', 30_000);
      const done = await Promise.all([bob.engine.download(id), daveDone, erin.engine.download(id)]);
      assert.deepEqual(done, [true, true, true]);
      for (const p of [bob, dave, erin]) assert.equal(await blobSha256((await p.engine.save(id))!.blob), sha(original));
      assert.deepEqual(fileView(bob, 'chosen-few.bin')!.meta.audience, [alice.id, bob.id, dave.id, erin.id].sort());

      assertOutsidersNeverLearned(room, [alice, bob, dave, erin], id, 'chosen-few.bin');
      assertNobodyBanned(room);
      assert.deepEqual(room.violations, []);
      // After: nobody, Alice included, is left without a neighbour (the first try at this left the sharer with none).
      await Promise.all(room.peers.map((p) => until(p.engine, () => links(p).degree! >= 1, `${p.id} to keep a neighbour`, 15_000)));
    } finally {
      room.stop();
    }
  });

  test('Alice leaves mid-way: Bob, holding the file, reaches Dave and re-serves him, and nobody else', { timeout: 180_000 }, async () => {
    const net = createMemoryNetwork();
    const room = await boundedRoom(net, 'reach-2', 15, { throttle: throttle(256 * 1024) });
    const alice = room.peers[0]!;
    const notLinked = room.peers.filter((p) => p !== alice && !linked(alice, p));
    const bob = notLinked[0]!;
    const dave = notLinked.find((p) => p !== bob && !linked(bob, p));
    assert.ok(dave, 'Dave linked to neither');
    try {
      const original = new Uint8Array(randomBytes(1024 * 1024 + 5));
      await alice.engine.share([fileOf(original, 'hand-on.bin')], [bob.id, dave.id]);
      await until(bob.engine, () => fileView(bob, 'hand-on.bin') !== undefined, 'Bob to be reached', 30_000);
      const id = fileView(bob, 'hand-on.bin')!.meta.id;
      assert.equal(await bob.engine.download(id), true);

      await until(dave.engine, () => fileView(dave, 'hand-on.bin') !== undefined, 'Dave to be reached', 30_000);
      const daveDone = dave.engine.download(id);
      await until(dave.engine, () => (dave.engine.internals.library.get(id)?.have.count ?? 0) > 0, 'Dave to hold a piece');
      alice.engine.close();
      room.peers.splice(room.peers.indexOf(alice), 1);
      assert.equal(await daveDone, true);
      assert.equal(await blobSha256((await dave.engine.save(id))!.blob), sha(original));
      assert.ok(links(bob).reachDialled! + links(dave).reachDialled! > 0 || linked(bob, dave), 'Bob and Dave linked to each other');

      assertOutsidersNeverLearned(room, [alice, bob, dave], id, 'hand-on.bin');
      assertNobodyBanned(room);
      assert.deepEqual(room.violations, []);
    } finally {
      room.stop();
    }
  });
});
