import { expect, test, type Page } from '@playwright/test';
import { DESKTOP, download, fileRow, joinRoom, newPage, randomFile, save, sha256, shareFile, startRoom } from './helpers.ts';

/**
 * The stored records of src/storage/idb-store.ts, in a real IndexedDB: a
 * file record keeps its piece hashes under a key of their own (written once,
 * not with every bitfield update). Records written before that hold their
 * hashes inline and must still load and serve; a record whose hashes are lost
 * must be dropped with its pieces, as any damaged record is. Pieces are stored
 * a run of consecutive ones per record (src/storage/runs.ts); one-piece
 * records from before runs must still serve and save. The records are edited
 * with the raw IndexedDB API, from the landing page (no room open, so the app
 * writes no record meanwhile).
 */
const MiB = 1024 * 1024;

type Surgery = 'inline' | 'lose';

/** Rewrites the named file's record as an older one ('inline'), or deletes its hashes ('lose'); returns where its pieces are stored. */
function editRecord(page: Page, name: string, how: Surgery): Promise<string> {
  return page.evaluate(async ({ name, how }) => {
    const req = <T,>(r: IDBRequest<T>) => new Promise<T>((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const db = await req(indexedDB.open('meshdrop-files'));
    const store = db.transaction('files', 'readwrite').objectStore('files');
    const keys = (await req(store.getAllKeys())).filter((k) => typeof k === 'string') as string[];
    const records = await Promise.all(keys.map((k) => req(store.get(k)) as Promise<{ meta: { id: string; name: string }; hashes?: Uint8Array; storeKey?: string }>));
    const record = records.find((r) => r.meta.name === name);
    if (!record) throw new Error(`no record for ${name}`);
    const id = record.meta.id;
    if (record.hashes) throw new Error('the record already holds its hashes inline');
    const hashes = (await req(store.get([id, 'hashes']))) as Uint8Array;
    if (!(hashes instanceof Uint8Array)) throw new Error('no hashes under their own key');
    if (how === 'inline') await req(store.put({ ...record, hashes }, id));
    await req(store.delete([id, 'hashes']));
    db.close();
    // Pieces live under the storage key (a shared file's draft id), not necessarily the file id.
    return record.storeKey ?? id;
  }, { name, how });
}

/** How many pieces of the file are stored, and in how many records: [id, first, count] holds `count`, [id, index] one. */
const storedRecords = (page: Page, id: string) => page.evaluate(async (id) => {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open('meshdrop-pieces');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const keys = await new Promise<IDBValidKey[]>((resolve, reject) => {
    const r = db.transaction('pieces').objectStore('pieces').getAllKeys(IDBKeyRange.bound([id], [id, []]));
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  db.close();
  return { records: keys.length, pieces: keys.reduce<number>((n, k) => n + ((k as unknown[])[2] as number | undefined ?? 1), 0) };
}, id);
const storedPieces = async (page: Page, id: string) => (await storedRecords(page, id)).pieces;

/** Rewrites the file's pieces as the one-piece records of before runs: [id, index] -> Blob. */
const toOnePieceRecords = (page: Page, id: string) => page.evaluate(async (id) => {
  const req = <T,>(r: IDBRequest<T>) => new Promise<T>((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const db = await req(indexedDB.open('meshdrop-pieces'));
  const range = IDBKeyRange.bound([id], [id, []]);
  const read = db.transaction('pieces').objectStore('pieces');
  const [keys, values] = await Promise.all([req(read.getAllKeys(range)), req(read.getAll(range))]);
  const pieces: [number, Uint8Array<ArrayBuffer>][] = [];
  for (const [i, key] of keys.entries()) {
    const [, first, count] = key as [string, number, number];
    const { blob, step } = values[i] as { blob: Blob; step: number };
    const bytes = new Uint8Array(await blob.arrayBuffer());
    for (let k = 0; k < count; k++) pieces.push([first + k, bytes.slice(k * step, k === count - 1 ? bytes.length : (k + 1) * step)]);
  }
  const tx = db.transaction('pieces', 'readwrite');
  const store = tx.objectStore('pieces');
  store.delete(range);
  for (const [index, bytes] of pieces) store.put(new Blob([bytes]), [id, index]);
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
  return pieces.length;
}, id);

test('a record from before the hashes had their own key still loads and serves; one whose hashes are lost is dropped with its pieces', async ({ browser }) => {
  const old = randomFile(3 * MiB + 1234);
  const lost = randomFile(MiB);
  const alice = await newPage(browser, DESKTOP);
  const link = await startRoom(alice.page);
  await shareFile(alice.page, 'old.bin', old);
  await shareFile(alice.page, 'lost.bin', lost);

  await alice.page.goto('/');
  const oldKey = await editRecord(alice.page, 'old.bin', 'inline');
  expect((await storedRecords(alice.page, oldKey)).records, 'an import stores runs of pieces').toBeLessThan(13);
  expect(await toOnePieceRecords(alice.page, oldKey)).toBe(13);
  expect(await storedRecords(alice.page, oldKey)).toEqual({ records: 13, pieces: 13 });
  const lostKey = await editRecord(alice.page, 'lost.bin', 'lose');
  expect(await storedPieces(alice.page, lostKey)).toBe(4);

  await joinRoom(alice.page, link);
  await expect(fileRow(alice.page, 'old.bin')).toContainText('Shared by you');
  await expect(fileRow(alice.page, 'lost.bin')).toHaveCount(0);
  await expect.poll(() => storedPieces(alice.page, lostKey), { message: 'the dropped record takes its pieces with it' }).toBe(0);

  const bob = await newPage(browser, DESKTOP);
  await joinRoom(bob.page, link);
  const got = await download(bob.page, 'old.bin');
  expect(sha256(got.bytes)).toBe(sha256(old));
  await Promise.all([alice.context.close(), bob.context.close()]);
});

/**
 * Deletes the record holding a piece, as a browser can lose the file behind a
 * stored Blob: the piece's whole run goes. Returns the pieces lost, [first, end).
 */
const deletePiece = (page: Page, id: string, index: number) => page.evaluate(async ({ id, index }) => {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open('meshdrop-pieces');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const tx = db.transaction('pieces', 'readwrite');
  const store = tx.objectStore('pieces');
  const keys = await new Promise<IDBValidKey[]>((resolve) => {
    const r = store.getAllKeys(IDBKeyRange.bound([id], [id, []]));
    r.onsuccess = () => resolve(r.result);
  });
  const key = keys.find((k) => {
    const [, first, count = 1] = k as [string, number, number?];
    return first <= index && index < first + count;
  }) as [string, number, number?];
  store.delete(key as IDBValidKey);
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
  return [key[1], key[1] + (key[2] ?? 1)];
}, { id, index });

test('a saved file is read back a step at a time (src/storage/piece-steps.ts): whole and in order; a lost piece is named at Save and fetched again when the room is reopened', async ({ browser }) => {
  test.setTimeout(180_000);
  const PIECE = 256 * 1024;
  const original = randomFile(130 * PIECE + 999); // 131 pieces: three steps of 64
  const alice = await newPage(browser, DESKTOP);
  const link = await startRoom(alice.page);
  await shareFile(alice.page, 'steps.bin', original);
  const bob = await newPage(browser, DESKTOP);
  await joinRoom(bob.page, link);
  const got = await download(bob.page, 'steps.bin');
  expect(sha256(got.bytes)).toBe(sha256(original));
  const id = (await fileRow(bob.page, 'steps.bin').getAttribute('data-file-id'))!;
  expect(await storedPieces(bob.page, id)).toBe(131);

  expect((await storedRecords(bob.page, id)).records, 'a download stores runs of pieces').toBeLessThan(131);

  // The record of a piece of the third step vanishes: Save names the first piece lost, and saves nothing.
  const [lost, end] = await deletePiece(bob.page, id, 129);
  expect(await storedPieces(bob.page, id)).toBe(131 - (end! - lost!));
  let saved = 0;
  bob.page.on('download', () => saved++);
  await fileRow(bob.page, 'steps.bin').getByRole('button', { name: /^Save/ }).click();
  await expect(bob.page.getByRole('alert').filter({ hasText: `piece ${lost} is missing from storage` })).toBeVisible();
  expect(saved).toBe(0);

  // Reopened, the room finds the piece missing (the startup check reads keys a step at a time) and fetches it back.
  await bob.page.goto('/');
  await joinRoom(bob.page, link);
  await expect.poll(() => storedPieces(bob.page, id), { timeout: 60_000 }).toBe(131);
  await expect(fileRow(bob.page, 'steps.bin')).toContainText('you share it too');
  const again = await save(bob.page, 'steps.bin');
  expect(sha256(again.bytes)).toBe(sha256(original));

  // One-piece records from before runs are saved a step at a time as well.
  await bob.page.goto('/');
  expect(await toOnePieceRecords(bob.page, id)).toBe(131);
  await joinRoom(bob.page, link);
  await expect(fileRow(bob.page, 'steps.bin')).toContainText('you share it too');
  const old = await save(bob.page, 'steps.bin');
  expect(sha256(old.bytes)).toBe(sha256(original));
  await Promise.all([alice.context.close(), bob.context.close()]);
});
