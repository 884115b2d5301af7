import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { formatBytes } from '../../src/ui/format.ts';
import { DESKTOP, PHONE, fileRow, newPage, screenshot, shareFile, startRoom } from './helpers.ts';

/**
 * Installable and offline (issue 8): the manifest and its icons, the service
 * worker's offline shell, and "Share → meshdrop" through the share target.
 * Chromium treats http://127.0.0.1 as a secure context, so the worker runs here.
 */

interface Manifest {
  name: string; short_name: string; description: string; start_url: string; scope: string; display: string;
  theme_color: string; background_color: string;
  icons: { src: string; sizes: string; type: string; purpose?: string }[];
  share_target: { action: string; method: string; enctype: string; params: { title: string; text: string; url: string; files: { name: string; accept: string[] }[] } };
}

/** A PNG's width and height, from its IHDR chunk. */
const pngSize = (png: Buffer): string => `${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`;

const cssColour = (name: string): string => {
  const match = readFileSync('src/ui/styles.css', 'utf8').match(new RegExp(`--${name}:\\s*(#[0-9a-f]{6})`, 'i'));
  return match?.[1] ?? 'missing';
};

test('the manifest is served, complete and linked, and its icons load', async ({ request, page }) => {
  const res = await request.get('/manifest.webmanifest');
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toContain('application/manifest+json');
  const m = (await res.json()) as Manifest;
  expect(m).toMatchObject({ name: 'meshdrop', start_url: '/', scope: '/', display: 'standalone' });
  expect(m.short_name.length).toBeGreaterThan(0);
  expect(m.description.length).toBeGreaterThan(0);
  expect(m.theme_color).toBe(cssColour('accent'));
  expect(m.background_color).toBe(cssColour('bg'));
  expect(m.share_target).toEqual({
    action: '/share-target', method: 'POST', enctype: 'multipart/form-data',
    params: { title: 'title', text: 'text', url: 'url', files: [{ name: 'files', accept: ['*/*'] }] },
  });
  const pngs = m.icons.filter((i) => i.type === 'image/png');
  expect(pngs.map((i) => `${i.sizes} ${i.purpose ?? 'any'}`).sort()).toEqual(['192x192 any', '512x512 any', '512x512 maskable']);
  expect(m.icons.some((i) => i.type === 'image/svg+xml' && i.sizes === 'any')).toBe(true);
  for (const icon of m.icons) {
    const got = await request.get(icon.src);
    expect(got.status(), icon.src).toBe(200);
    expect(got.headers()['content-type'], icon.src).toContain(icon.type);
    if (icon.type === 'image/png') expect(pngSize(await got.body()), icon.src).toBe(icon.sizes);
  }

  await page.goto('/');
  expect(await page.locator('link[rel="manifest"]').getAttribute('href')).toBe('/manifest.webmanifest');
  const touchIcon = await page.locator('link[rel="apple-touch-icon"]').getAttribute('href');
  expect((await request.get(touchIcon ?? '/missing')).headers()['content-type']).toContain('image/png');
  expect(await page.locator('meta[name="theme-color"]').getAttribute('content')).toBe(m.theme_color);
});

test('without a service worker, a share is answered with a redirect to the picker, which explains; other POSTs stay refused', async ({ request }) => {
  const shared = await request.post('/share-target', { multipart: { files: { name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') } }, maxRedirects: 0 });
  expect(shared.status()).toBe(303);
  expect(shared.headers()['location']).toBe('/#share');
  expect((await request.post('/index.html', { data: 'x' })).status()).toBe(405);
  expect((await request.post('/share-target/else', { data: 'x' })).status()).toBe(405);
});

test('a first visit to the picker, before the service worker runs, says to open meshdrop once', async ({ browser }) => {
  const { context, page } = await newPage(browser, { ...PHONE, serviceWorkers: 'block' });
  await page.goto('/#share');
  await expect(page.getByRole('status')).toContainText('Open meshdrop once before sharing to it');
  await context.close();
});

async function untilControlled(page: Page): Promise<void> {
  // ready resolves once a worker is active (perhaps still 'activating'); clients.claim() then makes it control this page.
  expect(await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL)).toMatch(/\/sw\.js$/);
  await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated');
}

test('the service worker precaches the shell: offline, the landing page and a room with its stored files open', async ({ browser }) => {
  const { context, page } = await newPage(browser, DESKTOP);
  await page.goto('/');
  await untilControlled(page);
  const link = await startRoom(page, false);
  const file = Buffer.alloc(5000, 7);
  await shareFile(page, 'kept-here.bin', file);

  await context.setOffline(true);
  const [worker] = context.serviceWorkers();
  expect(await worker!.evaluate(() => fetch('/config.json').then(() => 'reached', () => 'offline'))).toBe('offline');
  const reloaded = await page.reload();
  expect(reloaded?.fromServiceWorker()).toBe(true);
  expect(page.url()).toBe(link);
  await expect(page.getByLabel('Your name in this room')).toBeVisible();
  await expect(page.locator('.relay')).toHaveText(/You are offline/);
  await expect(fileRow(page, 'kept-here.bin').getByText('Shared by you')).toBeVisible();
  await expect(fileRow(page, 'kept-here.bin')).toContainText(formatBytes(file.length));
  await screenshot(page, 'offline-desktop.png');

  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Start a room' })).toBeVisible();
  await context.close();
});

/** What Android does on "Share → meshdrop": a multipart POST navigation to the share target. */
async function shareFromAnotherApp(page: Page, files: { name: string; size: number }[]): Promise<void> {
  await page.evaluate((list) => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = '/share-target';
    form.enctype = 'multipart/form-data';
    const input = document.createElement('input');
    input.type = 'file';
    input.name = 'files';
    input.multiple = true;
    const picked = new DataTransfer();
    for (const f of list) picked.items.add(new File([new Uint8Array(f.size).fill(f.size % 251)], f.name, { type: 'application/octet-stream' }));
    input.files = picked.files;
    form.append(input);
    document.body.append(form);
    form.submit();
  }, files);
  await page.waitForURL(/\/#share$/);
}

test('Share → meshdrop: the shared files wait in the picker, and go into a new room or a pasted room link', async ({ browser }) => {
  const { context, page } = await newPage(browser, PHONE);
  await page.goto('/');
  await untilControlled(page);
  const files = [{ name: 'holiday photo.jpg', size: 123_457 }, { name: 'notes.pdf', size: 2_048 }];
  await shareFromAnotherApp(page, files);

  const picked = page.locator('.share-picker li.file');
  await expect(picked).toHaveCount(2);
  for (const f of files) await expect(picked.filter({ hasText: f.name })).toContainText(formatBytes(f.size));
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.viewport.width);
  await screenshot(page, 'share-picker-phone.png');

  await page.getByRole('button', { name: 'Start a new room with them' }).click();
  await expect(page.getByLabel('Your name in this room')).toBeVisible();
  for (const f of files) {
    await expect(fileRow(page, f.name).getByText('Shared by you')).toBeVisible();
    await expect(fileRow(page, f.name)).toContainText(formatBytes(f.size));
  }
  const room = page.url();
  // Handed over once: the picker is empty now, and reloading the room shares nothing new.
  await page.reload();
  await expect(page.locator('li.file')).toHaveCount(2);

  await page.goto('/');
  await shareFromAnotherApp(page, [{ name: 'later.txt', size: 300 }]);
  await expect(page.locator('.share-picker li.file')).toHaveCount(1);
  // The room just used is offered among the recent rooms.
  await expect(page.getByRole('button', { name: /^Share into Room / })).toHaveCount(1);
  const paste = page.getByLabel('or paste a room link');
  await paste.fill('https://elsewhere.example/#abcdefghijklmnopqrstuv');
  await page.getByRole('button', { name: 'Share there' }).click();
  await expect(page.getByRole('alert')).toHaveText('That is not a meshdrop room link from this site.');
  await paste.fill(room);
  await page.getByRole('button', { name: 'Share there' }).click();
  await expect(fileRow(page, 'later.txt').getByText('Shared by you')).toBeVisible();
  expect(page.url()).toBe(room);
  await expect(page.locator('li.file')).toHaveCount(3);

  // A recent room takes one tap.
  await page.goto('/');
  await shareFromAnotherApp(page, [{ name: 'one-tap.txt', size: 100 }]);
  await page.getByRole('button', { name: /^Share into Room / }).click();
  await expect(fileRow(page, 'one-tap.txt').getByText('Shared by you')).toBeVisible();
  expect(page.url()).toBe(room);

  await page.goto('/#share');
  await expect(page.getByRole('status')).toContainText('Nothing is waiting to be shared');
  await context.close();
});
