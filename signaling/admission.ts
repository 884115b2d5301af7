/**
 * Who may open a relay socket: the optional Origin allow-list, and refusing an
 * upgrade with a plain HTTP status before any WebSocket exists.
 *
 * Why every origin is allowed by default: the app is served from the relay's own
 * origin, and the relay only brokers opaque blobs between clients that already
 * share a topic (a hash of a room secret it never sees); clients seal their signals
 * with a key from that secret. A foreign page that uses the relay gets an
 * introduction service and nothing else: no room names, no secrets, no files. An
 * operator who does not want other sites spending the relay's capacity sets
 * ALLOWED_ORIGINS.
 *
 * The Origin header is what browsers send; any other client can send whatever it
 * likes. So the list keeps other web pages off the relay; it does not authenticate.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** 'https://Drop.Example.org:443/' -> 'https://drop.example.org', as browsers serialise an Origin. */
export function normalizeOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin.trim());
  } catch {
    throw new Error(`not an origin: ${JSON.stringify(origin)} (expected e.g. https://drop.example.org)`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin === 'null') {
    throw new Error(`not an http(s) origin: ${JSON.stringify(origin)}`);
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new Error(`an origin has no path, query or credentials: ${JSON.stringify(origin)}`);
  }
  return url.origin;
}

/** A comma-separated list (the ALLOWED_ORIGINS variable); empty or unset means no list. */
export function parseAllowedOrigins(raw: string | undefined): string[] | undefined {
  const items = (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return items.length === 0 ? undefined : [...new Set(items.map(normalizeOrigin))];
}

/**
 * The admission check for one upgrade request. Without a list every origin passes;
 * with one, the header must match an entry exactly (browsers send it canonical),
 * and a request without an Origin (not a browser) is refused.
 */
export function originChecker(allowed: readonly string[] | undefined): (origin: string | undefined) => boolean {
  if (!allowed) return () => true;
  const set = new Set(allowed.map(normalizeOrigin));
  return (origin) => origin !== undefined && set.has(origin);
}

/** Answers an upgrade request with an HTTP error and closes the socket: no WebSocket is made. */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  // Node removes its own error listener from an upgraded socket: a reset here must not crash us.
  socket.on('error', () => socket.destroy());
  const body = `${text}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
