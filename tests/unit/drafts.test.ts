import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toBase64Url } from '../../src/core/bytes.ts';
import { MIN_PIECE_SIZE } from '../../src/core/manifest/manifest.ts';
import { createMemoryStore } from '../../src/storage/memory-store.ts';
import { signAnnouncement } from '../../src/core/gossip/announcement.ts';
import { encodeFrame } from '../../src/core/wire/frames.ts';
import { blobSha256, fileOf, newTestIdentity, testRelay, until, type NodePeer } from './helpers/node-peer.ts';
import { createMemoryNetwork } from './helpers/memory-net.ts';
import { bytesOf, draftPair, draftRow, gatedStore, held, linkBetween, rowNamed, sha } from './helpers/draft-fixture.ts';

/**
 * Drafts through real engines over a real relay and in-memory links: a
 * dropped file is listed and fetchable at once, while its sharer still
 * hashes and stores it (app/draft-share.ts, app/draft-fetch.ts). The
 * sharer's storage is gated so each order of events happens every time:
 * the draft final before the friend clicks, while it downloads, after its
 * copy is complete; the sharer gone mid-way; the friend reloaded,
 * cancelled and restarted; two drafts; the same bytes twice.
 */
const relay = testRelay();
const PIECES = 20; // over DIRECT_BYTES: shared as a draft
const SIZE = (PIECES - 1) * MIN_PIECE_SIZE + 777;
const T = { timeout: 40_000 };

/** The one file `p` ends with: its id is the content id (no draft left in memory or in storage). */
async function endsWithFinal(p: NodePeer, original: Uint8Array, name: string) {
  await until(p.engine, () => {
    const r = rowNamed(p, name);
    return !!r && !r.preparing && r.status === 'complete';
  }, `${name} final and complete`);
  const row = rowNamed(p, name)!;
  const saved = await p.engine.save(row.meta.id);
  assert.equal(await blobSha256(saved!.blob), sha(original));
  assert.deepEqual(p.engine.internals.library.all().map((f) => f.meta.id), [row.meta.id], 'one file, the final one');
  const records = await p.store.listFiles();
  assert.deepEqual(records.map((r) => r.meta.id), [row.meta.id], 'one record, the final one');
  return row.meta.id;
}

describe('drafts: shared before they are hashed', () => {
  test('listed at once; the friend fetches verified pieces while the sharer still imports; the draft turns final mid-download', T, async () => {
    const gate = gatedStore(3);
    const { alice, bob } = await draftPair(relay, createMemoryNetwork(), 'draft-during', gate);
    const original = bytesOf(SIZE);
    const shared = alice.engine.share([fileOf(original, 'big.bin')]);
    const draftId = await draftRow(bob, 'big.bin');
    assert.equal(rowNamed(alice, 'big.bin')!.status, 'importing');
    assert.equal(rowNamed(bob, 'big.bin')!.status, 'available');
    const done = bob.engine.download(draftId);
    await until(bob.engine, () => held(bob, draftId) >= 3, 'Bob to store the first pieces');
    assert.equal(rowNamed(alice, 'big.bin')!.status, 'importing', 'the sharer is still importing');
    assert.ok(bob.engine.stats().downloads[draftId]!.piecesReceived >= 3);
    gate.allow(Infinity);
    await shared;
    assert.equal(await done, true, 'the download that began as a draft completes as the final file');
    const fileId = await endsWithFinal(bob, original, 'big.bin');
    assert.equal(await endsWithFinal(alice, original, 'big.bin'), fileId);
    assert.equal(bob.engine.stats().downloads[draftId]!.status, 'migrated');
    // The friend holds the final file whole now, and the room hears so.
    await until(alice.engine, () => rowNamed(alice, 'big.bin')!.holders.length === 2, 'Bob listed as a holder of the final file');
    const imports = alice.engine.stats().imports;
    assert.equal(imports.length, 1);
    assert.equal(imports[0]!.draftId, draftId);
    assert.equal(imports[0]!.fileId, fileId);
    assert.ok(imports[0]!.startedAt <= imports[0]!.hashedAt! && imports[0]!.hashedAt! <= imports[0]!.storedAt!);
  });

  test('final before the friend clicks: only the final file is listed, and it downloads as any file', T, async () => {
    const gate = gatedStore();
    const { alice, bob } = await draftPair(relay, createMemoryNetwork(), 'draft-before', gate);
    const original = bytesOf(SIZE);
    await alice.engine.share([fileOf(original, 'early.bin')]);
    await until(bob.engine, () => { const r = rowNamed(bob, 'early.bin'); return !!r && !r.preparing; }, 'the final file listed');
    assert.equal(bob.engine.getState().files.length, 1, 'the draft is gone from the list');
    assert.equal(await bob.engine.download(rowNamed(bob, 'early.bin')!.meta.id), true);
    await endsWithFinal(bob, original, 'early.bin');
  });

  test('final after the friend\'s copy is complete: the copy waits unannounced, then becomes the final file', T, async () => {
    const gate = gatedStore();
    gate.holdFinal(true);
    const { alice, bob } = await draftPair(relay, createMemoryNetwork(), 'draft-after', gate);
    const original = bytesOf(SIZE);
    const shared = alice.engine.share([fileOf(original, 'late.bin')]);
    const draftId = await draftRow(bob, 'late.bin');
    assert.equal(await bob.engine.download(draftId), true, 'the verified copy is complete');
    assert.equal(held(bob, draftId), PIECES);
    assert.equal(rowNamed(alice, 'late.bin')!.holders.length, 1, 'a draft copy is never announced');
    gate.holdFinal(false);
    await shared;
    await endsWithFinal(bob, original, 'late.bin');
    await until(alice.engine, () => rowNamed(alice, 'late.bin')!.holders.length === 2, 'Bob announces the final file');
  });

  test('the sharer leaves mid-draft: the copy waits; Cancel deletes what had arrived', T, async () => {
    const gate = gatedStore(4);
    const bobStore = createMemoryStore();
    const { alice, bob } = await draftPair(relay, createMemoryNetwork(), 'draft-gone', gate, bobStore);
    void alice.engine.share([fileOf(bytesOf(SIZE), 'gone.bin')]);
    const draftId = await draftRow(bob, 'gone.bin');
    void bob.engine.download(draftId);
    await until(bob.engine, () => held(bob, draftId) >= 4, 'Bob to store what Alice had');
    alice.engine.close();
    await until(bob.engine, () => bob.engine.internals.catalogue.holders(draftId).length === 0, 'Alice\'s draft gone from the catalogue');
    assert.equal(rowNamed(bob, 'gone.bin')!.status, 'downloading');
    await bob.engine.cancel(draftId);
    assert.equal(rowNamed(bob, 'gone.bin'), undefined);
    assert.deepEqual(bobStore.pieceKeys(), []);
    assert.deepEqual(bobStore.fileIds(), []);
  });

  test('the friend reloads mid-draft: what had arrived is removed, and the draft downloads again', T, async () => {
    const net = createMemoryNetwork();
    const gate = gatedStore(4);
    const bobStore = createMemoryStore();
    const { alice, bob } = await draftPair(relay, net, 'draft-reload', gate, bobStore);
    const original = bytesOf(SIZE);
    const shared = alice.engine.share([fileOf(original, 'reload.bin')]);
    const draftId = await draftRow(bob, 'reload.bin');
    void bob.engine.download(draftId);
    await until(bob.engine, () => held(bob, draftId) >= 4, 'Bob to store some pieces');
    await bob.engine.internals.library.flush();
    bob.engine.close();
    const again = await relay.start(net, { name: 'Bob', room: 'draft-reload', store: bobStore });
    await again.engine.ready;
    assert.equal(again.engine.internals.library.all().length, 0, 'the draft copy is not resumed');
    assert.deepEqual(bobStore.pieceKeys(), []);
    assert.ok(again.engine.getState().notices.some((n) => n.text.includes('still being prepared')));
    await draftRow(again, 'reload.bin');
    const done = again.engine.download(draftId);
    gate.allow(Infinity);
    await shared;
    assert.equal(await done, true);
    await endsWithFinal(again, original, 'reload.bin');
  });

  test('cancel and restart a draft download; two drafts at once; the same bytes dropped twice end as one file', T, async () => {
    const gate = gatedStore(2);
    const { alice, bob } = await draftPair(relay, createMemoryNetwork(), 'draft-two', gate);
    const one = bytesOf(SIZE);
    const two = bytesOf(SIZE - 5000);
    const shared = alice.engine.share([fileOf(one, 'one.bin'), fileOf(two, 'two.bin'), fileOf(one, 'one-again.bin')]);
    const idOne = await draftRow(bob, 'one.bin');
    const idTwo = await draftRow(bob, 'two.bin');
    void bob.engine.download(idOne);
    await until(bob.engine, () => held(bob, idOne) >= 1, 'a piece of one.bin');
    await bob.engine.cancel(idOne);
    assert.equal(held(bob, idOne), 0);
    const doneOne = bob.engine.download(idOne);
    const doneTwo = bob.engine.download(idTwo);
    gate.allow(Infinity);
    await shared;
    assert.deepEqual([await doneOne, await doneTwo], [true, true]);
    const ids = alice.engine.internals.library.all().map((f) => f.meta.id);
    assert.equal(ids.length, 2, 'one file per distinct content');
    assert.deepEqual((await alice.store.listFiles()).length, 2);
    for (const [bytes, names] of [[one, ['one.bin', 'one-again.bin']], [two, ['two.bin']]] as const) {
      const row = bob.engine.getState().files.find((f) => (names as readonly string[]).includes(f.meta.name) && f.status === 'complete' && !f.preparing);
      assert.ok(row, `${names[0]} final at Bob`);
      assert.equal(await blobSha256((await bob.engine.save(row.meta.id))!.blob), sha(bytes));
    }
    await until(bob.engine, () => bob.engine.getState().files.every((f) => !f.preparing), 'no draft left listed');
  });
});

describe('drafts: the same bytes in two shares at once', () => {
  test('both end at once: one file, one stored record, its pieces whole', T, async () => {
    const gate = gatedStore(0);
    const { alice } = await draftPair(relay, createMemoryNetwork(), 'draft-twice-at-once', gate);
    const bytes = bytesOf(SIZE);
    const both = Promise.all([alice.engine.share([fileOf(bytes, 'a.bin')]), alice.engine.share([fileOf(bytes, 'b.bin')])]);
    await until(alice.engine, () => alice.engine.getState().files.filter((f) => f.preparing).length === 2, 'two drafts, storage held');
    gate.allow(Infinity); // both imports store their last pieces and end together
    await both;
    await until(alice.engine, () => alice.engine.getState().files.every((f) => !f.preparing), 'both imports ended');
    const ids = alice.engine.internals.library.all().map((f) => f.meta.id);
    assert.equal(ids.length, 1, 'one file for one content');
    const records = await alice.store.listFiles();
    assert.deepEqual(records.map((r) => r.meta.id), ids, 'its record is stored, and only its');
    assert.equal(await blobSha256((await alice.engine.save(ids[0]!))!.blob), sha(bytes));
  });
});

describe('drafts: who may vouch for one', () => {
  test('a forged range signature is a strike against the origin; nothing unverified is stored', T, async () => {
    const gate = gatedStore();
    gate.holdFinal(true);
    const { alice, bob } = await draftPair(relay, createMemoryNetwork(), 'draft-forged', gate);
    linkBetween(alice, bob).mangle = (frame) => {
      if (frame[0] === 0x12) frame[1 + 32 + 12]! ^= 0xff; // the signature's first byte
      return frame;
    };
    void alice.engine.share([fileOf(bytesOf(SIZE), 'forged.bin')]);
    const draftId = await draftRow(bob, 'forged.bin');
    void bob.engine.download(draftId);
    await until(bob.engine, () => (bob.engine.internals.sessions.get(alice.id)?.strikes ?? 3) > 0, 'a strike');
    assert.equal(held(bob, draftId), 0, 'no piece taken without a signed hash');
  });

  test('a range past the end of the draft is malformed: the link is banned', T, async () => {
    const { alice, bob } = await draftPair(relay, createMemoryNetwork(), 'draft-malformed', gatedStore());
    const frame = new Uint8Array(1 + 32 + 12 + 64 + 64);
    frame[0] = 0x12;
    new DataView(frame.buffer).setUint32(1 + 32 + 4, MIN_PIECE_SIZE); // one piece ...
    new DataView(frame.buffer).setUint32(1 + 32 + 8, 0); // ... and two hashes for it
    alice.engine.internals.sessions.get(bob.id)!.link.send(frame);
    await until(bob.engine, () => bob.engine.internals.peers()!.isBanned(alice.id), 'Alice banned');
    assert.ok(bob.engine.getState().notices.some((n) => n.text.includes('draft hashes')));
  });

  test('a non-origin serving a draft is ignored; one announcing it is refused (the id is bound to its origin)', T, async () => {
    const net = createMemoryNetwork();
    const gate = gatedStore(2);
    const { alice, bob } = await draftPair(relay, net, 'draft-mallory', gate);
    const malloryKey = newTestIdentity();
    const mallory = await relay.start(net, { name: 'Mallory', room: 'draft-mallory', identity: malloryKey });
    await until(bob.engine, () => bob.engine.internals.sessions.get(mallory.id)?.ready ?? false, 'Bob linked to Mallory');
    void alice.engine.share([fileOf(bytesOf(SIZE), 'alice.bin')]);
    const draftId = await draftRow(bob, 'alice.bin');
    void bob.engine.download(draftId);
    const toBob = mallory.engine.internals.sessions.get(bob.id)!;
    toBob.send({ type: 'draft-hashes', fileId: draftId, size: SIZE, first: 0, sig: new Uint8Array(64), hashes: new Uint8Array(32) });
    await until(bob.engine, () => bob.engine.internals.sessions.get(mallory.id)!.lastReceived > 0, 'the range to arrive');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(bob.engine.internals.sessions.get(mallory.id)!.strikes, 0, 'not the origin: ignored, not judged');
    // Mallory claims the draft as hers: a signed add whose nonce does not bind the id to her.
    const meta = { ...rowNamed(bob, 'alice.bin')!.meta, draft: '0'.repeat(32) };
    const a = await signAnnouncement(
      { origin: mallory.id, key: toBase64Url(malloryKey.publicKey), seq: Date.now(), kind: 'add', file: meta, hops: 1 },
      (d) => malloryKey.sign(d),
    );
    toBob.link.send(encodeFrame({ type: 'gossip', json: a }));
    await until(bob.engine, () => bob.engine.internals.peers()!.isBanned(mallory.id), 'Mallory banned');
    assert.deepEqual(bob.engine.internals.catalogue.holders(draftId), [alice.id]);
    gate.allow(Infinity);
  });
});
