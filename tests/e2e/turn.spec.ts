import { expect, test, type Page } from '@playwright/test';
import { DESKTOP, displayName, download, expectPeer, joinRoom, newPage, randomFile, screenshot, sha256, shareFile, startRoom } from './helpers.ts';
import { hasTurnserver, killGroup, startCoturn, startMeshdrop, stopCoturn, TURN_SECRET, type Turn } from './servers.ts';

/**
 * Friends on other networks: a real coturn on loopback, and meshdrop servers of
 * our own that mint credentials for it with ICE_POLICY=relay, so every byte
 * between the two browsers goes through TURN. Without `turnserver` the tests skip, saying why.
 */
const KiB = 1024;

const routes = (page: Page) =>
  page.evaluate(() => Object.values((globalThis as unknown as { __meshdrop: { routes(): Record<string, string | null> } }).__meshdrop.routes()));

test.describe('TURN relay (coturn)', () => {
  test.skip(!hasTurnserver(), 'coturn is not installed (no turnserver): run "sudo apt-get install -y coturn" to run the TURN tests');
  let turn: Turn;
  test.beforeAll(async () => {
    turn = await startCoturn();
  });
  test.afterAll(() => stopCoturn(turn));
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
