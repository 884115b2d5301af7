import { expect, test, type Browser, type Page } from '@playwright/test';
import { displayName, expectPeer, expectTouchTargets, fileRow, horizontalOverflow, newPage, phoneDevice, randomFile, screenshot, sha256 } from './helpers.ts';

/**
 * meshdrop on phones, by tapping: Pixel 7 and iPhone 15 descriptors (run in
 * Chromium: the descriptor's browser type is dropped). On every screen: no
 * sideways scrolling (at the phone's width and at 360 px), every touch
 * target at least 44 × 44; Tab shows a focus ring on "Share files"; the
 * storage meter shows; closing mid-download warns, closing idle does not.
 */
const LONG_NAME = `${'x'.repeat(38)}.bin`; // 42 characters, no spaces
const KiB = 1024;

/** The page is no wider than the screen, at its own width and at 360 px. */
async function expectNoSidewaysScroll(page: Page, screen: string): Promise<void> {
  const own = page.viewportSize()!;
  for (const width of [own.width, 360]) {
    await page.setViewportSize({ width, height: own.height });
    const over = await horizontalOverflow(page);
    expect(over, `${screen} at ${width} px: page is ${over} px wider than the screen`).toBeLessThanOrEqual(0);
  }
  await page.setViewportSize(own);
}

async function checkScreen(page: Page, screen: string): Promise<void> {
  await expectNoSidewaysScroll(page, screen);
  await expectTouchTargets(page, screen);
}

/** Presses Tab until "Share files" has focus; returns its outline style as drawn. */
async function tabToShareFiles(page: Page): Promise<string> {
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el.textContent?.trim() !== 'Share files') return null;
      const ring = (e: Element) => getComputedStyle(e).outlineStyle;
      const container = el.closest(':focus-within');
      return ring(el) !== 'none' ? ring(el) : container ? ring(container) : 'none';
    });
    if (focused !== null) return focused;
  }
  throw new Error('Tab never reached "Share files"');
}

async function tapDownload(page: Page, name: string): Promise<Buffer> {
  const saved = page.waitForEvent('download', { timeout: 120_000 });
  await fileRow(page, name).getByRole('button', { name: /^Download/ }).tap();
  const dl = await saved;
  const { readFileSync } = await import('node:fs');
  return readFileSync(await dl.path());
}

async function openPhone(browser: Browser, name: 'Pixel 7' | 'iPhone 15', colorScheme: 'light' | 'dark') {
  return newPage(browser, { ...phoneDevice(name), colorScheme });
}

test('two phones share a file by tapping; every screen fits and is touchable', async ({ browser, baseURL }) => {
  const small = randomFile(300 * KiB);
  const big = randomFile(6 * 1024 * KiB);

  // Alice (Pixel 7, dark) sends slowly, so Bob's second download is still running when he closes the page.
  const alice = await openPhone(browser, 'Pixel 7', 'dark');
  await alice.page.goto(`${baseURL}/?uplimit=${256 * KiB}`);
  await checkScreen(alice.page, 'landing');
  await screenshot(alice.page, 'landing-phone-dark.png');
  await alice.page.getByRole('button', { name: 'Start a room' }).tap();
  await expect(alice.page.getByLabel('Your name in this room')).toBeVisible();
  await expect(alice.page.getByText('Share a file with the button above, or send the room link to someone who has one')).toBeVisible();
  await expect(alice.page.getByText('Nobody else yet. Send the room link to someone.')).toBeVisible();
  await expect(alice.page.getByText(/^Storage: .+ used of .+$/)).toBeVisible();
  await checkScreen(alice.page, 'empty room');
  expect(await tabToShareFiles(alice.page)).not.toBe('none');
  const link = new URL(alice.page.url());
  const roomLink = `${baseURL}/${link.hash}`;

  // Bob (iPhone 15, light) opens the room link.
  const bob = await openPhone(browser, 'iPhone 15', 'light');
  await bob.page.goto(roomLink);
  await expect(bob.page.getByLabel('Your name in this room')).toBeVisible();
  await expectPeer(bob.page, await displayName(alice.page));
  await expectPeer(alice.page, await displayName(bob.page));
  await checkScreen(bob.page, 'empty room with a peer');
  await screenshot(bob.page, 'room-empty-phone.png');

  // The share area is one big button on a touch screen; the drop hint is gone.
  const shareButton = alice.page.getByRole('button', { name: 'Share files' });
  expect((await shareButton.boundingBox())!.width).toBeGreaterThan(300);
  await expect(alice.page.getByText('or drop files anywhere on this page')).toBeHidden();

  await alice.page.locator('#file-input').setInputFiles([
    { name: LONG_NAME, mimeType: 'application/octet-stream', buffer: small },
    { name: 'holiday.bin', mimeType: 'application/octet-stream', buffer: big },
  ]);
  await expect(fileRow(alice.page, LONG_NAME).getByText('Shared by you')).toBeVisible();
  await expect(fileRow(alice.page, 'holiday.bin').getByText('Shared by you')).toBeVisible();
  await expect(fileRow(bob.page, LONG_NAME)).toBeVisible();
  await expect(fileRow(bob.page, 'holiday.bin')).toBeVisible();
  await checkScreen(alice.page, 'room with files (sharer)');
  await checkScreen(bob.page, 'room with files (receiver)');
  await expect(fileRow(bob.page, LONG_NAME).getByRole('button', { name: /^Download/ })).toBeInViewport();
  await screenshot(alice.page, 'room-files-phone-dark.png');

  // The peer's details open by tapping; the verify checkbox is a full-size target too.
  await bob.page.locator('.peer:not(.self) summary').tap();
  await expect(bob.page.getByText('I compared it')).toBeVisible();
  await checkScreen(bob.page, 'peer details');

  // Tapping Download saves the very bytes Alice shared.
  const got = await tapDownload(bob.page, LONG_NAME);
  expect(sha256(got)).toBe(sha256(small));
  await expect(bob.page.getByText(/^Storage: .+ used of .+$/)).toBeVisible();

  // Idle: closing asks nothing. (Alice stays: a second tab of her context checks the named room below.)
  // Mid-download: closing warns.
  await fileRow(bob.page, 'holiday.bin').getByRole('button', { name: /^Download/ }).tap();
  await expect(fileRow(bob.page, 'holiday.bin').getByRole('progressbar')).toBeVisible();
  const bobDialogs: string[] = [];
  bob.page.on('dialog', (d) => {
    bobDialogs.push(d.type());
    void d.accept();
  });
  await bob.page.close({ runBeforeUnload: true });
  await expect.poll(() => bobDialogs).toEqual(['beforeunload']);
  await expect.poll(() => bob.page.isClosed()).toBe(true);

  // Bob's page said goodbye on pagehide: Alice stops listing him at once.
  await expect(alice.page.locator('.peer:not(.self)')).toHaveCount(0, { timeout: 5_000 });
  const aliceDialogs: string[] = [];
  alice.page.on('dialog', (d) => {
    aliceDialogs.push(d.type());
    void d.accept();
  });

  // A long typed room name wraps inside its warning.
  const named = await alice.context.newPage();
  await named.goto('/');
  await named.getByLabel('Or join a room by name').tap();
  await named.getByLabel('Or join a room by name').fill('a'.repeat(100));
  await checkScreen(named, 'landing with a long room name');
  await named.getByRole('button', { name: 'Join' }).tap();
  await expect(named.getByRole('note')).toBeVisible();
  await checkScreen(named, 'long named room');
  const warning = (await named.getByRole('note').boundingBox())!;
  expect(warning.x + warning.width).toBeLessThanOrEqual(named.viewportSize()!.width);

  await alice.page.close({ runBeforeUnload: true });
  await expect.poll(() => alice.page.isClosed()).toBe(true);
  expect(aliceDialogs, 'no warning when nothing is transferring').toEqual([]);
  await alice.context.close();
  await bob.context.close();
});
