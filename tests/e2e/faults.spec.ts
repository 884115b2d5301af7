import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test, type Page } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../../playwright.config.ts';
import { freePort, killGroup, startMeshdrop } from './servers.ts';
import { DESKTOP, pairAt, download, expectPeer, fileRow, joinRoom, newPage, randomFile, save, sha256, shareFile, startRoom } from './helpers.ts';

/**
 * Faults caused for real: the relay process is killed and restarted
 * mid-transfer; the network goes away and comes back; storage runs out
 * mid-download (Chrome's own quota, lowered through DevTools).
 */
const MiB = 1024 * 1024;
type Stats = { downloads: Record<string, { have: number }>; links: { iceRestarts: number } };
const have = async (page: Page) =>
  page.evaluate(() => Object.values((globalThis as unknown as { __meshdrop: { stats(): Stats } }).__meshdrop.stats().downloads)[0]?.have ?? 0);

/** Our own server process on its own port, so the test can kill it. */
const startServer = (port: number) => startMeshdrop(port, {});

test('killing the relay mid-transfer: the transfer goes on, and newcomers join within 10 s of its return', async ({ browser }) => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let server = await startServer(port);
  try {
    const original = randomFile(16 * MiB);
    const { alice, bob, room } = await pairAt(browser, base, `?uplimit=${2 * MiB}`);
    await shareFile(alice.page, 'outage.bin', original);
    const saved = download(bob.page, 'outage.bin');
    await expect.poll(() => have(bob.page)).toBeGreaterThan(4);

    killGroup(server);
    await expect(bob.page.getByRole('status').filter({ hasText: 'Server unreachable' })).toBeVisible();
    const duringOutage = await have(bob.page);
    await expect.poll(() => have(bob.page), { message: 'pieces keep coming without the relay' }).toBeGreaterThan(duringOutage + 4);

    server = await startServer(port);
    const back = Date.now();
    const carol = await newPage(browser, DESKTOP);
    await joinRoom(carol.page, `${base}/${room}`);
    await expectPeer(carol.page, await alice.page.getByLabel('Your name in this room').inputValue());
    expect(Date.now() - back, 'a newcomer met Alice within 10 s of the relay returning').toBeLessThan(10_000);
    await expect(bob.page.getByRole('status').filter({ hasText: 'Online' })).toBeVisible({ timeout: 10_000 });

    expect(sha256((await saved).bytes)).toBe(sha256(original));
    for (const p of [alice, bob, carol]) await p.context.close();
  } finally {
    killGroup(server);
  }
});

test('no ghosts after a relay restart: someone who left while it was down disappears, with their files', async ({ browser }) => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let server = await startServer(port);
  try {
    const alice = await newPage(browser, DESKTOP);
    await alice.page.goto(base);
    const room = new URL(await startRoom(alice.page, false)).hash;
    const carol = await newPage(browser, DESKTOP);
    await joinRoom(carol.page, `${base}/${room}`);
    const carolName = await carol.page.getByLabel('Your name in this room').inputValue();
    await expectPeer(alice.page, carolName);
    await shareFile(carol.page, 'carols-notes.txt', Buffer.from('notes\n'.repeat(100)), 'text/plain');
    await expect(fileRow(alice.page, 'carols-notes.txt')).toBeVisible();

    killGroup(server);
    await expect(alice.page.getByRole('status').filter({ hasText: 'Server unreachable' })).toBeVisible();
    await carol.context.close(); // gone while nobody could tell the room
    server = await startServer(port);
    await expect(alice.page.getByRole('status').filter({ hasText: 'Online' })).toBeVisible({ timeout: 15_000 });
    await expect(alice.page.locator('.peer:not(.self)').filter({ hasText: carolName })).toHaveCount(0, { timeout: 15_000 });
    await expect(alice.page.locator('.peer:not(.self)')).toHaveCount(0);
    await expect(fileRow(alice.page, 'carols-notes.txt')).toHaveCount(0);
    await alice.context.close();
  } finally {
    killGroup(server);
  }
});

test('going offline is shown, and the page recovers when the network returns', async ({ browser }) => {
  const { page, context } = await newPage(browser, DESKTOP);
  await startRoom(page);
  await expect(page.getByRole('status').filter({ hasText: 'Online' })).toBeVisible();
  await context.setOffline(true);
  await expect(page.getByRole('status').filter({ hasText: 'You are offline' })).toBeVisible();
  await context.setOffline(false);
  await expect(page.getByRole('status').filter({ hasText: 'Online' })).toBeVisible({ timeout: 15_000 });
  await context.close();
});

test('a network change mid-transfer (offline, then back, as a phone moving from Wi-Fi to mobile data): the transfer finishes intact, without a reload', async ({ browser, baseURL }) => {
  const original = randomFile(4 * MiB);
  const { alice, bob } = await pairAt(browser, baseURL!, `?uplimit=${512 * 1024}`);
  await shareFile(alice.page, 'moving.bin', original);
  const saved = download(bob.page, 'moving.bin');
  await expect.poll(() => have(bob.page)).toBeGreaterThan(2);
  // The browser says offline, then online: the relay socket is replaced and every link restarts ICE.
  await bob.context.setOffline(true);
  await expect(bob.page.getByRole('status').filter({ hasText: 'You are offline' })).toBeVisible();
  await bob.context.setOffline(false);
  await expect(bob.page.getByRole('status').filter({ hasText: 'Online' })).toBeVisible({ timeout: 10_000 });
  await expect(bob.page.locator('.peer:not(.self) .dot.open')).toHaveCount(1);
  expect(await bob.page.evaluate(() => (globalThis as unknown as { __meshdrop: { stats(): Stats } }).__meshdrop.stats().links.iceRestarts)).toBeGreaterThan(0);
  expect(sha256((await saved).bytes)).toBe(sha256(original));
  expect(await bob.page.evaluate(() => performance.getEntriesByType('navigation').length), 'no reload').toBe(1);
  for (const p of [alice, bob]) await p.context.close();
});

test('storage running out mid-download stops that download clearly; other files stay usable', async ({ browser, baseURL }) => {
  const profile = mkdtempSync(join(tmpdir(), 'meshdrop-quota-'));
  const downloader = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, acceptDownloads: true });
  try {
    const sharer = await newPage(browser, DESKTOP);
    await sharer.page.goto(`${baseURL}/?uplimit=${4 * MiB}`);
    const room = new URL(await startRoom(sharer.page, false)).hash;
    const small = randomFile(1 * MiB);
    const big = randomFile(24 * MiB);
    await shareFile(sharer.page, 'small.bin', small);
    await shareFile(sharer.page, 'big.bin', big);

    // Chrome applies a quota override only to storage not yet used, so it goes in before the first visit.
    // estimate() does not see it, so the download starts and the writes themselves fail part-way.
    const page = downloader.pages()[0] ?? (await downloader.newPage());
    const cdp = await downloader.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(baseURL!).origin, quotaSize: 8 * MiB });
    await joinRoom(page, `${baseURL}/${room}`);
    const first = await download(page, 'small.bin');
    expect(sha256(first.bytes)).toBe(sha256(small));

    await fileRow(page, 'big.bin').getByRole('button', { name: /Download/ }).click();
    await expect(fileRow(page, 'big.bin')).toContainText('Stopped', { timeout: 30_000 });
    await expect(fileRow(page, 'big.bin')).toContainText('no more storage space');
    await expect(fileRow(page, 'big.bin').getByRole('button', { name: /Save/ })).toHaveCount(0);
    // The other file and the database still work.
    const again = await save(page, 'small.bin');
    expect(sha256(again.bytes)).toBe(sha256(small));
    await page.reload();
    await expect(fileRow(page, 'small.bin')).toContainText('you share it too');
    await expect(fileRow(page, 'big.bin').getByRole('button', { name: /Save/ })).toHaveCount(0);
    await sharer.context.close();
  } finally {
    await downloader.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
