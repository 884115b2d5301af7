import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from '@playwright/test';
import { hasCommand } from '../tools/has-command.ts';
import { freePort } from '../tools/redis-server.ts';

/**
 * Servers a test starts for itself: a real coturn (Debian's `coturn`, installed by
 * tests/e2e/ensure-coturn.sh) on loopback, and meshdrop server processes with the
 * environment under test.
 */
export const TURN_SECRET = 'e2e-static-auth-secret';

export const hasTurnserver = (): boolean => hasCommand('turnserver');

// coturn listens on a free port for UDP and TCP; Redis tests use it too.
export { freePort } from '../tools/redis-server.ts';

/** Resolves once `child` prints `marker`; fails (with what it printed) if it exits or takes too long. */
function waitFor(child: ChildProcess, marker: string, what: string, output: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${output.join('')}`)), 30_000);
    const onData = (d: Buffer) => {
      output.push(String(d));
      if (output.join('').includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => output.push(String(d)));
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${output.join('')}`)));
  });
}

export interface Turn { port: number; child: ChildProcess; log: string[]; dir: string }

/** `port`: listen there (a restart on the same address, as after a TURN server outage). */
export async function startCoturn(port?: number): Promise<Turn> {
  port ??= await freePort();
  const relayBase = 50_000 + Math.floor(Math.random() * 10_000); // relay ports for allocations
  const dir = mkdtempSync(join(tmpdir(), 'meshdrop-turn-'));
  const child = spawn('turnserver', [
    '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    `--min-port=${relayBase}`, `--max-port=${relayBase + 200}`,
    // Without it coturn refuses peers on 127.x, and ICE fails without a word.
    '--allow-loopback-peers',
    '--no-cli', '--no-tls', '--no-dtls', '--no-stun', '--fingerprint', '--no-software-attribute',
    '--verbose', '--use-auth-secret', `--static-auth-secret=${TURN_SECRET}`, '--realm=meshdrop',
    '--log-file=stdout', '--simple-log', `--pidfile=${join(dir, 'turn.pid')}`, `--userdb=${join(dir, 'turndb')}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  await waitFor(child, 'Total General servers', 'turnserver', log);
  return { port, child, log, dir };
}

/** A meshdrop server process of our own, with the TURN environment under test. */
export async function startMeshdrop(port: number, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn('npx', ['tsx', 'signaling/start.ts'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MAX_CONNECTIONS_PER_ADDRESS: '1000', MAX_IDENTITIES_PER_ADDRESS: '100000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  await waitFor(child, 'meshdrop is running', 'meshdrop server', []);
  return child;
}
/** Kills the child's process group (npx and node); a child already ended (by exit or by a signal) is left alone. */
export const killGroup = (child: ChildProcess) => {
  if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
};


/** A coturn for the tests of the calling describe block (skipped, saying why, where coturn is not installed). */
export function useCoturn(): () => Turn {
  test.skip(!hasTurnserver(), 'coturn is not installed (no turnserver): run "sudo apt-get install -y coturn" to run the TURN tests');
  let turn: Turn | undefined;
  test.beforeAll(async () => {
    turn = await startCoturn();
  });
  test.afterAll(() => stopCoturn(turn));
  return () => turn!;
}

export function stopCoturn(turn: Turn | undefined): void {
  if (turn?.child.exitCode === null) turn.child.kill('SIGKILL');
  if (turn) rmSync(turn.dir, { recursive: true, force: true });
}
