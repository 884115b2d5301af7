import { expect, test, type Page } from '@playwright/test';
import { DESKTOP, displayName, download, expectPeer, fileRow, joinRoom, newPage, pairAt, randomFile, screenshot, sha256, shareFile, startRoom } from './helpers.ts';
import { freePort, hasTurnserver, killGroup, startCoturn, startMeshdrop, stopCoturn, TURN_SECRET, useCoturn } from './servers.ts';

/**
 * Friends on other networks: a real coturn on loopback, and meshdrop servers of
 * our own that mint credentials for it with ICE_POLICY=relay, so every byte
 * between the two browsers goes through TURN. Without `turnserver` the tests skip, saying why.
 */
const KiB = 1024;

const routes = (page: Page) =>
  page.evaluate(() => Object.values((globalThis as unknown as { __meshdrop: { routes(): Record<string, string | null> } }).__meshdrop.routes()));

test.describe('TURN relay (coturn)', () => {
  const turn = useCoturn();
  const turnEnv = (secret: string) => ({
    TURN_URLS: `turn:127.0.0.1:${turn().port}?transport=udp`, TURN_SECRET: secret, ICE_POLICY: 'relay', ICE_SERVERS: '[]',
  });

  test('relay only: two browsers share a file intact through TURN, and each shows "via TURN relay"', async ({ browser }) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = await startMeshdrop(port, turnEnv(TURN_SECRET));
    try {
      const config = await (await fetch(`${base}/config.json`)).json();
      expect(config).toEqual({ iceServers: [], iceTransportPolicy: 'relay' });
      expect(JSON.stringify(config)).not.toContain(TURN_SECRET);

      const original = randomFile(600 * KiB);
      const { alice, bob } = await pairAt(browser, base);
      await shareFile(alice.page, 'through-turn.bin', original);
      await expectPeer(bob.page, await displayName(alice.page));

      // Read from each page's own getStats(): the selected pair's local candidate is a relay one.
      for (const p of [alice.page, bob.page]) await expect.poll(() => routes(p)).toEqual(['relay']);
      await expect(bob.page.locator('.peer:not(.self)').getByText('via TURN relay')).toBeVisible();
      const saved = await download(bob.page, 'through-turn.bin');
      expect(sha256(saved.bytes)).toBe(sha256(original));
      // coturn's own log: each browser allocated a relay with credentials minted for its peer id.
      for (const p of [alice.page, bob.page]) {
        const id = await p.evaluate(() => (globalThis as unknown as { __meshdrop: { self: string } }).__meshdrop.self);
        expect(turn().log.join('')).toContain(`:${id}>: incoming packet ALLOCATE processed, success`);
      }
      await screenshot(bob.page, 'peer-via-turn-desktop.png');
      for (const p of [alice, bob]) await p.context.close();
    } finally {
      killGroup(server);
    }
  });

  test('credentials the TURN server refuses: a clear message in the page, and no link', async ({ browser }) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // This meshdrop mints with another secret than coturn checks against.
    const server = await startMeshdrop(port, turnEnv('not-the-coturn-secret'));
    try {
      const { alice, bob } = await pairAt(browser, base);
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

test.describe('a person hides their address; links recover when the path dies', () => {
  test.skip(!hasTurnserver(), 'coturn is not installed (no turnserver): run "sudo apt-get install -y coturn" to run the TURN tests');
  // Each test runs a coturn of its own: one is killed and restarted on purpose.

  test('"Hide my IP address" where TURN is offered: links are made again through the relay, and the choice survives a reload', async ({ browser }) => {
    const turn = await startCoturn();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // TURN is offered but not required: without the switch, loopback peers link directly.
    const server = await startMeshdrop(port, { TURN_URLS: `turn:127.0.0.1:${turn.port}?transport=udp`, TURN_SECRET, ICE_SERVERS: '[]' });
    try {
      const { alice, bob } = await pairAt(browser, base);
      await expectPeer(bob.page, await displayName(alice.page));
      for (const p of [alice.page, bob.page]) await expect.poll(() => routes(p)).toEqual(['direct']);

      const hide = alice.page.getByLabel('Hide my IP address from people here');
      await hide.check();
      // Alice offers relayed candidates only; Bob's pair runs to her relay address, so both say relayed.
      for (const p of [alice.page, bob.page]) await expect.poll(() => routes(p), { timeout: 30_000 }).toEqual(['relay']);
      await expect(bob.page.locator('.peer:not(.self)').getByText('via TURN relay')).toBeVisible();
      const aliceId = await alice.page.evaluate(() => (globalThis as unknown as { __meshdrop: { self: string } }).__meshdrop.self);
      expect(turn.log.join('')).toContain(`:${aliceId}>: incoming packet ALLOCATE processed, success`);
      const original = randomFile(300 * KiB);
      await shareFile(alice.page, 'hidden.bin', original);
      expect(sha256((await download(bob.page, 'hidden.bin')).bytes)).toBe(sha256(original));
      await screenshot(alice.page, 'hide-address-desktop.png');

      await alice.page.reload();
      await expect(hide).toBeChecked();
      for (const p of [alice.page, bob.page]) await expect.poll(() => routes(p), { timeout: 30_000 }).toEqual(['relay']);
      await hide.uncheck();
      for (const p of [alice.page, bob.page]) await expect.poll(() => routes(p), { timeout: 30_000 }).toEqual(['direct']);
      for (const p of [alice, bob]) await p.context.close();
    } finally {
      killGroup(server);
      stopCoturn(turn);
    }
  });

  test('the TURN server dies mid-transfer: both sides show the link lost, then recover on their own once it is back, and the file arrives intact', async ({ browser }) => {
    let turn = await startCoturn();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = await startMeshdrop(port, { TURN_URLS: `turn:127.0.0.1:${turn.port}?transport=udp`, TURN_SECRET, ICE_POLICY: 'relay', ICE_SERVERS: '[]' });
    try {
      const original = randomFile(3 * 1024 * KiB);
      const { alice, bob } = await pairAt(browser, base, `?uplimit=${200 * KiB}`); // about 15 s: time for the outage mid-way
      await shareFile(alice.page, 'recover.bin', original);
      await expectPeer(bob.page, await displayName(alice.page));
      const saved = download(bob.page, 'recover.bin');
      await expect.poll(() => downloaded(bob.page, 'recover.bin')).toBeGreaterThan(0.1);

      // Every path between them went through this TURN server: it dies, and with it every allocation.
      turn.child.kill('SIGKILL');
      for (const p of [alice.page, bob.page]) {
        await expect(p.locator('.peer:not(.self)').getByText('lost, reconnecting…')).toBeVisible({ timeout: 30_000 });
      }
      await screenshot(bob.page, 'link-lost-desktop.png');
      expect(await downloaded(bob.page, 'recover.bin')).toBeLessThan(1);
      turn = await startCoturn(turn.port);
      // Nothing is clicked: an ICE restart (or, failing that, a fresh link) finds the new relay path.
      for (const p of [alice.page, bob.page]) {
        await expect(p.locator('.peer:not(.self)').getByText('via TURN relay')).toBeVisible({ timeout: 60_000 });
      }
      expect(sha256((await saved).bytes)).toBe(sha256(original));
      for (const p of [alice, bob]) await p.context.close();
    } finally {
      killGroup(server);
      stopCoturn(turn);
    }
  });
});

/** Share of the file's bytes this page holds, from its progress bar (1 once complete). */
async function downloaded(page: Page, name: string): Promise<number> {
  const row = fileRow(page, name);
  if (await row.getByRole('button', { name: /^Save/ }).count()) return 1;
  const now = await row.getByRole('progressbar').getAttribute('aria-valuenow').catch(() => null);
  return now === null ? 0 : Number(now) / 100;
}

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
