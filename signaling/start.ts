/**
 * `npm start`: build the app if the build is missing or stale, then serve it together
 * with the signalling relay. Configured by environment:
 *   PORT (default 8080), HOST (default 0.0.0.0), TLS_CERT + TLS_KEY (PEM file paths),
 *   ICE_SERVERS (JSON list of RTCIceServer, e.g. [{"urls":"stun:stun.example.org"}]; default: a few public
 *   STUN servers; [] for none), TURN_URLS + TURN_SECRET (+ TURN_TTL), ICE_POLICY=relay (see ice.ts),
 *   MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS, MAX_IDENTITIES_PER_ADDRESS (relay caps; see limits.ts),
 *   REDIS_URL (+ REDIS_PREFIX): share rooms with other relay instances through Redis (see relay-env.ts),
 *   ALLOWED_ORIGINS (comma-separated, e.g. https://drop.example.org,http://localhost:8080; default: any
 *   origin, see admission.ts). When set, list every origin the app is opened from, including this
 *   server's own URLs and Vite's dev server (http://localhost:5173) if you use `npm run dev`.
 * signaling/ imports nothing from src/: the server must not depend on browser code.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllowedOrigins } from './admission.ts';
import { mintTurnServer, parseIceConfig, type IceConfig, type TurnConfig } from './ice.ts';
import type { RelayOptions } from './relay.ts';
import { UsageError, busFromEnv, readRelayLimits } from './relay-env.ts';
import { logJson } from './relay-support.ts';
import { startServer, type RunningServer } from './server.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
/** Everything the Vite build reads; a change to any of them makes dist/ stale. */
const BUILD_INPUTS = ['src', 'public', 'signaling/protocol.ts', 'index.html', 'vite.config.ts'];

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 8080;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(raw)}`);
  return port;
}

function readTls(env: NodeJS.ProcessEnv): { cert: Buffer; key: Buffer } | undefined {
  const { TLS_CERT: certPath, TLS_KEY: keyPath } = env;
  if (!certPath && !keyPath) return undefined;
  if (!certPath || !keyPath) throw new UsageError('set both TLS_CERT and TLS_KEY (PEM file paths), or neither');
  try {
    return { cert: readFileSync(certPath), key: readFileSync(keyPath) };
  } catch (err) {
    throw new UsageError(`cannot read TLS_CERT/TLS_KEY: ${(err as Error).message}`);
  }
}

function readAllowedOrigins(raw: string | undefined): string[] | undefined {
  try {
    return parseAllowedOrigins(raw);
  } catch (err) {
    throw new UsageError(`ALLOWED_ORIGINS: ${(err as Error).message}`);
  }
}

function readIceConfig(env: NodeJS.ProcessEnv): IceConfig {
  const parsed = parseIceConfig(env);
  if (!parsed.ok) throw new UsageError(parsed.error);
  return parsed.value;
}

/** What the relay adds to each welcome: TURN credentials minted for that peer, or nothing. */
function turnMinter(turn: TurnConfig | null): RelayOptions['mintIceServers'] {
  if (!turn) return undefined;
  return (peerId) => ({ iceServers: [mintTurnServer(turn, peerId, Date.now())], iceTtl: turn.ttlSeconds });
}

/** Newest modification time under a file or directory (0 if it does not exist). */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // catches deletions too
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function buildIsStale(): boolean {
  const index = join(DIST, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return BUILD_INPUTS.some((input) => newestMtime(join(ROOT, input)) > built);
}

async function buildApp(): Promise<void> {
  console.log('meshdrop: building the app (dist/ is missing or older than the sources)...');
  const { build } = await import('vite'); // only loaded when needed: startup stays fast
  await build({ root: ROOT, logLevel: 'warn' });
}

function banner(server: RunningServer, allowedOrigins: string[] | undefined): string {
  const lines = server.urls.map((url) => `  ${url}${/\/\/(localhost|127\.|\[::1\])/.test(url) ? '' : ' (LAN)'}`);
  if (allowedOrigins) lines.push('', `The relay accepts pages from: ${allowedOrigins.join(', ')}`);
  const notes = server.url.startsWith('https:')
    ? []
    : [
        '',
        'Note: phones and other machines reaching this over plain http (not localhost) get no',
        'secure context, so no WebCrypto: meshdrop falls back to pure-JS hashing and sealing there.',
        'Set TLS_CERT and TLS_KEY (PEM file paths) to serve https instead.',
      ];
  return ['meshdrop is running. Open one of:', ...lines, ...notes].join('\n');
}

async function main(): Promise<void> {
  const port = parsePort(process.env.PORT);
  const host = process.env.HOST || '0.0.0.0';
  const tls = readTls(process.env);
  const ice = readIceConfig(process.env);
  const allowedOrigins = readAllowedOrigins(process.env.ALLOWED_ORIGINS);
  if (buildIsStale()) await buildApp();
  const limits = readRelayLimits(process.env);
  const bus = busFromEnv(process.env, logJson);
  const server = await startServer({
    port, host, distDir: DIST, tls, iceServers: ice.iceServers, iceTransportPolicy: ice.policy,
    relay: { allowedOrigins, limits, mintIceServers: turnMinter(ice.turn), bus },
  });
  console.log(banner(server, allowedOrigins));
  if (process.env.REDIS_URL) console.log('Relay: sharing rooms with other instances through Redis (REDIS_URL)');
  // Where the TURN server is, never its secret nor any credential.
  if (ice.turn) console.log(`TURN: ${ice.turn.urls.join(', ')} (credentials minted per peer, valid ${ice.turn.ttlSeconds} s)${ice.policy === 'relay' ? '; relay only' : ''}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1); // second Ctrl-C: do not wait any longer
    stopping = true;
    console.log(`\nmeshdrop: ${signal}, shutting down...`);
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`meshdrop: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
