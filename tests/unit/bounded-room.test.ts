import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { CONNECTION_BUDGET } from '../../src/core/mesh/bounded.ts';
import { D, D_HIGH, D_LOW } from '../../src/core/mesh/degree.ts';
import { MAX_SERVED_TRANSFERS, MAX_TRANSFER_LINKS } from '../../src/core/mesh/transfer.ts';
import { createMemoryNetwork } from './helpers/memory-net.ts';
import { blobSha256, fileOf, testRelay, throttle, until, type NodePeer } from './helpers/node-peer.ts';

/**
 * Twenty real engines in one room, over a real relay and in-memory links: more
 * than D_HIGH others each, so a bounded mesh. New tabs are light peers (they
 * have not been here long): between D_LOW and D neighbours. One shares a file;
 * everyone downloads it at once, from mesh neighbours and through transfer
 * links to holders they are not linked to, and saves the same bytes.
 */
const relay = testRelay();
const PEERS = 20;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const links = (p: NodePeer) => p.engine.stats().links;

/** Waits for what no engine event announces (counters), checking every 50 ms. */
async function poll(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !check(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

describe('a bounded room of twenty engines', () => {
  test('degrees stay within bounds, and a shared file reaches everyone intact', { timeout: 120_000 }, async () => {
    const net = createMemoryNetwork();
    const peers: NodePeer[] = [];
    // The sharer uploads at 1 MiB/s: downloads last a few ticks, long enough for transfer links to be wanted.
    for (let i = 0; i < PEERS; i++) {
      peers.push(await relay.start(net, { name: `P${i}`, room: 'bounded-room', deps: i === 0 ? { throttle: throttle(2 ** 20) } : {} }));
    }
    await Promise.all(peers.map((p) => p.engine.ready));
    // The first thirteen met as a full mesh and prune one link a second (PRUNE_PACE_MS) when the room grows,
    // down to their high bound; pairs that pruned back off for a minute, so a peer may sit below D_LOW meanwhile.
    const settled = (p: NodePeer) => (links(p).degree ?? 0) >= 2 && (links(p).degree ?? 0) <= D + 1;
    await Promise.all(peers.map((p) => until(p.engine, () => settled(p), `${p.id} to have neighbours`, 30_000)));
    // Pruning went over the wire: PRUNE frames reached the pruned side's session and closed its link.
    assert.ok(peers.some((p) => links(p).prunedBy! > 0), 'a PRUNE frame was received and acted on');
    assert.ok(peers.every((p) => !p.engine.getState().notices.some((n) => n.text.startsWith('Disconnected'))), 'nobody was banned');
    const degrees = peers.map((p) => links(p).degree!);
    const mean = degrees.reduce((a, b) => a + b, 0) / PEERS;
    assert.ok(mean >= D_LOW && mean <= D, `mean degree ${mean}: ${degrees}`);
    for (const p of peers) {
      const l = links(p);
      assert.equal(l.role, 'light');
      // One over the high bound (D for a light peer) for a moment: a straggler's needy offer, pruned back.
      assert.ok(l.degree! <= D + 1, `degree ${l.degree} of ${p.id}`);
      assert.ok(PEERS - 1 > D_HIGH, 'not a full mesh');
    }

    const [sharer, ...others] = peers;
    const original = new Uint8Array(randomBytes(2 * 1024 * 1024 + 777));
    await sharer!.engine.share([fileOf(original, 'big-room.bin')]);
    const fileId = () => sharer!.engine.getState().files.find((f) => f.meta.name === 'big-room.bin')?.meta.id;
    await until(sharer!.engine, () => fileId() !== undefined, 'the file to be shared');
    const listed = (p: NodePeer) => p.engine.getState().files.some((f) => f.meta.id === fileId());
    await Promise.all(others.map((p) => until(p.engine, () => listed(p), `${p.id} to hear of the file through the mesh`, 30_000)));

    const watch = setInterval(() => {
      for (const p of peers) {
        const l = links(p);
        assert.ok(l.degree! <= D + 1, `degree ${l.degree} above the light bound (+1 for a needy offer)`);
        assert.ok((l.transfer ?? 0) <= MAX_TRANSFER_LINKS + MAX_SERVED_TRANSFERS);
      }
    }, 100);
    try {
      const done = await Promise.all(others.map((p) => p.engine.download(fileId()!)));
      assert.ok(done.every(Boolean), 'every download completed');
    } finally {
      clearInterval(watch);
    }
    for (const p of others) {
      const saved = await p.engine.save(fileId()!);
      assert.ok(saved);
      assert.equal(await blobSha256(saved.blob), sha(original));
    }
    const dialled = others.map((p) => links(p).transferDialled!);
    assert.ok(dialled.some((n) => n > 0), `some downloaders dialled transfer links: ${dialled}`);
    // Downloads done: their transfer links close (the downloader's side at once, on its next tick).
    await Promise.all(others.map((p) => until(p.engine, () => p.engine.internals.peers()?.wantedFiles().length === 0, 'wants to clear', 10_000)));
    for (const p of peers) {
      const l = links(p);
      assert.ok(l.created! <= CONNECTION_BUDGET && l.remaining === CONNECTION_BUDGET - l.created!);
    }

    // A search in a bounded room also goes out as a query (app/room-query.ts): it passes the asker's
    // neighbours, the holders (everyone, by now) answer back along its path, and nobody is banned for it.
    const asker = others.find((p) => !p.engine.internals.sessions.has(sharer!.id)) ?? others[0]!;
    assert.equal(asker.engine.searchRoom('big-room'), true, 'a bounded room is searched');
    const taken = () => peers.filter((p) => p.engine.stats().queries.taken! > 0).length;
    await poll(() => asker.engine.stats().queries['hits-received']! > 0 && taken() > links(asker).degree!, 'answers from beyond the neighbours');
    assert.ok(peers.every((p) => !p.engine.getState().notices.some((n) => n.text.startsWith('Disconnected'))), 'nobody was banned');
    assert.equal(asker.engine.searchRoom('big-room'), false, 'the same search is not asked again at once');
  });
});
