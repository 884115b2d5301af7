/**
 * One Node server for `npm start`: the built app (static files from distDir) and the
 * signalling relay on RELAY_PATH ('/ws'), same origin, so one port and one certificate.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import sirv from 'sirv';
import { createRelay, type Relay, type RelayOptions } from './relay.ts';

export interface ServerOptions {
  port: number;
  host: string;
  distDir: string;
  /** PEM contents (not paths). With them the server speaks https and wss. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Served as /config.json to the browser: ICE servers (STUN/TURN) for connecting beyond the LAN. */
  iceServers?: unknown[];
  /** Served in /config.json: 'relay' makes browsers use TURN-relayed candidates only (ICE_POLICY). */
  iceTransportPolicy?: 'all' | 'relay';
  /** Passed through to createRelay (logging, limits, heartbeat, origin allow-list). */
  relay?: Omit<RelayOptions, 'server' | 'port' | 'host'>;
}

export interface RunningServer {
  /** The URL to print first: localhost when listening on every interface. */
  url: string;
  /** Every URL the app is reachable at, including LAN IPv4 addresses. */
  urls: string[];
  relay: Relay;
  close(): Promise<void>;
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy':
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; media-src 'self' blob:; " +
    "style-src 'self' 'unsafe-inline'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  // The room secret lives in the URL fragment, which browsers never send; no-referrer is belt and braces.
  'Referrer-Policy': 'no-referrer',
});

/** Vite fingerprints everything under /assets/, so those files can be cached for ever. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function staticHandler(distDir: string, iceServers: unknown[], iceTransportPolicy: 'all' | 'relay'): http.RequestListener {
  const config = JSON.stringify({ iceServers, iceTransportPolicy });
  const serve = sirv(distDir, {
    dev: false,
    etag: true,
    setHeaders: (res, pathname) => {
      res.setHeader('Cache-Control', pathname.startsWith('/assets/') ? IMMUTABLE : 'no-cache');
    },
  });
  return (req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (req.method === 'POST' && (req.url ?? '').split('?')[0] === SHARE_TARGET) {
      answerShareWithoutWorker(res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method Not Allowed\n');
      return;
    }
    if ((req.url ?? '').split('?')[0] === '/config.json') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' }).end(config);
      return;
    }
    serve(req, res, () => {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not Found\n');
    });
  };
}

/** The manifest's share_target action: the service worker answers it; this is the first visit, before one runs. */
export const SHARE_TARGET = '/share-target';

/**
 * Without a service worker the shared files cannot be kept (the server never
 * stores files), so the page is told to explain that. The body is never read:
 * closing the connection drops whatever upload is still coming.
 */
function answerShareWithoutWorker(res: http.ServerResponse): void {
  res.writeHead(303, { Location: '/#share', Connection: 'close', 'Cache-Control': 'no-store' }).end();
}

const isWildcard = (host: string): boolean => host === '' || host === '0.0.0.0' || host === '::';

/** Non-internal IPv4 addresses: what a phone on the same Wi-Fi can reach. */
function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => a.family === 'IPv4' && !a.internal)
    .map((a) => a.address);
}

function urlsFor(scheme: string, host: string, port: number): string[] {
  const hostPart = (h: string): string => (h.includes(':') ? `[${h}]` : h);
  const hosts = isWildcard(host) ? ['localhost', ...lanAddresses()] : [host];
  return hosts.map((h) => `${scheme}://${hostPart(h)}:${port}`);
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const distDir = resolve(opts.distDir);
  if (!existsSync(join(distDir, 'index.html'))) {
    throw new Error(`no built app at ${join(distDir, 'index.html')}; run "npm run build" first (npm start builds automatically)`);
  }
  const handler = staticHandler(distDir, opts.iceServers ?? [], opts.iceTransportPolicy ?? 'all');
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : http.createServer(handler);
  const relay = createRelay({ ...opts.relay, server });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  }).catch(async (err: unknown) => {
    await relay.close();
    throw err;
  });
  await relay.ready;

  const { port } = server.address() as AddressInfo;
  const urls = urlsFor(opts.tls ? 'https' : 'http', opts.host, port);
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    await relay.close();
    await new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections(); // keep-alive sockets would otherwise hold close() open
    });
  };
  return { url: urls[0] ?? `http://localhost:${port}`, urls, relay, close: () => (closing ??= close()) };
}
