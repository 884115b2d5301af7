/**
 * Blob or ArrayBuffer for stored pieces? Writes and reads N pieces of 256 KiB
 * through IndexedDB in one real Chromium with an on-disk profile, batched as
 * the app batches them, and reports MB/s and the page's JS heap. Run:
 *   npx tsx tests/bench/storage-bench.ts        (STORAGE_MB=256 by default)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';

const MB = Number(process.env.STORAGE_MB ?? 256);
const PIECE = 256 * 1024;
const BATCH = 16;
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'];

interface Run { kind: string; writeMBps: number; readMBps: number; heapMB: number }

async function main(): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'meshdrop-storage-bench-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    // IndexedDB needs a real origin; a routed page gives one without starting a server.
    await page.route('http://storage-bench.local/**', (route) => route.fulfill({ contentType: 'text/html', body: '<title>storage bench</title>' }));
    await page.goto('http://storage-bench.local/');
    // tsx (esbuild keepNames) wraps named functions in __name(); the page needs that helper too.
    await page.evaluate('globalThis.__name = (f) => f');
    const cdp = await context.newCDPSession(page);
    const results: Run[] = [];
    for (const kind of ['blob', 'arraybuffer'] as const) {
      const timing = await page.evaluate(runInPage, { kind, count: Math.round((MB * 1024 * 1024) / PIECE), piece: PIECE, batch: BATCH });
      const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
      results.push({ kind, writeMBps: MB / timing.writeSeconds, readMBps: MB / timing.readSeconds, heapMB: heap.usedSize / 2 ** 20 });
    }
    console.log(`IndexedDB, ${MB} MiB in pieces of ${PIECE / 1024} KiB, ${BATCH} per transaction (${new Date().toISOString().slice(0, 10)})`);
    console.log('kind          write MB/s  read MB/s  heap after (MiB)');
    for (const r of results) console.log(`${r.kind.padEnd(12)}  ${r.writeMBps.toFixed(0).padStart(10)}  ${r.readMBps.toFixed(0).padStart(9)}  ${r.heapMB.toFixed(1).padStart(16)}`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Runs inside the page: raw IndexedDB, one store, batched puts as idb-keyval's setMany does. */
async function runInPage(o: { kind: 'blob' | 'arraybuffer'; count: number; piece: number; batch: number }) {
  const db: IDBDatabase = await new Promise((resolve, reject) => {
    const r = indexedDB.open(`bench-${o.kind}`, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('p');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const done = (tx: IDBTransaction) => new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
  const data = new Uint8Array(o.piece);
  crypto.getRandomValues(data.subarray(0, 65536));
  let t = performance.now();
  for (let i = 0; i < o.count; i += o.batch) {
    const tx = db.transaction('p', 'readwrite');
    const store = tx.objectStore('p');
    for (let j = i; j < Math.min(o.count, i + o.batch); j++) {
      const copy = data.slice();
      store.put(o.kind === 'blob' ? new Blob([copy]) : copy.buffer, j);
    }
    await done(tx);
  }
  const writeSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  let total = 0;
  for (let i = 0; i < o.count; i++) {
    const value = await new Promise<unknown>((resolve, reject) => {
      const r = db.transaction('p').objectStore('p').get(i);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const bytes = value instanceof Blob ? await value.arrayBuffer() : (value as ArrayBuffer);
    total += bytes.byteLength;
  }
  const readSeconds = (performance.now() - t) / 1000;
  db.close();
  if (total !== o.count * o.piece) throw new Error(`read back ${total} bytes`);
  return { writeSeconds, readSeconds };
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
