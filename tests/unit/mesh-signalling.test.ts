import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { RELAY_PATH } from '../../signaling/protocol.ts';
import { createRelay, type Relay } from '../../signaling/relay.ts';
import { createMemoryNetwork, type MemoryConn } from './helpers/memory-net.ts';
import { LOOPBACK_LIMITS, blobSha256, fileOf, startNodePeer, until, type NodePeer } from './helpers/node-peer.ts';

/**
 * Signalling through the mesh, end to end: real engines over in-memory links
 * and a real relay that is then stopped for real. A link between two members
 * that breaks while the relay is away is made again with signals carried by a
 * third member, and a file flows over it; once the relay is back, signals take
 * it again.
 */
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const readyWith = (p: NodePeer, other: NodePeer) => p.engine.internals.sessions.get(other.id)?.ready ?? false;
const linkBetween = (from: NodePeer, to: NodePeer) => from.engine.internals.sessions.get(to.id)!.link as unknown as MemoryConn;
const mesh = (p: NodePeer) => p.engine.stats().meshSignals;

const startRelay = async (port = 0): Promise<Relay> => {
  const relay = createRelay({ port, host: '127.0.0.1', log: () => undefined, limits: LOOPBACK_LIMITS });
  await relay.ready;
  return relay;
};

describe('signalling through the mesh', () => {
  const cleanup: (() => unknown)[] = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  test('relay stopped: a broken link is made again through a third member, a file flows over it; relay back: signals use it again', { timeout: 60_000 }, async () => {
    let relay = await startRelay();
    const port = relay.address().port;
    cleanup.push(() => relay.close());
    const url = `ws://127.0.0.1:${port}${RELAY_PATH}`;
    const net = createMemoryNetwork();
    const start = (name: string) => startNodePeer(url, net, { name, room: 'mesh-signalling' });
    const [alice, bob, carol] = await Promise.all([start('Alice'), start('Bob'), start('Carol')]);
    for (const p of [alice, bob, carol]) cleanup.push(() => p.engine.close());
    const everyone = [alice, bob, carol];
    for (const p of everyone) {
      for (const q of everyone) if (p !== q) await until(p.engine, () => readyWith(p, q), `${p.id} linked to ${q.id}`);
    }
    assert.equal(mesh(bob).forwarded, 0, 'with the relay up, nothing goes through the mesh');

    // The relay process goes away: nobody is told anyone left.
    await relay.close();
    for (const p of everyone) await until(p.engine, () => p.engine.getState().relay !== 'online', 'the relay to be gone');

    // Alice and Carol's link breaks (a path lost for good); whichever of them dials redials.
    linkBetween(alice, carol).destroy('ERR_LINK_LOST', 'test: the path broke');
    await until(alice.engine, () => !readyWith(alice, carol), 'the link to end');
    await until(alice.engine, () => readyWith(alice, carol), 'Alice and Carol linked again', 20_000);
    await until(carol.engine, () => readyWith(carol, alice), 'Carol and Alice linked again', 20_000);
    assert.ok(mesh(bob).forwarded > 0, 'Bob carried their signals');
    assert.ok(mesh(alice).delivered > 0 && mesh(carol).delivered > 0, 'each got the other\'s signals through the mesh');
    assert.equal(mesh(alice).forged + mesh(carol).forged, 0);

    // A file shared now flows over the new link.
    const original = new Uint8Array(randomBytes(700 * 1024 + 17));
    await alice.engine.share([fileOf(original, 'after-the-relay.bin')]);
    const listed = () => carol.engine.getState().files.find((f) => f.meta.name === 'after-the-relay.bin');
    await until(carol.engine, () => listed() !== undefined, 'Carol to see the file');
    assert.equal(await carol.engine.download(listed()!.meta.id), true);
    const saved = await carol.engine.save(listed()!.meta.id);
    assert.equal(await blobSha256(saved!.blob), sha(original));
    assert.ok(linkBetween(alice, carol).dataBytesSent > 0, 'the pieces came over the link made through the mesh');

    // The relay is back: once online again, signals take it, not the mesh.
    relay = await startRelay(port);
    for (const p of everyone) await until(p.engine, () => p.engine.getState().relay === 'online', 'the relay to be back', 20_000);
    const carried = mesh(bob).forwarded;
    const delivered = mesh(alice).delivered + mesh(carol).delivered;
    linkBetween(alice, carol).destroy('ERR_LINK_LOST', 'test: the path broke again');
    await until(alice.engine, () => !readyWith(alice, carol), 'the link to end again');
    await until(alice.engine, () => readyWith(alice, carol), 'linked again through the relay', 20_000);
    await until(carol.engine, () => readyWith(carol, alice), 'linked again through the relay (Carol)', 20_000);
    assert.equal(mesh(bob).forwarded, carried, 'nothing more went through Bob');
    assert.equal(mesh(alice).delivered + mesh(carol).delivered, delivered);
  });
});
