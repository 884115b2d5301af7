import { expect, test, type Page } from '@playwright/test';
import {
  decodeQr, DESKTOP, fileRow, horizontalOverflow, joinRoom, newPage, openInvite, PHONE, randomFile, screenshot, startRoom,
} from './helpers.ts';
import { freePort, killGroup, startMeshdrop, TURN_SECRET, useCoturn } from './servers.ts';

/**
 * The screens people see, at phone and desktop size, light and dark, saved as
 * test-results/screenshots/screens/<screen>-<size>-<scheme>.png for people to
 * look at. Each screen is shown in both schemes from the same page
 * (emulateMedia switches prefers-color-scheme as the context option does), so
 * one room per size serves both. Each shot also checks the page: no sideways
 * scrolling, the scheme really took, and the thing shown is there.
 */
const SIZES = [['phone', PHONE], ['desktop', DESKTOP]] as const;
type Size = (typeof SIZES)[number][0];
const SCHEMES = ['light', 'dark'] as const;
const KiB = 1024;
const BIG = 'holiday-video.mp4';
const LONG_PERSON = 'Alexandrina Featherstone';
const LONG = 'Quarterly-report-final-version-approved.pdf'; // 42 characters, no spaces: must wrap, not widen the page

/** 0 (black) to 1 (white): the mean of an `rgb(r, g, b)` colour's channels. */
const lightness = (rgb: string) => rgb.match(/\d+/g)!.slice(0, 3).reduce((sum, c) => sum + Number(c), 0) / (3 * 255);

/** Shows `page` in each scheme, checks it, runs `shows` (asserting what the screen is for), and saves the PNG. */
async function shoot(page: Page, screen: string, size: Size, shows: () => Promise<unknown>, fullPage = true): Promise<void> {
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme });
    const what = `${screen} (${size}, ${colorScheme})`;
    const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(lightness(background) < 0.5, `${what}: background ${background}`).toBe(colorScheme === 'dark');
    expect(await horizontalOverflow(page), `${what}: sideways scrolling`).toBeLessThanOrEqual(0);
    await shows();
    await screenshot(page, `screens/${screen}-${size}-${colorScheme}.png`, { fullPage });
  }
}

for (const [size, device] of SIZES) {
  test(`${size}: empty room, invite panel, files mid-download, landing with recent rooms`, async ({ browser, baseURL }) => {
    // The sharer sends slowly, so the download is still running while both schemes are shown.
    const sharer = await newPage(browser, device);
    await sharer.page.goto(`${baseURL}/?uplimit=200000`);
    const link = `${baseURL}/${new URL(await startRoom(sharer.page, false)).hash}`;
    await shoot(sharer.page, 'room-empty', size, () => expect(sharer.page.getByText('Nobody else yet. Send the room link to someone.')).toBeVisible());

    const panel = await openInvite(sharer.page);
    await shoot(sharer.page, 'invite', size, async () => expect(await decodeQr(sharer.page)).toBe(link), false);
    await panel.getByRole('button', { name: 'Close' }).click();

    await sharer.page.locator('#file-input').setInputFiles([
      { name: BIG, mimeType: 'video/mp4', buffer: randomFile(6 * 1024 * KiB) },
      { name: LONG, mimeType: 'application/pdf', buffer: randomFile(180 * KiB) },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: randomFile(2 * KiB) },
    ]);
    for (const name of [BIG, LONG, 'notes.txt']) await expect(fileRow(sharer.page, name).getByText('Shared by you')).toBeVisible();

    // The receiver has been in a named room before: the landing page lists both.
    const receiver = await newPage(browser, device);
    await joinRoom(receiver.page, `${baseURL}/#Team-Notes`);
    // A room is remembered once its engine runs (by then it is online); leaving sooner may not record the visit.
    await expect(receiver.page.getByRole('status').filter({ hasText: 'Online' })).toBeVisible();
    await joinRoom(receiver.page, link);
    await fileRow(receiver.page, BIG).getByRole('button', { name: /^Download/ }).click();
    const bar = fileRow(receiver.page, BIG).getByRole('progressbar');
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(0);
    await shoot(receiver.page, 'room-files', size, async () => {
      await expect(bar).toBeVisible();
      expect(Number(await bar.getAttribute('aria-valuenow'))).toBeLessThan(100);
      const download = (await fileRow(receiver.page, LONG).getByRole('button', { name: /^Download/ }).boundingBox())!;
      expect(download.x + download.width, 'Download beside a long name stays on screen').toBeLessThanOrEqual(receiver.page.viewportSize()!.width);
    });

    // Another tab of the receiver's browser: the landing page starts no room, so the download goes on.
    const landing = await receiver.context.newPage();
    await landing.goto('/');
    const recent = landing.getByRole('region', { name: 'Recent rooms' }).getByRole('link');
    await shoot(landing, 'landing', size, () => expect(recent).toHaveCount(2));
    for (const p of [sharer, receiver]) await p.context.close();
  });
}

test.describe('a peer connected through TURN', () => {
  const turn = useCoturn();

  test('phone and desktop each show the other "via TURN relay"', async ({ browser }) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = await startMeshdrop(port, {
      TURN_URLS: `turn:127.0.0.1:${turn().port}?transport=udp`, TURN_SECRET, ICE_POLICY: 'relay', ICE_SERVERS: '[]',
    });
    try {
      const [phone, desktop] = [await newPage(browser, PHONE), await newPage(browser, DESKTOP)];
      await phone.page.goto(`${base}/`);
      const link = `${base}/${new URL(await startRoom(phone.page, false)).hash}`;
      // A long name beside the tag in the desktop's narrow sidebar: the tag wraps, the name stays whole.
      await phone.page.getByLabel('Your name in this room').fill(LONG_PERSON);
      await phone.page.getByLabel('Your name in this room').press('Enter');
      await joinRoom(desktop.page, link);
      for (const [size, { page }] of [['phone', phone], ['desktop', desktop]] as const) {
        const peer = page.locator('.peer:not(.self)');
        await shoot(page, 'peer-turn', size, async () => {
          await expect(peer.getByText('via TURN relay')).toBeVisible();
          const name = peer.locator('.peer-name');
          expect(await name.evaluate((el) => el.scrollWidth <= el.clientWidth), `${await name.textContent()} is cut short`).toBe(true);
        });
      }
      await expect(desktop.page.locator('.peer:not(.self) .peer-name')).toHaveText(LONG_PERSON);
      for (const p of [phone, desktop]) await p.context.close();
    } finally {
      killGroup(server);
    }
  });
});
