import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import Server from 'bittorrent-tracker/server';
import type { Cleanup } from './infra.ts';

/**
 * WebTorrent's side of the comparison: a WebSocket tracker (bittorrent-tracker,
 * what introduces WebTorrent peers as our relay introduces meshdrop's) and, on
 * the same port, a page that loads WebTorrent's own browser bundle
 * (webtorrent/dist/webtorrent.min.js). Nothing comes from the internet: the
 * page's client is told to use no STUN servers, as meshdrop's bench config does.
 *
 * The page keeps WebTorrent's browser defaults otherwise, storage included:
 * in Chromium that is the Origin Private File System (fsa-chunk-store, one file
 * per piece, behind a 20-piece memory cache), on disk in an on-disk profile.
 *
 * The in-page code is plain JS (see raw-channel.ts for why not a function).
 */
const PAGE = `<!doctype html>
<meta charset="utf-8"><title>webtorrent bench</title>
<input type="file" id="file-input">
<script type="module">
import WebTorrent from '/webtorrent.min.js';
const TRACKER = location.origin.replace(/^http/, 'ws');
const opts = { announce: [TRACKER] };
const client = new WebTorrent({ dht: false, lsd: false, utPex: false, webSeeds: false, tracker: { rtcConfig: { iceServers: [] } } });
const failed = new Promise((_, reject) => client.on('error', reject));
const opfs = globalThis.navigator.storage && navigator.storage.getDirectory && globalThis.FileSystemFileHandle &&
  FileSystemFileHandle.prototype.createWritable;
/** What stores the pieces, checked on disk: the OPFS directory the torrent wrote, and how many files it holds. */
async function storeInfo(t) {
  if (!opfs) return { store: 'memory (no OPFS in this browser)', files: 0 };
  const root = await navigator.storage.getDirectory();
  let files = 0;
  for await (const [name, handle] of root.entries()) {
    if (handle.kind !== 'directory' || !name.includes(t.infoHash.slice(0, 8))) continue;
    for await (const _ of handle.keys()) files++;
  }
  return { store: 'OPFS (fsa-chunk-store)', files };
}
const facts = async (t) => ({ pieceLength: t.pieceLength, pieces: t.pieces.length, ...(await storeInfo(t)) });
window.__wt = {
  seeded: new Promise((resolve, reject) => {
    failed.catch(reject);
    document.getElementById('file-input').addEventListener('change', (e) => {
      const t0 = performance.now();
      client.seed(e.target.files[0], opts, async (t) =>
        resolve({ magnet: t.magnetURI, seconds: (performance.now() - t0) / 1000, ...(await facts(t)) }));
    }, { once: true });
  }),
  leech(magnet) {
    return Promise.race([failed, new Promise((resolve, reject) => {
      const t0 = performance.now();
      let metadataAt = 0;
      const t = client.add(magnet, opts);
      t.on('error', reject);
      t.on('metadata', () => { metadataAt = performance.now(); });
      t.on('done', async () => {
        const doneAt = performance.now();
        resolve({ metadataSeconds: (metadataAt - t0) / 1000, doneSeconds: (doneAt - t0) / 1000, ...(await facts(t)) });
      });
    })]);
  },
  /** Hands the file to the browser's download manager, as meshdrop's Save does. */
  async save() {
    const file = client.torrents[0].files[0];
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await file.blob());
    a.download = file.name;
    document.body.append(a);
    a.click();
  },
};
</script>
`;

/** Starts the tracker with the page on the same port; returns the page's URL. */
export async function startTracker(cleanup: Cleanup): Promise<string> {
  const bundle = readFileSync(createRequire(import.meta.url).resolve('webtorrent/dist/webtorrent.min.js'));
  const tracker = new Server({ udp: false, http: false, ws: true, stats: false });
  const httpServer = tracker.http;
  if (!httpServer) throw new Error('bittorrent-tracker made no HTTP server for its WebSocket tracker');
  // Ours runs first; the tracker's own handler skips requests already answered.
  httpServer.on('request', (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/') res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
    else if (path === '/webtorrent.min.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
  });
  tracker.on('error', (e: Error) => console.error(`[tracker error] ${e.message}`));
  tracker.on('warning', (e: Error) => console.error(`[tracker warning] ${e.message}`));
  await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', () => resolve()));
  cleanup.add('stop the WebTorrent tracker', () => new Promise<void>((resolve) => tracker.close(() => resolve())));
  return `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/`;
}

export interface TorrentFacts {
  pieceLength: number;
  pieces: number;
  /** Where WebTorrent's browser default put the pieces, and how many files it wrote there. */
  store: string;
  files: number;
}

export interface Seeded extends TorrentFacts {
  magnet: string;
  /** Hashing the file and copying it into the store (WebTorrent's import; untimed). */
  seconds: number;
}

export interface Leeched extends TorrentFacts {
  /** add() to the torrent's metadata (info dictionary from the seeder, ut_metadata). */
  metadataSeconds: number;
  /** add() to 'done': every piece verified and stored. */
  doneSeconds: number;
}
