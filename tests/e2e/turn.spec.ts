import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { DESKTOP, displayName, download, expectPeer, joinRoom, newPage, randomFile, screenshot, sha256, shareFile, startRoom } from './helpers.ts';

/**
 * Friends on other networks: a real coturn (Debian's `coturn`, installed by
 * tests/e2e/ensure-coturn.sh) on loopback, and meshdrop servers of our own that
 * mint credentials for it with ICE_POLICY=relay, so every byte between the two
 * browsers goes through TURN. Without `turnserver` the tests skip, saying why.
 */
const TURN_SECRET = 'e2e-static-auth-secret';
const KiB = 1024;

function hasTurnserver(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v turnserver'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A TCP port free right now (coturn listens on it for UDP and TCP). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

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

interface Turn { port: number; child: ChildProcess; log: string[]; dir: string }

async function startCoturn(): Promise<Turn> {
  const port = await freePort();
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
async function startMeshdrop(port: number, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn('npx', ['tsx', 'signaling/start.ts'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MAX_CONNECTIONS_PER_ADDRESS: '1000', MAX_IDENTITIES_PER_ADDRESS: '100000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  await waitFor(child, 'meshdrop is running', 'meshdrop server', []);
  return child;
}
const killGroup = (child: ChildProcess) => {
  if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL'); // npx and node
};

const routes = (page: Page) =>
  page.evaluate(() => Object.values((globalThis as unknown as { __meshdrop: { routes(): Record<string, string | null> } }).__meshdrop.routes()));

test.describe('TURN relay (coturn)', () => {
  test.skip(!hasTurnserver(), 'coturn is not installed (no turnserver): run "sudo apt-get install -y coturn" to run the TURN tests');
  let turn: Turn;
  test.beforeAll(async () => {
    turn = await startCoturn();
  });
  test.afterAll(() => {
    if (turn?.child.exitCode === null) turn.child.kill('SIGKILL');
    if (turn) rmSync(turn.dir, { recursive: true, force: true });
  });
  const turnEnv = (secret: string) => ({
    TURN_URLS: `turn:127.0.0.1:${turn.port}?transport=udp`, TURN_SECRET: secret, ICE_POLICY: 'relay', ICE_SERVERS: '[]',
  });

  test('relay only: two browsers share a file intact through TURN, and each shows "via TURN relay"', async ({ browser }) => {
    const port = 4402;
    const base = `http://127.0.0.1:${port}`;
    const server = await startMeshdrop(port, turnEnv(TURN_SECRET));
    try {
      const config = await (await fetch(`${base}/config.json`)).json();
      expect(config).toEqual({ iceServers: [], iceTransportPolicy: 'relay' });
      expect(JSON.stringify(config)).not.toContain(TURN_SECRET);

      const original = randomFile(600 * KiB);
      const alice = await newPage(browser, DESKTOP);
      await alice.page.goto(`${base}/`);
      const room = new URL(await startRoom(alice.page, false)).hash;
      await shareFile(alice.page, 'through-turn.bin', original);
      const bob = await newPage(browser, DESKTOP);
      await joinRoom(bob.page, `${base}/${room}`);
      await expectPeer(bob.page, await displayName(alice.page));

      // Read from each page's own getStats(): the selected pair's local candidate is a relay one.
      for (const p of [alice.page, bob.page]) await expect.poll(() => routes(p)).toEqual(['relay']);
      await expect(bob.page.locator('.peer:not(.self)').getByText('via TURN relay')).toBeVisible();
      const saved = await download(bob.page, 'through-turn.bin');
      expect(sha256(saved.bytes)).toBe(sha256(original));
      // coturn's own log: each browser allocated a relay with credentials minted for its peer id.
      for (const p of [alice.page, bob.page]) {
        const id = await p.evaluate(() => (globalThis as unknown as { __meshdrop: { self: string } }).__meshdrop.self);
        expect(turn.log.join('')).toContain(`:${id}>: incoming packet ALLOCATE processed, success`);
      }
      await screenshot(bob.page, 'peer-via-turn-desktop.png');
      for (const p of [alice, bob]) await p.context.close();
    } finally {
      killGroup(server);
    }
  });

  test('credentials the TURN server refuses: a clear message in the page, and no link', async ({ browser }) => {
    const port = 4403;
    const base = `http://127.0.0.1:${port}`;
    // This meshdrop mints with another secret than coturn checks against.
    const server = await startMeshdrop(port, turnEnv('not-the-coturn-secret'));
    try {
      const alice = await newPage(browser, DESKTOP);
      await alice.page.goto(`${base}/`);
      const room = new URL(await startRoom(alice.page, false)).hash;
      const bob = await newPage(browser, DESKTOP);
      await joinRoom(bob.page, `${base}/${room}`);
      for (const p of [alice.page, bob.page]) {
        await expect(p.getByRole('alert').filter({ hasText: 'The TURN server refused our credentials' })).toBeVisible();
      }
      await expect(alice.page.locator('.peer:not(.self) .dot.open')).toHaveCount(0);
      await screenshot(alice.page, 'turn-refused-desktop.png');
      for (const p of [alice, bob]) await p.context.close();
    } finally {
      killGroup(server);
    }
  });
});

test('without TURN, a link on the same machine is shown as direct', async ({ browser }) => {
  const alice = await newPage(browser, DESKTOP);
  const link = await startRoom(alice.page);
  const bob = await newPage(browser, DESKTOP);
  await joinRoom(bob.page, link);
  await expectPeer(bob.page, await displayName(alice.page));
  for (const p of [alice.page, bob.page]) await expect.poll(() => routes(p)).toEqual(['direct']);
  await expect(bob.page.locator('.peer:not(.self)').getByText('direct', { exact: true })).toBeVisible();
  for (const p of [alice, bob]) await p.context.close();
});
