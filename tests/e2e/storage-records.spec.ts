import { expect, test, type Page } from '@playwright/test';
import { DESKTOP, download, fileRow, joinRoom, newPage, randomFile, save, sha256, shareFile, startRoom } from './helpers.ts';

/**
 * The stored file records of src/storage/idb-store.ts, in a real IndexedDB: a
 * record keeps its piece hashes under a key of their own (written once, not
 * with every bitfield update). Records written before that hold their hashes
 * inline and must still load and serve; a record whose hashes are lost must be
 * dropped with its pieces, as any damaged record is. The records are edited
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

/** How many piece records of the file are stored. */
const storedPieces = (page: Page, id: string) => page.evaluate(async (id) => {
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
  return keys.length;
}, id);

test('a record from before the hashes had their own key still loads and serves; one whose hashes are lost is dropped with its pieces', async ({ browser }) => {
  const old = randomFile(3 * MiB + 1234);
  const lost = randomFile(MiB);
  const alice = await newPage(browser, DESKTOP);
  const link = await startRoom(alice.page);
  await shareFile(alice.page, 'old.bin', old);
  await shareFile(alice.page, 'lost.bin', lost);

  await alice.page.goto('/');
  await editRecord(alice.page, 'old.bin', 'inline');
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

/** Deletes one stored piece, as a browser can lose the file behind a stored Blob. */
const deletePiece = (page: Page, id: string, index: number) => page.evaluate(async ({ id, index }) => {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open('meshdrop-pieces');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const tx = db.transaction('pieces', 'readwrite');
  tx.objectStore('pieces').delete([id, index]);
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
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

  // A piece of the second step vanishes: Save says which, and saves nothing.
  await deletePiece(bob.page, id, 129);
  let saved = 0;
  bob.page.on('download', () => saved++);
  await fileRow(bob.page, 'steps.bin').getByRole('button', { name: /^Save/ }).click();
  await expect(bob.page.getByRole('alert').filter({ hasText: 'piece 129 is missing from storage' })).toBeVisible();
  expect(saved).toBe(0);

  // Reopened, the room finds the piece missing (the startup check reads keys a step at a time) and fetches it back.
  await bob.page.goto('/');
  await joinRoom(bob.page, link);
  await expect.poll(() => storedPieces(bob.page, id), { timeout: 60_000 }).toBe(131);
  await expect(fileRow(bob.page, 'steps.bin')).toContainText('you share it too');
  const again = await save(bob.page, 'steps.bin');
  expect(sha256(again.bytes)).toBe(sha256(original));
  await Promise.all([alice.context.close(), bob.context.close()]);
});
