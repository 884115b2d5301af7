import { acceptDownload, answerDownload, type DownloadMessageEvent } from './download-route.ts';
import { createMediaRoute, type MediaFetch } from './media-route.ts';
import { inboxFromForm, putSharedInbox } from './share-inbox.ts';

/**
 * meshdrop's service worker, hand-written (no Workbox: it cannot be told to
 * leave alone files still streaming in, and it brings hundreds of packages).
 * Built by the `service-worker` plugin in vite.config.ts, which fills in the
 * build's own file list and a version derived from their contents.
 *
 * - install: precache the app shell, so meshdrop opens with no network;
 * - activate: drop older versions' caches and take over open pages;
 * - navigations: network first (a new deploy shows at once), else the cached shell;
 * - precached assets: cache first (their names carry content hashes);
 * - POST /share-target: keep the shared files in IndexedDB, 303 to the picker;
 * - GET /download/<id>: a zip the page streamed to us (download-route.ts);
 * - GET /media/<file id>/<name>: audio and video from IndexedDB as they download (media-route.ts);
 * - anything else (the relay's /ws, /config.json, other origins): not touched.
 */
declare const __PRECACHE__: string[];
declare const __SW_VERSION__: string;

/** The few service-worker types used here (the DOM lib has none, and the WebWorker lib clashes with it). */
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent, MediaFetch {
  readonly request: Request;
  respondWith(r: Response | Promise<Response>): void;
}
interface WorkerScope {
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', fn: (e: FetchEvent) => void): void;
  addEventListener(type: 'message', fn: (e: DownloadMessageEvent) => void): void;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> } & Parameters<typeof createMediaRoute>[0];
  location: Location;
}
const worker = self as unknown as WorkerScope;

const CACHE_PREFIX = 'meshdrop-shell-';
const CACHE = `${CACHE_PREFIX}${__SW_VERSION__}`;
const SHELL = '/index.html';
const SHARE_TARGET = '/share-target';
const PRECACHED = new Set(__PRECACHE__);
const media = createMediaRoute(worker.clients);

worker.addEventListener('install', (event) => {
  // 'reload' skips the HTTP cache: an index.html from yesterday must not enter today's shell.
  const requests = __PRECACHE__.map((path) => new Request(path, { cache: 'reload' }));
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(requests)).then(() => worker.skipWaiting()));
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(dropOldCaches().then(() => worker.clients.claim()));
});

async function dropOldCaches(): Promise<void> {
  const names = await caches.keys();
  await Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
}

worker.addEventListener('message', (event) => {
  if (!acceptDownload(event)) media.message(event.data);
});

worker.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== worker.location.origin) return;
  if (request.method === 'POST' && url.pathname === SHARE_TARGET) return event.respondWith(receiveShare(request));
  if (request.method !== 'GET') return;
  const download = answerDownload(url);
  if (download) return event.respondWith(download);
  const mediaFile = media.fileIdOf(request);
  if (mediaFile) return event.respondWith(media.respond(event, mediaFile));
  if (request.mode === 'navigate') return event.respondWith(networkFirstShell(request));
  if (PRECACHED.has(url.pathname)) event.respondWith(cacheFirst(request));
});

async function networkFirstShell(request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch (e) {
    const shell = await caches.match(SHELL, { cacheName: CACHE });
    if (shell) return shell;
    throw e; // never installed completely: the browser shows its own offline page
  }
}

async function cacheFirst(request: Request): Promise<Response> {
  const cached = await caches.match(request, { cacheName: CACHE, ignoreSearch: true });
  return cached ?? fetch(request);
}

/** The files go to IndexedDB as they are; the page at #share offers rooms to send them to. */
async function receiveShare(request: Request): Promise<Response> {
  try {
    await putSharedInbox(inboxFromForm(await request.formData(), Date.now()));
    return Response.redirect('/#share', 303);
  } catch (e) {
    console.error('meshdrop: could not keep the shared files', e);
    return Response.redirect('/?share=failed#share', 303); // the picker explains; '?' keeps #share the one reserved fragment
  }
}
