import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { fromHex } from '../../src/core/bytes.ts';
import { decodeFrame, MANIFEST_PIECE, RejectReason, type WireMessage } from '../../src/core/wire/frames.ts';
import { createMemoryStore } from '../../src/storage/memory-store.ts';
import { assertNeverLearned, contains } from './helpers/audience-check.ts';
import { createMemoryNetwork, type MemoryConn, type MemoryNetwork } from './helpers/memory-net.ts';
import { blobSha256, fileOf, newTestIdentity, testRelay, until, type NodePeer } from './helpers/node-peer.ts';

/**
 * Share with chosen people (app/audience.ts, core/gossip/audience.ts) with
 * real engines over in-memory links and a real relay: who hears of a file,
 * who is served it, and who is answered as if it did not exist.
 */
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const relay = testRelay();

const fileView = (p: NodePeer, name: string) => p.engine.getState().files.find((f) => f.meta.name === name);
const linkedTo = (p: NodePeer, ...others: NodePeer[]) => () => others.every((o) => p.engine.internals.sessions.get(o.id)?.ready ?? false);
const linkBetween = (from: NodePeer, to: NodePeer) => from.engine.internals.sessions.get(to.id)!.link as unknown as MemoryConn;

/** Every frame `from` sends `to` from now on, decoded, and the raw bytes. */
function tap(from: NodePeer, to: NodePeer): { frames: WireMessage[]; raw: Uint8Array[] } {
  const seen = { frames: [] as WireMessage[], raw: [] as Uint8Array[] };
  linkBetween(from, to).mangle = (frame) => {
    seen.raw.push(frame);
    const m = decodeFrame(frame);
    if (m.ok) seen.frames.push(m.value);
    return frame;
  };
  return seen;
}

/** Polls until `check` holds: answers to a crafted ask change nothing the engine's subscribers would hear of. */
async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !check(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

async function room(net: MemoryNetwork, topic: string, names: string[]): Promise<NodePeer[]> {
  const peers: NodePeer[] = [];
  for (const name of names) peers.push(await relay.start(net, { name, room: topic }));
  for (const p of peers) await until(p.engine, linkedTo(p, ...peers.filter((o) => o !== p)), `${p.engine.getState().self.name} to link to everyone`);
  return peers;
}

describe('share with chosen people', () => {
  test('Alice shares with Bob only: Bob gets it intact, Carol never learns of it and is refused as for a file that does not exist; widened to the room, Carol gets it', { timeout: 60_000 }, async () => {
    const net = createMemoryNetwork();
    const [alice, bob, carol] = (await room(net, 'aud-1', ['Alice', 'Bob', 'Carol'])) as [NodePeer, NodePeer, NodePeer];
    const fromAlice = tap(alice, carol);
    const fromBob = tap(bob, carol);
    const original = new Uint8Array(randomBytes(1024 * 1024 + 7));
    await alice.engine.share([fileOf(original, 'secret-plan.bin')], [bob.id]);
    await until(bob.engine, () => fileView(bob, 'secret-plan.bin') !== undefined, 'Bob to hear of it');
    const id = fileView(bob, 'secret-plan.bin')!.meta.id;
    assert.deepEqual(fileView(bob, 'secret-plan.bin')!.meta.audience, [alice.id, bob.id].sort());
    assert.equal(await bob.engine.download(id), true);
    assert.equal(await blobSha256((await bob.engine.save(id))!.blob), sha(original));
    await until(alice.engine, () => fileView(alice, 'secret-plan.bin')!.holders.some((h) => h.id === bob.id), 'Bob\'s add to reach Alice');

    // Carol's engine, and every byte Alice and Bob sent her, never name the file.
    assertNeverLearned(carol, id, 'secret-plan.bin');
    for (const frame of [...fromAlice.raw, ...fromBob.raw]) {
      assert.ok(!contains(frame, fromHex(id)!), 'a frame to Carol holds the id');
      assert.ok(!contains(frame, new TextEncoder().encode('secret-plan')), 'a frame to Carol holds the name');
    }

    // Carol guesses the id and asks: the answer is the one for an id nobody has.
    const unknown = sha(new Uint8Array(randomBytes(32)));
    fromAlice.frames.length = 0;
    const toAlice = carol.engine.internals.sessions.get(alice.id)!;
    for (const fileId of [id, unknown]) {
      toAlice.send({ type: 'want-manifest', fileId });
      toAlice.send({ type: 'request', fileId, piece: 0 });
      toAlice.send({ type: 'request', fileId, piece: 4000 }); // past the end: proof, were the file one she may know of
      toAlice.send({ type: 'bitfield', fileId, bits: new Uint8Array(100) }); // the wrong length: proof, were the file one she may know of
    }
    await eventually(() => fromAlice.frames.filter((m) => m.type === 'reject').length >= 6, 'Alice\'s answers');
    const answers = (fileId: string) => fromAlice.frames.filter((m) => 'fileId' in m && m.fileId === fileId).map((m) => ({ ...m, fileId: 'x' }));
    assert.deepEqual(answers(id), answers(unknown), 'the same answers for her file and a made-up one');
    assert.deepEqual(answers(id).map((m) => m.type === 'reject' && [m.piece, m.reason]), [
      [MANIFEST_PIECE, RejectReason.notFound], [0, RejectReason.notFound], [4000, RejectReason.notFound],
    ]);
    assert.ok(alice.engine.stats().audienceRefused >= 3, 'counted');
    // She claims to hold it (a bitfield of the right length, a HAVE): dropped and counted, never shown as a holder.
    const pieces = alice.engine.internals.library.get(id)!.manifest.pieceCount;
    const outside = alice.engine.stats().audienceOutsideHaves;
    toAlice.send({ type: 'bitfield', fileId: id, bits: new Uint8Array(Math.ceil(pieces / 8)).fill(255) });
    toAlice.send({ type: 'have', fileId: id, piece: 1 });
    await eventually(() => alice.engine.stats().audienceOutsideHaves >= outside + 2, 'her claims to be dropped');
    assert.ok(!fileView(alice, 'secret-plan.bin')!.holders.some((h) => h.id === carol.id), 'Carol is no holder on Alice\'s row');
    assert.deepEqual(alice.engine.internals.availability.peersWith(id).filter((p) => p === carol.id), []);
    assert.ok(alice.engine.internals.sessions.get(carol.id)?.ready, 'Carol is not banned for asking');
    assertNeverLearned(carol, id, 'secret-plan.bin');

    // Widened to the whole room: Carol sees it, and both holders serve her.
    alice.engine.widen(id, 'room');
    await until(carol.engine, () => (fileView(carol, 'secret-plan.bin')?.holders.length ?? 0) === 2, 'Carol to see it held by both');
    assert.equal(bob.engine.internals.library.get(id)!.meta.audience, undefined, 'Bob\'s copy widened with it');
    assert.equal(await carol.engine.download(id), true);
    assert.equal(await blobSha256((await carol.engine.save(id))!.blob), sha(original));
  });

  test('Bob re-serves only within the audience, after a reload too: Dave (chosen) fetches from him, Carol (joining later) never hears of it', { timeout: 60_000 }, async () => {
    const net = createMemoryNetwork();
    const bobIdentity = newTestIdentity();
    const bobStore = createMemoryStore();
    const alice = await relay.start(net, { name: 'Alice', room: 'aud-2' });
    let bob = await relay.start(net, { name: 'Bob', room: 'aud-2', identity: bobIdentity, store: bobStore });
    const dave = await relay.start(net, { name: 'Dave', room: 'aud-2' });
    await until(alice.engine, linkedTo(alice, bob, dave), 'Alice to link');
    const original = new Uint8Array(randomBytes(600 * 1024));
    await alice.engine.share([fileOf(original, 'for-two.bin')], [bob.id, dave.id]);
    await until(bob.engine, () => fileView(bob, 'for-two.bin') !== undefined, 'Bob to hear of it');
    const id = fileView(bob, 'for-two.bin')!.meta.id;
    assert.equal(await bob.engine.download(id), true);

    // Alice leaves, Bob reloads: his record keeps the audience, and he tells Dave alone that he holds it.
    alice.engine.close();
    await until(dave.engine, () => !fileView(dave, 'for-two.bin')?.holders.some((h) => h.id === alice.id), 'Alice to be gone');
    bob.engine.close();
    bob = await relay.start(net, { name: 'Bob', room: 'aud-2', identity: bobIdentity, store: bobStore });
    const carol = await relay.start(net, { name: 'Carol', room: 'aud-2' });
    await until(bob.engine, linkedTo(bob, dave, carol), 'Bob to link to Dave and Carol');
    await until(dave.engine, () => fileView(dave, 'for-two.bin')?.holders.some((h) => h.id === bob.id) ?? false, 'Bob\'s add to reach Dave');
    assert.deepEqual(bob.engine.internals.library.get(id)!.meta.audience, [alice.id, bob.id, dave.id].sort());
    assert.equal(await dave.engine.download(id), true);
    assert.equal(await blobSha256((await dave.engine.save(id))!.blob), sha(original));

    const toBob = carol.engine.internals.sessions.get(bob.id)!;
    const fromBob = tap(bob, carol);
    toBob.send({ type: 'want-manifest', fileId: id });
    toBob.send({ type: 'request', fileId: id, piece: 0 });
    await eventually(() => fromBob.frames.filter((m) => m.type === 'reject').length >= 2, 'Bob\'s answers');
    assert.deepEqual(fromBob.frames.map((m) => m.type), ['reject', 'reject'], 'refused, nothing else');
    assertNeverLearned(carol, id, 'for-two.bin');
  });

  test('widened to Dave while Bob downloads: Dave hears of it, and Bob\'s partial copy serves him', { timeout: 60_000 }, async () => {
    const net = createMemoryNetwork();
    const [alice, bob, dave] = (await room(net, 'aud-3', ['Alice', 'Bob', 'Dave'])) as [NodePeer, NodePeer, NodePeer];
    const original = new Uint8Array(randomBytes(2 * 1024 * 1024));
    await alice.engine.share([fileOf(original, 'growing.bin')], [bob.id]);
    await until(bob.engine, () => fileView(bob, 'growing.bin') !== undefined, 'Bob to hear of it');
    const id = fileView(bob, 'growing.bin')!.meta.id;
    const bobDone = bob.engine.download(id);
    await until(bob.engine, () => (bob.engine.internals.library.get(id)?.have.count ?? 0) > 0, 'Bob to hold a piece');
    assert.equal(fileView(dave, 'growing.bin'), undefined);
    alice.engine.widen(id, [dave.id]);
    await until(dave.engine, () => fileView(dave, 'growing.bin') !== undefined, 'Dave to hear of it');
    assert.deepEqual(fileView(dave, 'growing.bin')!.meta.audience, [alice.id, bob.id, dave.id].sort());
    assert.equal(await bobDone, true);
    await until(bob.engine, () => bob.engine.internals.library.get(id)!.meta.audience?.length === 3, 'Bob\'s copy to widen');
    assert.equal(await dave.engine.download(id), true);
    assert.equal(await blobSha256((await dave.engine.save(id))!.blob), sha(original));
  });

  test('Share with… for bytes already shared with the whole room: it stays public, and the person is told so', async () => {
    const net = createMemoryNetwork();
    const [alice, bob] = (await room(net, 'aud-5', ['Alice', 'Bob'])) as [NodePeer, NodePeer];
    const bytes = new Uint8Array(randomBytes(300 * 1024));
    await alice.engine.share([fileOf(bytes, 'open.bin')]);
    const told = () => alice.engine.getState().notices.filter((n) => n.text.includes('already shared with everyone'));
    assert.deepEqual(told(), []);
    await alice.engine.share([fileOf(bytes, 'open-again.bin')], [bob.id]);
    const held = alice.engine.internals.library.get(fileView(alice, 'open-again.bin')!.meta.id)!;
    assert.equal(held.meta.audience, undefined, 'still the whole room\'s');
    assert.equal(told().length, 1);
    assert.match(told()[0]!.text, /^open-again\.bin is already shared with everyone in this room/);
    // A file shared with chosen people and shared again with others widens quietly: no such notice.
    const other = new Uint8Array(randomBytes(300 * 1024));
    await alice.engine.share([fileOf(other, 'few.bin')], [bob.id]);
    await alice.engine.share([fileOf(other, 'few.bin')], [newTestIdentity().id]);
    assert.equal(told().length, 1);
  });

  test('a large file shared as a draft: its draft id, final id and signed hashes reach Bob only', { timeout: 60_000 }, async () => {
    const net = createMemoryNetwork();
    const [alice, bob, carol] = (await room(net, 'aud-4', ['Alice', 'Bob', 'Carol'])) as [NodePeer, NodePeer, NodePeer];
    const fromAlice = tap(alice, carol);
    const fromBob = tap(bob, carol);
    const seenByBob = new Set<string>();
    bob.engine.subscribe(() => bob.engine.getState().files.forEach((f) => seenByBob.add(f.meta.id)));
    const original = new Uint8Array(randomBytes(6 * 1024 * 1024 + 5));
    const shared = alice.engine.share([fileOf(original, 'big-draft.bin')], [bob.id]);
    await until(bob.engine, () => fileView(bob, 'big-draft.bin')?.preparing ?? false, 'Bob to see the draft');
    const draftId = fileView(bob, 'big-draft.bin')!.meta.id;
    assert.equal(await bob.engine.download(draftId), true);
    await shared;
    await until(bob.engine, () => fileView(bob, 'big-draft.bin')?.preparing === false, 'the draft to become its file');
    const id = fileView(bob, 'big-draft.bin')!.meta.id;
    assert.notEqual(id, draftId);
    assert.equal(await blobSha256((await bob.engine.save(id))!.blob), sha(original));
    assert.deepEqual(bob.engine.internals.library.get(id)!.meta.audience, [alice.id, bob.id].sort(), 'the final file keeps the audience');
    for (const fileId of seenByBob) {
      assertNeverLearned(carol, fileId, 'big-draft.bin');
      for (const frame of [...fromAlice.raw, ...fromBob.raw]) assert.ok(!contains(frame, fromHex(fileId)!), 'a frame to Carol holds an id');
    }
    assert.ok(fromAlice.frames.every((m) => m.type !== 'draft-hashes' && m.type !== 'have'));
  });
});
