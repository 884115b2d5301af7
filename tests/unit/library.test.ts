import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../../src/core/bitfield.ts';
import { createMemoryStore, type MemoryStore } from '../../src/storage/memory-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { holdWhole, makeTestFile, newLibrary, settle, slowStore } from './helpers/library-fixture.ts';

/**
 * The Library over the in-memory store: what it promises about storage is
 * checked against the store itself (its pieces and records), not against the
 * library's own idea of them.
 */
/** A hang (a flush that never settles) fails the test instead of stalling the run. */
const LIMIT = { timeout: 20_000 };
const piecesOf = (store: MemoryStore, fileId: string) => store.pieceKeys().filter((k) => k.startsWith(`${fileId}:`));
const haveOnDisk = async (store: Store, fileId: string) => (await store.getFile(fileId))?.have;

test('remove() against queued writes: nothing of the file is left, and no write claims success', LIMIT, async () => {
  const store = createMemoryStore();
  const { library, reported } = newLibrary(store);
  const f = await makeTestFile(6);
  const local = await library.addDownload(f.meta, f.manifest);
  const writes = [...Array(6)].map((_, i) => library.storePiece(local, i, f.piece(i)));
  await library.remove(f.meta.id);
  assert.deepEqual(await Promise.all(writes), [false, false, false, false, false, false]);
  assert.deepEqual(piecesOf(store, f.meta.id), []);
  assert.deepEqual(store.fileIds(), []);
  assert.deepEqual(await store.listFiles(), []);
  assert.equal(library.get(f.meta.id), undefined);
  assert.equal(await library.storePiece(local, 0, f.piece(0)), false, 'the old handle writes nothing any more');
  await settle();
  assert.deepEqual(piecesOf(store, f.meta.id), []);
  assert.deepEqual(reported.persistFailed, []);
});

test('remove() at any point of the writes: what resolved true before it is deleted too, nothing resolves true after', LIMIT, async () => {
  const f = await makeTestFile(5);
  for (const [pieceDelay, turns] of [0, 4, 12].flatMap((d) => [...Array(3 * d + 8)].map((_, t) => [d, t] as const))) {
    const store = slowStore({ pieces: () => pieceDelay });
    const { library } = newLibrary(store);
    const local = await library.addDownload(f.meta, f.manifest);
    const writes = [0, 1, 2, 3, 4].map((i) => library.storePiece(local, i, f.piece(i)));
    for (let t = 0; t < turns; t++) await Promise.resolve();
    // storePiece marks the bit in the same step it resolves true: these are the writes done before removal.
    const doneBefore = [0, 1, 2, 3, 4].map((i) => local.have.get(i));
    await library.remove(f.meta.id);
    const written = await Promise.all(writes);
    assert.deepEqual(written.map((w, i) => w && !doneBefore[i]), [false, false, false, false, false], `piece writes of ${pieceDelay} turns, removal after ${turns}`);
    assert.deepEqual(piecesOf(store, f.meta.id), [], `piece writes of ${pieceDelay} turns, removal after ${turns}`);
    assert.deepEqual(store.fileIds(), [], `piece writes of ${pieceDelay} turns, removal after ${turns}`);
  }
});

test('the same file downloaded again right after remove() starts empty and keeps its pieces', LIMIT, async () => {
  const store = createMemoryStore();
  const { library } = newLibrary(store);
  const f = await makeTestFile(4);
  const old = await library.addDownload(f.meta, f.manifest);
  const oldWrites = [0, 1, 2].map((i) => library.storePiece(old, i, f.piece(i)));
  const removed = library.remove(f.meta.id);
  const fresh = await library.addDownload(f.meta, f.manifest); // not awaiting remove: it waits by itself
  assert.notEqual(fresh, old);
  assert.equal(fresh.have.count, 0);
  assert.equal(await library.storePiece(fresh, 3, f.piece(3)), true);
  await removed;
  await Promise.all(oldWrites);
  await library.flush();
  assert.deepEqual(piecesOf(store, f.meta.id), [`${f.meta.id}:3`]);
  const bits = new Bitfield(4, await haveOnDisk(store, f.meta.id));
  assert.deepEqual([0, 1, 2, 3].map((i) => bits.get(i)), [false, false, false, true]);
  assert.deepEqual([...(await library.readPiece(f.meta.id, 3))!], [...f.piece(3)]);
});

/** A memory store whose getPiece throws the first `failures` times it is called. */
function flakyReads(failures: number): MemoryStore {
  const base = createMemoryStore();
  let calls = 0;
  return {
    ...base,
    async getPiece(fileId, index) {
      if (calls++ < failures) throw new Error(`read error ${calls}`);
      return base.getPiece(fileId, index);
    },
  };
}

async function storedFile(store: Store, pieces = 3) {
  const { library, reported } = newLibrary(store);
  const f = await makeTestFile(pieces);
  const local = await library.addDownload(f.meta, f.manifest);
  for (let i = 0; i < pieces; i++) assert.equal(await library.storePiece(local, i, f.piece(i)), true);
  await library.flush();
  return { library, reported, f, local, store };
}

test('a read that fails twice then works returns the piece and keeps the bit', LIMIT, async () => {
  const { library, reported, f, local } = await storedFile(flakyReads(2));
  const data = await library.readPiece(f.meta.id, 1);
  assert.deepEqual([...data!], [...f.piece(1)]);
  assert.ok(local.have.get(1));
  assert.deepEqual(reported.readFailed, []);
  assert.deepEqual(reported.lost, []);
});

test('a read that always fails is reported, and the piece stays ours', LIMIT, async () => {
  const { library, reported, f, local, store } = await storedFile(flakyReads(Infinity));
  assert.equal(await library.readPiece(f.meta.id, 2), undefined);
  assert.ok(local.have.get(2), 'never demoted on read errors');
  assert.equal(reported.readFailed.length, 1);
  assert.equal(reported.readFailed[0]!.index, 2);
  assert.match(reported.readFailed[0]!.why, /read error/);
  assert.deepEqual(reported.lost, []);
  await library.flush();
  assert.ok(new Bitfield(3, await haveOnDisk(store, f.meta.id)).get(2));
});

for (const damage of ['dropPiece', 'corruptPiece'] as const) {
  test(`a piece storage lost (${damage}) is no longer claimed, on disk too, and the owner is told`, LIMIT, async () => {
    const store = createMemoryStore();
    const { library, reported, f, local } = await storedFile(store);
    store[damage](f.meta.id, 1);
    assert.equal(await library.readPiece(f.meta.id, 1), undefined);
    assert.equal(local.have.get(1), false);
    assert.ok(local.have.get(0) && local.have.get(2));
    assert.deepEqual(reported.lost.map((l) => l.index), [1]);
    assert.deepEqual(reported.readFailed, []);
    await library.flush();
    const bits = new Bitfield(3, await haveOnDisk(store, f.meta.id));
    assert.deepEqual([bits.get(0), bits.get(1), bits.get(2)], [true, false, true]);
  });
}

test('no record write is lost: after flush() the stored bitfield is the one in memory', LIMIT, async () => {
  const f = await makeTestFile(24);
  for (let pattern = 1; pattern <= 6; pattern++) {
    let turn = 0;
    const store = slowStore({ records: () => (turn++ * pattern) % 7 });
    const { library, reported } = newLibrary(store);
    const local = await library.addDownload(f.meta, f.manifest);
    const writes: Promise<boolean>[] = [];
    for (let i = 0; i < f.manifest.pieceCount; i += pattern % 2 === 0 ? 2 : 1) {
      writes.push(library.storePiece(local, i, f.piece(i)));
      for (let y = (i * pattern) % 5; y > 0; y--) await Promise.resolve();
      if (i % pattern === 0) await writes.at(-1);
    }
    assert.ok((await Promise.all(writes)).every(Boolean));
    await library.flush();
    assert.deepEqual([...(await haveOnDisk(store, f.meta.id))!], [...local.have.bytes], `pattern ${pattern}`);
    assert.deepEqual(reported.persistFailed, []);
  }
});

test('no change is lost between the last record write and the end of the write loop (every timing)', LIMIT, async () => {
  const f = await makeTestFile(2);
  for (let delay = 0; delay <= 3; delay++) {
    for (let turns = 0; turns <= 4 * delay + 12; turns++) {
      const store = slowStore({ records: () => delay });
      const { library } = newLibrary(store);
      const local = await library.addDownload(f.meta, f.manifest);
      library.setSaveWanted(f.meta.id, true); // a record write is running now
      for (let t = 0; t < turns; t++) await Promise.resolve();
      assert.equal(await library.storePiece(local, 1, f.piece(1)), true);
      await library.flush();
      const record = (await store.getFile(f.meta.id))!;
      assert.deepEqual([...record.have], [...local.have.bytes], `record delay ${delay}, piece after ${turns} turns`);
      assert.equal(record.saveWanted, true);
    }
  }
});

test('rooms: a file of room A is kept but not offered in room B until added; deleted when no room is left', LIMIT, async () => {
  const store = createMemoryStore();
  const f = await makeTestFile(3);
  const a = newLibrary(store, 'room-A').library;
  const imported = await holdWhole(a, f, 'a.bin');
  assert.equal(imported.meta.id, f.meta.id);

  const b = newLibrary(store, 'room-B').library;
  await b.load();
  assert.equal(b.inRoom(f.meta.id), undefined);
  assert.deepEqual(b.all().map((x) => x.meta.id), [f.meta.id]);
  assert.deepEqual(b.roomFiles(), []);
  assert.ok(b.addToRoom(f.meta.id));
  assert.ok(b.inRoom(f.meta.id));
  await b.flush();
  assert.deepEqual((await store.getFile(f.meta.id))!.rooms, ['room-A', 'room-B']);

  assert.equal(await b.leaveRoom(f.meta.id), false, 'room A still has it');
  await b.flush();
  assert.equal(piecesOf(store, f.meta.id).length, 3);
  assert.deepEqual((await store.getFile(f.meta.id))!.rooms, ['room-A']);

  const a2 = newLibrary(store, 'room-A').library;
  await a2.load();
  assert.ok(a2.inRoom(f.meta.id));
  assert.equal(await a2.leaveRoom(f.meta.id), true);
  assert.deepEqual(piecesOf(store, f.meta.id), []);
  assert.deepEqual(store.fileIds(), []);
});

test('load() drops a record whose id is not its size and hashes (an older format), with its pieces', LIMIT, async () => {
  const store = createMemoryStore();
  const good = await makeTestFile(2, 1);
  const old = await makeTestFile(2, 2);
  const { library: writer } = newLibrary(store);
  for (const f of [good, old]) {
    const local = await writer.addDownload(f.meta, f.manifest);
    for (let i = 0; i < 2; i++) await writer.storePiece(local, i, f.piece(i));
  }
  await writer.flush();
  // The older format: same pieces and hashes, but an id computed another way.
  const record = (await store.getFile(old.meta.id))!;
  const staleId = 'ab'.repeat(32);
  await store.deleteRecord(old.meta.id);
  await store.putFile({ ...record, meta: { ...record.meta, id: staleId } });
  await store.putPieces(staleId, [0, 1].map((index) => ({ index, data: old.piece(index) })));

  const { library } = newLibrary(store);
  const loaded = await library.load();
  assert.equal(loaded.dropped, 1);
  assert.deepEqual(loaded.files.map((f) => f.meta.id), [good.meta.id]);
  assert.deepEqual(store.fileIds().sort(), [good.meta.id, old.meta.id].filter((id) => id !== old.meta.id));
  assert.deepEqual(piecesOf(store, staleId), []);
  assert.equal(piecesOf(store, good.meta.id).length, 2);
  assert.equal(library.get(staleId), undefined);
});

test('discard never deletes what another tab serves in another room: it leaves this room only', LIMIT, async () => {
  const store = createMemoryStore();
  const f = await makeTestFile(2);
  const a = newLibrary(store, 'room-A').library;
  await holdWhole(a, f, 'a.bin');
  // Another tab has room A open: B's Remove keeps the bytes, for A.
  const asked: string[][] = [];
  const b = newLibrary(store, 'room-B', () => 0, async (rooms) => (asked.push(rooms), true)).library;
  await b.load();
  b.addToRoom(f.meta.id);
  await b.flush();
  assert.equal(await b.discard(f.meta.id), 'kept');
  assert.deepEqual(asked, [['room-A']], 'asked about the other rooms only');
  assert.equal(piecesOf(store, f.meta.id).length, 2);
  assert.deepEqual((await store.getFile(f.meta.id))!.rooms, ['room-A']);

  // Nobody has room A open: the same Remove deletes it.
  const b2 = newLibrary(store, 'room-B', () => 0, async () => false).library;
  await b2.load();
  b2.addToRoom(f.meta.id);
  assert.equal(await b2.discard(f.meta.id), 'deleted');
  assert.deepEqual(piecesOf(store, f.meta.id), []);
  assert.deepEqual(store.fileIds(), []);
});
