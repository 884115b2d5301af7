import { sha256 } from '../core/hash.ts';
import { mediaType } from '../core/media-type.ts';
import { verifyPiece, type Manifest } from '../core/manifest/manifest.ts';
import { createIdbStore } from '../storage/idb-store.ts';
import type { FileRecord, Store } from '../storage/store.ts';
import { focusMessage, mediaFileId, parseStored } from './media-protocol.ts';
import { waitFor, Wakeups, type Look } from './piece-wait.ts';
import { parseRange, rangeHead, slicesFor, type PieceSlice } from './range.ts';

/**
 * The service worker's media route: GET /media/<file id>/<name> answered from
 * the pieces in IndexedDB, with Range support (range.ts), so a <video> plays
 * a file while it downloads. The bytes come straight from storage, read with
 * the page's own store code (idb-store.ts), and each piece is checked against
 * the file's verified manifest before it is sent: storage is not trusted any
 * more than peers are. Where a piece is missing, the worker tells the page
 * which byte the player needs (the page's scheduler fetches the pieces from
 * there first) and waits until storage has it (piece-wait.ts).
 */
interface MessageTarget {
  postMessage(message: unknown): void;
}
interface Clients {
  get(id: string): Promise<MessageTarget | undefined>;
  matchAll(options: { type: 'window' }): Promise<readonly MessageTarget[]>;
}
export interface MediaFetch {
  readonly request: Request;
  readonly clientId: string;
  waitUntil(p: Promise<unknown>): void;
}

/** A file record shows up this long after a player asks (the page writes it as the download begins). */
const RECORD_WAIT_MS = 10_000;

export function createMediaRoute(clients: Clients, store: Store = createIdbStore(), recordWaitMs = RECORD_WAIT_MS) {
  const wakeups = new Wakeups((fn, ms) => setTimeout(fn, ms), (h) => clearTimeout(h as ReturnType<typeof setTimeout>));

  /** Tells the player's page (or, not knowing which it is, every page) where the player reads. */
  async function pageOf(clientId: string): Promise<MessageTarget> {
    const page = clientId ? await clients.get(clientId) : undefined;
    if (page) return page;
    const all = await clients.matchAll({ type: 'window' });
    return { postMessage: (m) => all.forEach((c) => c.postMessage(m)) };
  }

  const recordLook = async (fileId: string): Promise<Look<FileRecord>> => {
    const record = await store.getFile(fileId);
    return record ? { state: 'ready', value: record } : { state: 'missing' };
  };

  /** One piece, verified, waiting for it if need be; the file's removal ends the wait. */
  /** `storeKey`: where its pieces are stored (a finalised draft keeps them under its draft id; see FileRecord). */
  async function piece(manifest: Manifest, storeKey: string, index: number, cancelled: () => boolean): Promise<Uint8Array> {
    const waited = await waitFor<Uint8Array>({
      look: async () => {
        const data = await store.getPiece(storeKey, index);
        if (data) {
          if (await verifyPiece(manifest, index, data, sha256)) return { state: 'ready', value: data };
          return { state: 'gone', why: `stored piece ${index} failed verification` };
        }
        return (await store.getFile(manifest.id)) ? { state: 'missing' } : { state: 'gone', why: 'the file was removed from this browser' };
      },
      nap: (ms) => wakeups.nap(manifest.id, ms),
      now: () => Date.now(),
      cancelled,
    });
    if (!waited.ok) throw new Error(`piece ${index}: ${waited.why}`);
    return waited.value;
  }

  /** The body: slice by slice, telling the page where the player is before each piece is read. */
  function body(manifest: Manifest, storeKey: string, slices: PieceSlice[], page: MessageTarget, ended: () => void): ReadableStream<Uint8Array> {
    let next = 0;
    let cancelled = false;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const slice = slices[next++];
        if (!slice) {
          controller.close();
          return ended();
        }
        page.postMessage(focusMessage(manifest.id, slice.piece * manifest.pieceSize + slice.from));
        try {
          const data = await piece(manifest, storeKey, slice.piece, () => cancelled);
          controller.enqueue(data.subarray(slice.from, slice.to));
        } catch (e) {
          if (!cancelled) controller.error(e);
          ended();
        }
      },
      cancel() {
        cancelled = true;
        ended();
      },
    }, { highWaterMark: 1 });
  }

  async function respond(event: MediaFetch, fileId: string): Promise<Response> {
    const found = await waitFor({ look: () => recordLook(fileId), nap: (ms) => wakeups.nap(fileId, ms), now: () => Date.now(), cancelled: () => false }, recordWaitMs);
    if (!found.ok) return new Response('This file is not in this browser.', { status: 404, headers: { 'Cache-Control': 'no-store' } });
    const r = found.value;
    const manifest: Manifest = { id: fileId, size: r.meta.size, pieceSize: r.pieceSize, pieceCount: r.pieceCount, hashes: r.hashes };
    const answer = parseRange(event.request.headers.get('Range'), manifest.size);
    const head = rangeHead(answer, manifest.size, mediaType(r.meta.mime, r.meta.name) ?? r.meta.mime);
    if (answer.kind === 'unsatisfiable') return new Response(null, head);
    let ended!: () => void;
    event.waitUntil(new Promise<void>((resolve) => (ended = resolve))); // the worker lives while the body streams
    const stream = body(manifest, r.storeKey ?? fileId, slicesFor(answer.start, answer.end, manifest.pieceSize), await pageOf(event.clientId), () => ended());
    return new Response(stream, head);
  }

  return {
    /** Whether the request is for the media route (then `respond` answers it). */
    fileIdOf: (request: Request): string | null => (request.method === 'GET' ? mediaFileId(new URL(request.url).pathname) : null),
    respond,
    /** A message from a page: pieces of a file were stored, so waiting readers look again now. */
    message(data: unknown): void {
      const stored = parseStored(data);
      if (stored) wakeups.wake(stored.fileId);
    },
  };
}
