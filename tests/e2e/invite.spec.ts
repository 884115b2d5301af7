import { expect, test, type Page } from '@playwright/test';
import { decodeQr, DESKTOP, horizontalOverflow, joinRoom, newPage, openInvite, PHONE, phoneDevice, screenshot, startRoom } from './helpers.ts';

/**
 * Invite and join: the Invite panel's link, Copy and QR code (decoded here
 * with a real QR reader, so a code that scans to anything else fails), and
 * the landing page's recent rooms.
 */
test.describe.configure({ timeout: 60_000 });

test('the Invite panel shows the room link, copies it, and its QR code scans to the same link', async ({ browser, baseURL }) => {
  const { context, page } = await newPage(browser, { ...DESKTOP, permissions: ['clipboard-read', 'clipboard-write'] });
  await page.goto(`${baseURL}/?uplimit=1000000`); // a page knob, which must not leak into the link to share
  const url = new URL(await startRoom(page, false));
  const link = `${url.origin}${url.pathname}${url.hash}`;
  expect(link).not.toContain('uplimit');

  const panel = await openInvite(page);
  await expect(panel.getByLabel(/^Room link/)).toHaveValue(link);
  await expect(panel.getByRole('img', { name: 'QR code' })).toBeVisible();
  expect(await decodeQr(page)).toBe(link);

  await panel.getByRole('button', { name: 'Copy' }).click();
  await expect(panel.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
  await screenshot(page, 'invite-desktop.png');

  await page.keyboard.press('Escape');
  await expect(panel).toBeHidden();
  await openInvite(page);
  await panel.getByRole('button', { name: 'Close' }).click();
  await expect(panel).toBeHidden();
  await context.close();
});

/** Our 360 px phone, and real phones' descriptors: each draws the code at its own size and pixel density. */
const PHONES = [
  ['a 360 px phone', PHONE, 'invite-phone.png'],
  ['a Pixel 7', phoneDevice('Pixel 7'), null],
  ['an iPhone 15', phoneDevice('iPhone 15'), null],
] as const;

for (const [phone, device, shot] of PHONES) {
  test(`on ${phone} the Invite panel fits the screen, its buttons are big enough, and its QR code scans`, async ({ browser }) => {
    const { context, page } = await newPage(browser, device);
    await page.goto('/#Our-Holiday-Photos');
    await expect(page.getByLabel('Your name in this room')).toBeVisible();
    await expect(page.getByRole('note')).toContainText('has a name, not a secret key'); // still said in the room
    const panel = await openInvite(page);
    expect(await decodeQr(page)).toBe(page.url());
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    for (const button of await panel.getByRole('button').all()) {
      const box = (await button.boundingBox())!;
      expect(box.height, await button.textContent() ?? '').toBeGreaterThanOrEqual(44);
      expect(box.width, await button.textContent() ?? '').toBeGreaterThanOrEqual(44);
    }
    if (shot) await screenshot(page, shot, { fullPage: false });
    await context.close();
  });
}

/** The recent rooms as stored, read straight from IndexedDB: the visit is written just after the room opens. */
const storedRoomCount = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('meshdrop-prefs');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('prefs').objectStore('prefs').get('recent-rooms');
          get.onerror = () => reject(get.error);
          get.onsuccess = () => resolve(Array.isArray(get.result) ? get.result.length : 0);
        };
      }),
  );

test('the landing page lists the rooms this browser opened, newest first, and forgets one for good', async ({ browser }) => {
  const { context, page } = await newPage(browser, DESKTOP);
  const first = new URL(await startRoom(page));
  await expect.poll(() => storedRoomCount(page)).toBe(1);
  await joinRoom(page, '/#Team-Notes');
  await expect.poll(() => storedRoomCount(page)).toBe(2);

  await page.goto('/');
  const recent = page.getByRole('region', { name: 'Recent rooms' });
  const links = recent.getByRole('link');
  const randomName = `Room ${first.hash.slice(1, 7)}`;
  await expect(links).toHaveCount(2);
  await expect(links.nth(0)).toContainText('team-notes');
  await expect(links.nth(0)).toContainText('last visit just now');
  await expect(links.nth(1)).toContainText(randomName);
  await expect(links.nth(1)).toHaveAttribute('href', first.hash);
  expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
  await screenshot(page, 'landing-recent-desktop.png');

  await recent.getByRole('button', { name: `Forget ${randomName}` }).click();
  await expect(links).toHaveCount(1);
  await page.reload();
  await expect(links).toHaveCount(1);
  await expect(links.nth(0)).toContainText('team-notes');

  await links.nth(0).click(); // the link leads back into the room
  await expect(page.getByLabel('Your name in this room')).toBeVisible();
  await expect(page.getByRole('note')).toContainText('team-notes');
  await context.close();
});
