import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { toBase64Url, toHex } from '../../src/core/bytes.ts';
import type { Identity } from '../../src/core/crypto/identity.ts';
import { MAX_HOPS, signAnnouncement, type Announcement } from '../../src/core/gossip/announcement.ts';
import { MAX_FILES_PER_ORIGIN } from '../../src/core/gossip/catalogue.ts';
import { packByBytes } from '../../src/core/gossip/pack.ts';
import { ORIGIN_BURST } from '../../src/core/gossip/rules.ts';
import { MAX_JSON_BYTES, encodeFrame } from '../../src/core/wire/frames.ts';
import { MAX_RETRIES } from '../../src/net/peer-manager.ts';
import { createMemoryNetwork } from './helpers/memory-net.ts';
import { fileOf, testRelay, until, type NodePeer } from './helpers/node-peer.ts';
import { nodeTestIdentity } from './helpers/signed-join.ts';

/**
 * A room member turned hostile, scripted by sending raw frames from its side
 * of the link: absurd sizes, announcement floods, announcing in someone
 * else's name. The honest engine must stay up and keep its catalogue true;
 * a link is banned only on proof (a forged or altered statement), never for
 * load, so honest peers that relay or sync a lot are never punished.
 */
const relay = testRelay();

interface Member extends NodePeer {
  identity: Identity;
}

async function start(net: ReturnType<typeof createMemoryNetwork>, room: string, name: string, opts: Parameters<typeof relay.start>[1] = {}): Promise<Member> {
  const identity = nodeTestIdentity(); // OpenSSL Ed25519: fast enough to sign thousands of statements
  return { ...(await relay.start(net, { ...opts, identity, name, room })), identity };
}

const linkedTo = (p: NodePeer, count: number) => p.engine.internals.sessions.size === count && [...p.engine.internals.sessions.values()].every((s) => s.ready);

async function room(name: string, count: number, net = createMemoryNetwork()): Promise<Member[]> {
  const peers = await Promise.all([...Array(count)].map((_, i) => start(net, name, `P${i}`)));
  for (const p of peers) await until(p.engine, () => linkedTo(p, count - 1), 'a full mesh');
  return peers;
}

const randomFile = (size: number, name = 'x.bin') => ({ id: toHex(randomBytes(32)), name, size, mime: 'application/octet-stream' });

/** A statement signed by `by`, in its own name unless `fields` say otherwise; seq from the wall clock, as engines do (an older one than its session is stale). */
const signed = (by: Identity, file = randomFile(1000), fields: Partial<Announcement> = {}, seq = Date.now()): Promise<Announcement> =>
  signAnnouncement({ origin: by.id, key: toBase64Url(by.publicKey), seq, kind: 'add', file, hops: MAX_HOPS, ...fields }, (d) => by.sign(d));

/** Sends a raw frame from `from` to `to` over their link, bypassing `from`'s own engine logic. */
const sendRaw = (from: NodePeer, to: NodePeer, frame: Uint8Array) => from.engine.internals.sessions.get(to.id)!.link.send(frame);
const isBanned = (at: NodePeer, who: NodePeer) => at.engine.internals.peers()!.isBanned(who.id);
const names = (p: NodePeer) => p.engine.getState().files.map((f) => f.meta.name);
const gossipStats = (p: NodePeer) => p.engine.stats().gossip;

/** Polls `check` (for outcomes that do not change visible state, such as drops); the deadline guards against a hang, not a busy machine. */
async function eventually(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('a file too large for the storage is listed, and refused with a clear message', { timeout: 20_000 }, async () => {
  const net = createMemoryNetwork();
  const tight = await start(net, 'hostile-size', 'Tight', {
    deps: { storage: { estimate: async () => ({ quota: 50 * 2 ** 20, usage: 10 * 2 ** 20 }), persist: async () => true } },
  });
  const liar = await start(net, 'hostile-size', 'Liar');
  await until(tight.engine, () => tight.engine.internals.sessions.get(liar.id)?.ready ?? false, 'the link');
  await until(liar.engine, () => liar.engine.internals.sessions.get(tight.id)?.ready ?? false, 'the link, both ends');
  const huge = await signed(liar.identity, randomFile(15 * 2 ** 30, 'definitely-a-movie.mkv'));
  sendRaw(liar, tight, encodeFrame({ type: 'gossip', json: huge }));
  await until(tight.engine, () => tight.engine.getState().files.some((f) => f.meta.id === huge.file.id), 'the listing');
  assert.equal(await tight.engine.download(huge.file.id), false);
  const notice = tight.engine.getState().notices.find((n) => n.text.includes('definitely-a-movie.mkv'));
  assert.match(notice?.text ?? '', /can store about 40\.0 MiB more.*needs 15\.0 GiB/);
  assert.equal(tight.engine.internals.downloads.size, 0, 'nothing started');
});

test('an announcement flood is dropped and counted, never punished; the catalogue stays bounded', { timeout: 120_000 }, async () => {
  const [honest, flooder] = (await room('hostile-flood', 2)) as [Member, Member];
  const total = ORIGIN_BURST + 500;
  const statements = await Promise.all([...Array(total)].map((_, i) => signed(flooder.identity, randomFile(1000, `spam-${i}`))));
  for (const a of statements) sendRaw(flooder, honest, encodeFrame({ type: 'gossip', json: a }));
  // Each statement is either accepted (then perhaps over the catalogue's limit) or over the budget.
  const judged = () => (gossipStats(honest).accepted ?? 0) + (gossipStats(honest)['over-budget'] ?? 0);
  await eventually(() => judged() >= total, `all ${total} statements to be judged`);
  const g = gossipStats(honest);
  assert.ok((g['over-budget'] ?? 0) > 0, `over the origin's budget: dropped and counted (${JSON.stringify(g)})`);
  assert.ok((g['over-limit'] ?? 0) > 0, 'over the per-origin catalogue limit: dropped and counted');
  assert.equal(isBanned(honest, flooder), false, 'load is not proof');
  assert.ok(honest.engine.internals.sessions.get(flooder.id)?.ready, 'the link stays up');
  const listed = honest.engine.getState().files.length;
  assert.ok(listed > 0 && listed <= MAX_FILES_PER_ORIGIN, `catalogue size ${listed}`);
});

test('a forged origin (a key that is not the origin\'s) gets the sending link banned, not the one it names', { timeout: 20_000 }, async () => {
  const [alice, bob, mallory] = (await room('hostile-origin', 3)) as [Member, Member, Member];
  // Mallory signs correctly, with her own key, but claims to be Bob.
  const fake = await signed(mallory.identity, randomFile(1000, 'bob-says-hi.exe'), { origin: bob.id });
  sendRaw(mallory, alice, encodeFrame({ type: 'gossip', json: fake }));
  await until(alice.engine, () => isBanned(alice, mallory), 'Mallory to be banned');
  assert.equal(isBanned(alice, bob), false, 'Bob did nothing');
  assert.ok(alice.engine.internals.sessions.get(bob.id)?.ready, 'Bob\'s link stays up');
  assert.ok(!names(alice).includes('bob-says-hi.exe'));
  assert.ok(alice.engine.getState().notices.some((n) => n.text.includes('is not the id of the announcement\'s key')));
});

test('a bad signature (in a live frame or inside a catalogue) gets the sending link banned', { timeout: 30_000 }, async () => {
  const [alice, bob, mallory, eve] = (await room('hostile-signature', 4)) as [Member, Member, Member, Member];
  await bob.engine.share([fileOf(new Uint8Array(randomBytes(1000)), 'bobs-real-file.txt', 'text/plain')]);
  await until(alice.engine, () => names(alice).includes('bobs-real-file.txt'), 'Bob\'s real file at Alice');
  const real = alice.engine.getState().files.find((f) => f.meta.name === 'bobs-real-file.txt')!.meta;

  // Mallory withdraws Bob's file in his name: his key and id, but a signature she made up.
  const withdrawal = await signed(mallory.identity, real, { origin: bob.id, key: toBase64Url(bob.identity.publicKey), kind: 'remove' }, Date.now() + 1_000_000);
  sendRaw(mallory, alice, encodeFrame({ type: 'gossip', json: withdrawal }));
  await until(alice.engine, () => isBanned(alice, mallory), 'Mallory to be banned');

  // Eve alters a statement Bob really signed (the name), and hides it among good ones in a catalogue.
  const genuine = await signed(bob.identity, randomFile(2000, 'bob.txt'));
  const own = await signed(eve.identity, randomFile(3000, 'eve.txt'));
  sendRaw(eve, alice, encodeFrame({ type: 'catalogue', json: [own, { ...genuine, file: { ...genuine.file, name: 'bob.exe' } }] }));
  await until(alice.engine, () => isBanned(alice, eve), 'Eve to be banned');

  assert.equal(isBanned(alice, bob), false, 'Bob, whose name was used, is not banned');
  assert.ok(names(alice).includes('bobs-real-file.txt'), 'Bob\'s file is still listed');
  assert.ok(!names(alice).includes('bob.exe'));
  assert.ok((gossipStats(alice)['bad-signature'] ?? 0) >= 2);
});

test('honest peers relaying and syncing many statements are never banned', { timeout: 30_000 }, async () => {
  const net = createMemoryNetwork();
  const [alice, bob, carol] = (await room('hostile-honest', 3, net)) as [Member, Member, Member];
  // Bob relays (as a forwarder in a sparser mesh would) many statements Alice signed, each more than once.
  const byAlice = await Promise.all([...Array(400)].map((_, i) => signed(alice.identity, randomFile(1000, `alice-${i}`), { hops: MAX_HOPS - 1 })));
  for (const a of [...byAlice, ...byAlice]) sendRaw(bob, carol, encodeFrame({ type: 'gossip', json: a }));
  // ...and then syncs them all to Carol again, as on a new link: catalogue frames packed by bytes.
  const chunks = packByBytes(byAlice, MAX_JSON_BYTES, () => assert.fail('nothing is oversize'));
  assert.ok(chunks.length > 1, 'several catalogue frames');
  for (const chunk of chunks) sendRaw(bob, carol, encodeFrame({ type: 'catalogue', json: chunk }));
  const judged = () => (gossipStats(carol).accepted ?? 0) + (gossipStats(carol).duplicate ?? 0);
  await eventually(() => judged() >= 3 * byAlice.length, 'every copy to be judged');
  assert.equal(gossipStats(carol).accepted, byAlice.length, 'each statement counted once');
  const listed = new Set(names(carol)); // getState() once: it rebuilds every file's view
  assert.ok(byAlice.every((a) => listed.has(a.file.name)));

  // Real engines: Alice shares many files; Dave joins late and is synced by both Alice and Bob.
  await alice.engine.share([...Array(60)].map((_, i) => fileOf(new Uint8Array(randomBytes(100)), `shared-${i}.txt`, 'text/plain')));
  for (const p of [bob, carol]) await until(p.engine, () => names(p).filter((n) => n.startsWith('shared-')).length === 60, 'Alice\'s files');
  const dave = await start(net, 'hostile-honest', 'Dave');
  await until(dave.engine, () => linkedTo(dave, 3), 'Dave to link to everyone');
  await until(dave.engine, () => names(dave).length === byAlice.length + 60, 'Dave to learn the whole catalogue');
  assert.ok((gossipStats(dave).duplicate ?? 0) > 0, 'Dave heard the same statements from several neighbours');

  const everyone = [alice, bob, carol, dave];
  for (const at of everyone) {
    for (const who of everyone) if (who !== at) assert.equal(isBanned(at, who), false, `${at.id} banned ${who.id}`);
    assert.equal(at.engine.getState().notices.some((n) => n.text.startsWith('Disconnected')), false);
  }
});

test('frames naming pieces past the end of a known file get the sender disconnected', { timeout: 20_000 }, async () => {
  const [alice, bob, carol] = (await room('hostile-range', 3)) as [Member, Member, Member];
  await alice.engine.share([fileOf(new Uint8Array(randomBytes(300_000)), 'small.bin')]);
  const id = alice.engine.getState().files[0]!.meta.id;
  await until(bob.engine, () => bob.engine.getState().files.length === 1, 'the announcement at Bob');
  await until(carol.engine, () => carol.engine.getState().files.length === 1, 'the announcement at Carol');
  sendRaw(bob, alice, encodeFrame({ type: 'request', fileId: id, piece: 7 })); // the file has 2 pieces
  sendRaw(carol, alice, encodeFrame({ type: 'have', fileId: id, piece: 4000 }));
  await until(alice.engine, () => isBanned(alice, bob) && isBanned(alice, carol), 'both to be dropped');
  assert.ok(alice.engine.getState().notices.some((n) => n.text.includes('past the end of the file')));
});

test('lazy gossip reaches the engine: an IWANT is answered once, a malformed IHAVE gets its sender banned', { timeout: 20_000 }, async () => {
  const [alice, bob, mallory] = (await room('lazy-frames', 3)) as [Member, Member, Member];
  await alice.engine.share([fileOf(new Uint8Array(randomBytes(1000)), 'lazy.txt', 'text/plain')]);
  await until(bob.engine, () => names(bob).includes('lazy.txt'), 'the announcement at Bob');
  const a = alice.engine.internals.catalogue.announcements()[0]!;
  const want = encodeFrame({ type: 'iwant', json: [`${a.origin}:${a.file.id}:${a.seq}`] });
  const before = gossipStats(bob).duplicate ?? 0;
  sendRaw(bob, alice, want);
  sendRaw(bob, alice, want); // asked twice at once: answered once
  await eventually(() => gossipStats(bob).duplicate === before + 1, 'Alice\'s answer (a copy Bob already holds)');
  sendRaw(mallory, alice, encodeFrame({ type: 'ihave', json: ['not an id'] }));
  await until(alice.engine, () => isBanned(alice, mallory), 'Mallory to be banned');
  assert.equal(isBanned(alice, bob), false);
  assert.equal(gossipStats(bob).duplicate, before + 1);
});

test('a peer on another wire version (an old cached app) is told apart from a hostile one: link closed, no ban, a notice, no retry storm', { timeout: 30_000 }, async () => {
  const net = createMemoryNetwork();
  const alice = await start(net, 'room-versions', 'Alice');
  // Bob's app is another version: his HELLO (type 0x01, then the version byte) says so.
  const bob = await start(net, 'room-versions', 'Bob', {
    deps: {
      createConnection: (opts, handlers) => {
        const link = net.factory(opts, handlers);
        const send = link.send.bind(link);
        link.send = (frame) => send(frame[0] === 0x01 ? Uint8Array.from(frame, (b, i) => (i === 1 ? b + 1 : b)) : frame);
        return link;
      },
    },
  });
  const told = (p: NodePeer) => p.engine.getState().notices.some((n) => n.text.includes('another version of meshdrop'));
  await until(alice.engine, () => told(alice), 'Alice to be told');
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // whatever retries come, come now
  assert.ok(!isBanned(alice, bob) && !isBanned(bob, alice), 'nobody is banned for running another version');
  assert.deepEqual(alice.engine.internals.marks.banned(), [], 'nothing remembered against Bob in this room');
  // Alice does not retry; Bob (whose own check passes in this fake) retries a bounded few times at most.
  assert.ok(net.conns.length <= 2 * (MAX_RETRIES + 1), `${net.conns.length} connections made`);
  for (const p of [alice, bob]) p.engine.close();
});
