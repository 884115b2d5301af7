/**
 * The service-worker download route, for browsers without
 * showSaveFilePicker (the StreamSaver design): the page makes the zip as a
 * ReadableStream and transfers it here with a MessagePort; we keep it under a
 * random one-time id and reply 'ready'; the page then points a hidden iframe
 * at /download/<id>, and we answer that navigation with the stream as an
 * attachment, so the browser's download manager writes it to disk as it
 * comes. Nothing is buffered here: bytes flow page -> worker -> disk, and a
 * slow disk slows the page's reading of pieces. When the last byte has gone
 * (or the save failed), the port hears 'done' or 'failed'; 'started' when the
 * browser fetched the one-time URL.
 *
 * Message from the page: { type: 'meshdrop-download', id, name, length, stream }
 * with the stream transferred and a MessagePort in event.ports[0].
 */

export const DOWNLOAD_PREFIX = '/download/';
export const DOWNLOAD_MESSAGE = 'meshdrop-download';

interface Pending {
  stream: ReadableStream<Uint8Array>;
  name: string;
  /** Exact archive size in bytes, as a decimal string (it may pass 2^53 in theory; it never does in practice). */
  length: string;
  port: MessagePort;
}

/** Streams handed over and not yet fetched; a page that never fetches leaves at most this many behind. */
const MAX_PENDING = 8;
const ID_RE = /^[0-9a-f-]{36}$/;
const pending = new Map<string, Pending>();

export interface DownloadMessageEvent {
  data: unknown;
  ports: readonly MessagePort[];
}

/** Takes a handed-over stream; false if the message is not ours (another route's). */
export function acceptDownload(event: DownloadMessageEvent): boolean {
  const d = event.data as Record<string, unknown> | null;
  if (typeof d !== 'object' || d === null || d.type !== DOWNLOAD_MESSAGE) return false;
  const port = event.ports[0];
  if (!port) return true; // no way to answer: the page gets no 'ready' and says so
  if (typeof d.id !== 'string' || !ID_RE.test(d.id) || !(d.stream instanceof ReadableStream) || typeof d.name !== 'string' || !/^\d+$/.test(String(d.length))) {
    port.postMessage({ type: 'failed', error: 'the download was not understood' });
    return true;
  }
  if (pending.size >= MAX_PENDING) {
    const [oldest] = pending.keys();
    pending.get(oldest!)?.port.postMessage({ type: 'failed', error: 'too many saves waiting' });
    pending.delete(oldest!);
  }
  pending.set(d.id, { stream: d.stream as ReadableStream<Uint8Array>, name: d.name, length: String(d.length), port });
  port.postMessage({ type: 'ready' });
  return true;
}

/** RFC 6266: an ASCII fallback name and the real one in UTF-8. */
function disposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** The answer to GET /download/<id>: the stream once, then 404 (a one-time URL). Null for other URLs. */
export function answerDownload(url: URL): Response | null {
  if (!url.pathname.startsWith(DOWNLOAD_PREFIX)) return null;
  const id = url.pathname.slice(DOWNLOAD_PREFIX.length);
  const p = pending.get(id);
  if (!p) return new Response('This download link has been used or has expired.', { status: 404 });
  pending.delete(id);
  p.port.postMessage({ type: 'started' });
  return new Response(withFailureReport(p.stream, p.port), {
    headers: {
      'Content-Type': 'application/zip',
      'Content-Length': p.length,
      'Content-Disposition': disposition(p.name),
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

/** The stream as it reaches the download manager, telling the page when it ends or fails. */
function withFailureReport(stream: ReadableStream<Uint8Array>, port: MessagePort): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          port.postMessage({ type: 'done' });
        } else controller.enqueue(value);
      } catch (e) {
        port.postMessage({ type: 'failed', error: (e as Error).message });
        controller.error(e);
      }
    },
    cancel(reason) {
      port.postMessage({ type: 'failed', error: 'the save was cancelled' });
      return reader.cancel(reason);
    },
  });
}
