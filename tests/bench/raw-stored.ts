import type { Page } from '@playwright/test';
import type { Peer } from './app.ts';
import { addRawInput, RAW_INPUT_ID } from './import-raw.ts';
import { MiB, withTimeout } from './infra.ts';
import { watchCpu, type PhaseCpu } from './procs.ts';
import { APP_SHAPE, connect } from './raw-channel.ts';

/**
 * (a'') The floor of goal 3: the bare channel (a') plus only what any stored,
 * verified transfer must do, written as plainly as a careful app would:
 * - the sender's bytes are in IndexedDB beforehand (untimed, as (b)'s share);
 *   it reads 4 MiB Blob records and sends them in the app's 64 KiB messages
 *   with the app's water marks (reading the next record while it sends);
 * - the receiver gathers each 256 KiB piece, hashes it (SHA-256 by
 *   crypto.subtle, as a verifier must), and stores 16 pieces per 4 MiB Blob
 *   record, one transaction each, in IndexedDB;
 * - at the end it reads the records back as one Blob and hands it to the
 *   browser's download, as meshdrop's Save does.
 * No protocol, no requests, no UI. What meshdrop's (b) spends beyond this
 * is meshdrop's own; what this spends beyond (a') is the price of storing
 * and verifying, which the design asks for (IndexedDB, hashes).
 *
 * The pages live on another origin than the app (localhost against the
 * server's 127.0.0.1), so the app's service worker never answers them.
 */
const IN_PAGE = String.raw`
window.__floor = (() => {
  const RECORD = 4 * 1024 * 1024, PIECE = 256 * 1024, GROUP = RECORD / PIECE;
  const open = () => new Promise((resolve, reject) => {
    const r = indexedDB.open('floor', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('records');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const done = (tx) => new Promise((resolve, reject) => { tx.oncomplete = () => resolve(); tx.onerror = tx.onabort = () => reject(tx.error); });
  const get = (db, i) => new Promise((resolve, reject) => {
    const r = db.transaction('records').objectStore('records').get(i);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  return {
    async store(inputId) {
      const file = document.getElementById(inputId).files[0];
      const db = await open();
      for (let i = 0, at = 0; at < file.size; i++, at += RECORD) {
        const tx = db.transaction('records', 'readwrite');
        tx.objectStore('records').put(file.slice(at, Math.min(file.size, at + RECORD)), i);
        await done(tx);
      }
      db.close();
      return file.size;
    },
    async send(total, high, low, chunk) {
      const ch = window.__raw.channel();
      ch.bufferedAmountLowThreshold = low;
      const drained = () => new Promise((r) => ch.addEventListener('bufferedamountlow', () => r(), { once: true }));
      const db = await open();
      const records = Math.ceil(total / RECORD);
      const read = (i) => get(db, i).then((b) => b.arrayBuffer());
      let next = read(0);
      for (let i = 0; i < records; i++) {
        const bytes = new Uint8Array(await next);
        if (i + 1 < records) next = read(i + 1);
        for (let at = 0; at < bytes.length; at += chunk) {
          while (ch.bufferedAmount > high) await drained();
          ch.send(bytes.subarray(at, Math.min(bytes.length, at + chunk)));
        }
      }
      db.close();
    },
    receive(total, name) {
      const ch = window.__raw.channel();
      ch.binaryType = 'arraybuffer';
      return new Promise((resolve, reject) => {
        let received = 0, piece = new Uint8Array(Math.min(PIECE, total)), filled = 0, group = [], record = 0;
        const pending = [];
        const dbReady = open();
        const flush = () => {
          const blob = new Blob(group), i = record++;
          group = [];
          pending.push(dbReady.then((db) => { const tx = db.transaction('records', 'readwrite'); tx.objectStore('records').put(blob, i); return done(tx); }));
        };
        const finish = async () => {
          await Promise.all(pending);
          const db = await dbReady;
          const tx = db.transaction('records');
          const all = await new Promise((res, rej) => { const r = tx.objectStore('records').getAll(); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
          const url = URL.createObjectURL(new Blob(all));
          const a = document.createElement('a');
          a.href = url;
          a.download = name;
          a.click();
          setTimeout(() => URL.revokeObjectURL(url), 60_000);
          return received;
        };
        ch.onmessage = (e) => {
          let data = new Uint8Array(e.data);
          received += data.length;
          while (data.length > 0) {
            const n = Math.min(data.length, piece.length - filled);
            piece.set(data.subarray(0, n), filled);
            filled += n;
            data = data.subarray(n);
            if (filled === piece.length) {
              const full = piece;
              pending.push(crypto.subtle.digest('SHA-256', full));
              group.push(full);
              if (group.length === GROUP) flush();
              piece = new Uint8Array(Math.min(PIECE, total - received + data.length));
              filled = 0;
            }
          }
          if (received >= total) {
            if (group.length > 0) flush();
            finish().then(resolve, reject);
          }
        };
      });
    },
  };
})();
`;

export interface StoredResult {
  mibPerSec: number;
  seconds: number;
  cpu: PhaseCpu;
  path: string;
}

async function openFloorPage(peer: Peer, origin: string): Promise<Page> {
  const page = await peer.context.newPage();
  await page.goto(`${origin}/floor-bench`); // a 404: a plain page of our own on the other origin
  await page.evaluate(IN_PAGE);
  return page;
}

/** Sender stores `path` first (untimed), then the timed send -> verify -> store -> download. */
export async function storedRate(from: Peer, to: Peer, base: string, path: string, mib: number, name: string): Promise<StoredResult> {
  const url = new URL(base);
  const origin = `http://localhost:${url.port}`;
  const [sender, receiver] = [await openFloorPage(from, origin), await openFloorPage(to, origin)];
  try {
    await addRawInput(sender);
    await sender.locator(`#${RAW_INPUT_ID}`).setInputFiles(path);
    await sender.evaluate(`window.__floor.store(${JSON.stringify(RAW_INPUT_ID)})`);
    await connect(sender, receiver);
    const bytes = mib * MiB;
    const cpu = watchCpu([from.label, to.label]);
    const t0 = performance.now();
    const limit = Math.max(120_000, mib * 1_000);
    const event = receiver.waitForEvent('download', { timeout: limit });
    const received = receiver.evaluate(`window.__floor.receive(${bytes}, ${JSON.stringify(name)})`);
    received.catch(() => undefined); // if sending fails we report that error, not this one
    await withTimeout(sender.evaluate(`window.__floor.send(${bytes}, ${APP_SHAPE.high}, ${APP_SHAPE.low}, ${APP_SHAPE.message})`), limit, `the floor sending ${mib} MiB`);
    await withTimeout(received, limit, `the floor storing ${mib} MiB`);
    const download = await event;
    const seconds = (performance.now() - t0) / 1000;
    const saved = await download.path();
    return { mibPerSec: mib / seconds, seconds, cpu: cpu(), path: saved };
  } finally {
    await Promise.all([sender.evaluate('window.__raw && window.__raw.close()').catch(() => undefined), receiver.evaluate('window.__raw && window.__raw.close()').catch(() => undefined)]);
    await Promise.all([sender.close(), receiver.close()]);
  }
}
