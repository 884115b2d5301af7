import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import type { Announcement } from '../../src/core/gossip/announcement.ts';
import { encodeFrame } from '../../src/core/wire/frames.ts';
import { createMemoryNetwork } from './helpers/memory-net.ts';
import { testRelay, until, type NodePeer } from './helpers/node-peer.ts';

/**
 * A room member turned hostile, scripted by sending raw frames from its side
 * of the link: absurd sizes, announcement floods, announcing in someone
 * else's name. The honest engine must stay up and keep its catalogue true.
 */
const relay = testRelay();

async function room(name: string, count: number, opts: Parameters<typeof relay.start>[1] = {}): Promise<NodePeer[]> {
  const net = createMemoryNetwork();
  const peers = await Promise.all([...Array(count)].map((_, i) => relay.start(net, { ...opts, name: `P${i}`, room: name })));
  for (const p of peers) await until(p.engine, () => p.engine.internals.sessions.size === count - 1, 'a full mesh');
  return peers;
}

const announcement = (origin: string, size: number, name = 'x.bin'): Announcement => ({
  id: toHex(randomBytes(16)), origin, hops: 6, kind: 'add',
  file: { id: toHex(randomBytes(32)), name, size, mime: 'application/octet-stream' },
});

/** Sends a raw frame from `from` to `to` over their link, bypassing `from`'s own engine logic. */
const sendRaw = (from: NodePeer, to: NodePeer, frame: Uint8Array) => from.engine.internals.sessions.get(to.id)!.link.send(frame);

test('a file too large for the storage is listed, and refused with a clear message', { timeout: 20_000 }, async () => {
  const net = createMemoryNetwork();
  const tight = await relay.start(net, {
    room: 'hostile-size', name: 'Tight',
    deps: { storage: { estimate: async () => ({ quota: 50 * 2 ** 20, usage: 10 * 2 ** 20 }), persist: async () => true } },
  });
  const liar = await relay.start(net, { room: 'hostile-size', name: 'Liar' });
  await until(tight.engine, () => tight.engine.internals.sessions.size === 1, 'the link');
  await until(liar.engine, () => liar.engine.internals.sessions.size === 1, 'the link, both ends');
  const huge = announcement(liar.id, 15 * 2 ** 30, 'definitely-a-movie.mkv');
  sendRaw(liar, tight, encodeFrame({ type: 'gossip', json: huge }));
  await until(tight.engine, () => tight.engine.getState().files.some((f) => f.meta.id === huge.file.id), 'the listing');
  assert.equal(await tight.engine.download(huge.file.id), false);
  const notice = tight.engine.getState().notices.find((n) => n.text.includes('definitely-a-movie.mkv'));
  assert.match(notice?.text ?? '', /can store about 40\.0 MiB more.*needs 15\.0 GiB/);
  assert.equal(tight.engine.internals.downloads.size, 0, 'nothing started');
});

test('an announcement flood gets the flooding peer disconnected; the catalogue stays bounded', { timeout: 20_000 }, async () => {
  const [honest, flooder] = await room('hostile-flood', 2);
  for (let i = 0; i < 2_000; i++) sendRaw(flooder!, honest!, encodeFrame({ type: 'gossip', json: announcement(flooder!.id, 1000, `spam-${i}`) }));
  await until(honest!.engine, () => honest!.engine.internals.peers().isBanned(flooder!.id), 'the flooder to be banned');
  assert.ok(honest!.engine.getState().notices.some((n) => n.text.includes('too many announcements')));
  assert.ok(honest!.engine.getState().files.length <= 1_000, `catalogue size ${honest!.engine.getState().files.length}`);
});

test('a peer cannot announce or withdraw files in a neighbour\'s name', { timeout: 20_000 }, async () => {
  const [alice, bob, mallory] = await room('hostile-spoof', 3);
  const fake = announcement(bob!.id, 1000, 'bob-says-hi.exe');
  sendRaw(mallory!, alice!, encodeFrame({ type: 'gossip', json: fake }));
  sendRaw(mallory!, alice!, encodeFrame({ type: 'catalogue', json: [announcement(bob!.id, 2000, 'also-bob.exe')] }));
  // Something Mallory says about itself does get through, so the frames above were delivered and judged.
  const own = announcement(mallory!.id, 3000, 'mallory.txt');
  sendRaw(mallory!, alice!, encodeFrame({ type: 'gossip', json: own }));
  await until(alice!.engine, () => alice!.engine.getState().files.some((f) => f.meta.name === 'mallory.txt'), 'Mallory\'s own file');
  const names = alice!.engine.getState().files.map((f) => f.meta.name);
  assert.ok(!names.includes('bob-says-hi.exe') && !names.includes('also-bob.exe'), `spoofed files listed: ${names}`);
});

test('frames naming pieces past the end of a known file get the sender disconnected', { timeout: 20_000 }, async () => {
  const [alice, bob, carol] = await room('hostile-range', 3);
  await alice!.engine.share([new File([new Uint8Array(randomBytes(300_000))], 'small.bin')]);
  const id = alice!.engine.getState().files[0]!.meta.id;
  await until(bob!.engine, () => bob!.engine.getState().files.length === 1, 'the announcement at Bob');
  await until(carol!.engine, () => carol!.engine.getState().files.length === 1, 'the announcement at Carol');
  sendRaw(bob!, alice!, encodeFrame({ type: 'request', fileId: id, piece: 7 })); // the file has 2 pieces
  sendRaw(carol!, alice!, encodeFrame({ type: 'have', fileId: id, piece: 4000 }));
  await until(alice!.engine, () => alice!.engine.internals.peers().isBanned(bob!.id) && alice!.engine.internals.peers().isBanned(carol!.id), 'both to be dropped');
  assert.ok(alice!.engine.getState().notices.some((n) => n.text.includes('past the end of the file')));
});
