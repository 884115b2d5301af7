/**
 * How to store pieces? Writes and reads N pieces of 256 KiB through IndexedDB
 * in one real Chromium with an on-disk profile, batched as the app batches
 * them (PieceWriter: one transaction at a time), and reports MB/s, the CPU
 * of the browser's processes by type (from /proc: the browser process does
 * the blob-file work) and the page's JS heap, for three record shapes:
 *   blob         one Blob record per piece (src/storage/idb-store.ts today)
 *   arraybuffer  one ArrayBuffer record per piece
 *   run-blob     one Blob record per batch of contiguous pieces, read by slicing it
 *   run-of-blobs each piece made a Blob as it arrives (Store.prepare), one record per
 *                batch: a Blob of those Blobs (src/storage/runs.ts), read by slicing it
 *   run-kept     as run-blob, but a read keeps the record it got and slices the next
 *                pieces from it (src/storage/record-cache.ts) instead of asking again
 * Each kind runs once per transaction durability in STORAGE_DURABILITY (default
 * 'default': the browser's own; 'relaxed' and 'strict' are IDBDatabase.transaction's hint).
 * Run:
 *   npx tsx tests/bench/storage-bench.ts        (STORAGE_MB=256, STORAGE_BATCH=32, STORAGE_ROUNDS=2)
 *   STORAGE_KINDS=run-blob STORAGE_DURABILITY=default,relaxed,strict npx tsx tests/bench/storage-bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { launchOptions } from './app.ts';
import { cpuSpent, machineBusySeconds, usage } from './procs.ts';

const MB = Number(process.env.STORAGE_MB ?? 256);
const BATCH = Number(process.env.STORAGE_BATCH ?? 32);
const ROUNDS = Number(process.env.STORAGE_ROUNDS ?? 2);
const PIECE = 256 * 1024;
const LABEL = 'storage-bench';
const KINDS = (process.env.STORAGE_KINDS?.split(',') ?? ['blob', 'arraybuffer', 'run-blob', 'run-of-blobs']) as Kind[];
type Kind = 'blob' | 'arraybuffer' | 'run-blob' | 'run-of-blobs' | 'run-kept';
const DURABILITIES = (process.env.STORAGE_DURABILITY?.split(',') ?? ['default']) as IDBTransactionDurability[];
const VARIANTS = KINDS.flatMap((kind) => DURABILITIES.map((durability) => ({ kind, durability })));

async function main(): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'meshdrop-storage-bench-'));
  const context = await chromium.launchPersistentContext(profile, launchOptions(LABEL));
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    // IndexedDB needs a real origin; a routed page gives one without starting a server.
    await page.route('http://storage-bench.local/**', (route) => route.fulfill({ contentType: 'text/html', body: '<title>storage bench</title>' }));
    await page.goto('http://storage-bench.local/');
    // tsx (esbuild keepNames) wraps named functions in __name(); the page needs that helper too.
    await page.evaluate('globalThis.__name = (f) => f');
    const cdp = await context.newCDPSession(page);
    console.log(`IndexedDB, ${MB} MiB in pieces of ${PIECE / 1024} KiB, ${BATCH} per transaction (${new Date().toISOString().slice(0, 16)})`);
    console.log('kind          write MB/s  write CPU ms/MiB by process         read MB/s  read CPU ms/MiB by process          heap MiB  other CPU s');
    // Alternating the order each round, so the shared machine's ups and downs hit every kind.
    for (let round = 0; round < ROUNDS; round++) {
      for (const { kind, durability } of round % 2 ? [...VARIANTS].reverse() : VARIANTS) {
        const args = { kind, durability, db: `bench-${kind}-${durability}-${round}`, count: Math.round((MB * 1024 * 1024) / PIECE), piece: PIECE, batch: BATCH };
        const busy0 = machineBusySeconds();
        const write = await measured(() => page.evaluate(writeInPage, args));
        const read = await measured(() => page.evaluate(readInPage, args));
        const other = machineBusySeconds() - busy0 - write.cpuSeconds - read.cpuSeconds;
        const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
        console.log(
          `${`${kind}${durability === 'default' ? '' : ` ${durability}`}`.padEnd(12)}  ${(MB / write.seconds).toFixed(0).padStart(10)}  ${write.cpu.padEnd(34)}  ${(MB / read.seconds).toFixed(0).padStart(9)}  ` +
          `${read.cpu.padEnd(34)}  ${(heap.usedSize / 2 ** 20).toFixed(1).padStart(8)}  ${other.toFixed(1).padStart(11)}`,
        );
      }
    }
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Runs `step` (timed by the page itself) and reads the browser's CPU around it, per MiB by process type. */
async function measured(step: () => Promise<number>): Promise<{ seconds: number; cpu: string; cpuSeconds: number }> {
  const before = usage(LABEL);
  const seconds = await step();
  const spent = cpuSpent(before, usage(LABEL));
  const cpuSeconds = Object.values(spent).reduce((a, b) => a + b, 0);
  const per = (s: number) => Math.round((s * 1000) / MB);
  return { seconds, cpuSeconds, cpu: `${per(cpuSeconds)} (${Object.entries(spent).map(([t, s]) => `${t} ${per(s)}`).join(', ')})` };
}

interface PageArgs { kind: Kind; durability: IDBTransactionDurability; db: string; count: number; piece: number; batch: number }

/** Runs inside the page: fresh random pieces (as a download's are), one transaction at a time as PieceWriter does. */
async function writeInPage(o: PageArgs): Promise<number> {
  const db: IDBDatabase = await new Promise((resolve, reject) => {
    const r = indexedDB.open(o.db, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('p');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const done = (tx: IDBTransaction) => new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
  const t0 = performance.now();
  let inFlight: Promise<void> | null = null;
  for (let first = 0; first < o.count; first += o.batch) {
    const pieces: Uint8Array<ArrayBuffer>[] = [];
    const blobs: Blob[] = [];
    for (let i = first; i < Math.min(o.count, first + o.batch); i++) {
      const p = new Uint8Array(o.piece);
      for (let k = 0; k < o.piece; k += 65536) crypto.getRandomValues(p.subarray(k, k + 65536));
      if (o.kind === 'run-of-blobs') blobs.push(new Blob([p]));
      else pieces.push(p);
    }
    await inFlight;
    const store = db.transaction('p', 'readwrite', { durability: o.durability }).objectStore('p');
    if (o.kind === 'run-blob' || o.kind === 'run-kept') store.put(new Blob(pieces), first);
    else if (o.kind === 'run-of-blobs') store.put(new Blob(blobs), first);
    else pieces.forEach((p, k) => store.put(o.kind === 'blob' ? new Blob([p]) : p.buffer, first + k));
    inFlight = done(store.transaction);
  }
  await inFlight;
  db.close();
  return (performance.now() - t0) / 1000;
}

/** Runs inside the page: every piece on its own, as the uploader reads them to serve a request. */
async function readInPage(o: PageArgs): Promise<number> {
  const db: IDBDatabase = await new Promise((resolve, reject) => {
    const r = indexedDB.open(o.db, 1);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const t0 = performance.now();
  let total = 0;
  let kept: { key: number; value: unknown } | undefined;
  for (let i = 0; i < o.count; i++) {
    const key = o.kind.startsWith('run-') ? i - (i % o.batch) : i;
    const value = kept?.key === key ? kept.value : await new Promise<unknown>((resolve, reject) => {
      const r = db.transaction('p').objectStore('p').get(key);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    if (o.kind === 'run-kept') kept = { key, value };
    const start = (i - key) * o.piece;
    const bytes = value instanceof Blob ? await value.slice(start, start + o.piece).arrayBuffer() : (value as ArrayBuffer);
    total += bytes.byteLength;
  }
  db.close();
  if (total !== o.count * o.piece) throw new Error(`read back ${total} bytes`);
  return (performance.now() - t0) / 1000;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
