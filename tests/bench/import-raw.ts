import type { Page } from '@playwright/test';
import { prepare } from './import-watch.ts';

/**
 * The yardstick of goal 2: the same browser writing the same bytes to
 * IndexedDB with nothing else to do (and, to explain the gap, hashing them
 * with nothing else to do). Done as a careful app would: the File is
 * read in 256 KiB pieces, each stored as its own Blob record under an array
 * key (meshdrop's record shape, `src/storage/idb-store.ts`; storage-bench.ts
 * found Blob and ArrayBuffer records equally fast to write), 32 pieces per
 * transaction (PieceWriter's MAX_BATCH), and the next batch is read while
 * the previous one commits, so reading and writing overlap.
 */
export const RAW_INPUT_ID = 'bench-raw-input';
const PIECE = 256 * 1024;
const BATCH = 32;

/** Adds a file input of the bench's own to the page (outside the app's tree), for the raw write's File. */
export async function addRawInput(page: Page): Promise<void> {
  await prepare(page);
  await page.evaluate((id) => {
    if (document.getElementById(id)) return;
    const input = document.createElement('input');
    input.type = 'file';
    input.id = id;
    input.hidden = true;
    document.body.append(input);
  }, RAW_INPUT_ID);
}

/** Hands the page the file at `path` and writes it to a database of its own; returns the page's own timing. */
export async function rawWrite(page: Page, path: string, database: string): Promise<{ seconds: number; bytes: number }> {
  await page.locator(`#${RAW_INPUT_ID}`).setInputFiles(path);
  return page.evaluate(writeInPage, { id: RAW_INPUT_ID, database, piece: PIECE, batch: BATCH });
}

/**
 * Reads the file at `path` and hashes it piece by piece (SHA-256 by
 * crypto.subtle, as meshdrop does), storing nothing: what hashing alone costs
 * this browser, the other half of an import.
 */
export async function rawHash(page: Page, path: string): Promise<{ seconds: number; bytes: number }> {
  await page.locator(`#${RAW_INPUT_ID}`).setInputFiles(path);
  return page.evaluate(hashInPage, { id: RAW_INPUT_ID, piece: PIECE });
}

/** Runs in the page. */
async function hashInPage(o: { id: string; piece: number }): Promise<{ seconds: number; bytes: number }> {
  const file = (document.getElementById(o.id) as HTMLInputElement).files?.[0];
  if (!file) throw new Error('the raw hash has no file');
  const t0 = performance.now();
  let bytes = 0;
  for (let start = 0; start < file.size; start += o.piece) {
    const data = await file.slice(start, Math.min(file.size, start + o.piece)).arrayBuffer();
    await crypto.subtle.digest('SHA-256', data);
    bytes += data.byteLength;
  }
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

/** Runs in the page. */
async function writeInPage(o: { id: string; database: string; piece: number; batch: number }): Promise<{ seconds: number; bytes: number }> {
  const file = (document.getElementById(o.id) as HTMLInputElement).files?.[0];
  if (!file) throw new Error('the raw write has no file');
  const t0 = performance.now();
  const db: IDBDatabase = await new Promise((resolve, reject) => {
    const r = indexedDB.open(o.database, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('pieces');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const committed = (tx: IDBTransaction) => new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
  let inFlight: Promise<void> | null = null;
  let bytes = 0;
  const count = Math.ceil(file.size / o.piece);
  for (let first = 0; first < count; first += o.batch) {
    const records: [number, Blob][] = [];
    for (let i = first; i < Math.min(count, first + o.batch); i++) {
      const data = await file.slice(i * o.piece, Math.min(file.size, (i + 1) * o.piece)).arrayBuffer();
      bytes += data.byteLength;
      records.push([i, new Blob([data])]);
    }
    await inFlight; // one transaction at a time, as PieceWriter does
    const tx = db.transaction('pieces', 'readwrite');
    const store = tx.objectStore('pieces');
    for (const [i, blob] of records) store.put(blob, [o.database, i]);
    inFlight = committed(tx);
  }
  await inFlight;
  db.close();
  return { seconds: (performance.now() - t0) / 1000, bytes };
}
