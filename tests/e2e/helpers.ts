import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium, devices, expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { CHROMIUM, CHROMIUM_ARGS } from '../../playwright.config.ts';

/** Helpers shared by the e2e specs: open a room, share a file, download it and hash what was saved. */
export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

export function randomFile(bytes: number): Buffer {
  return randomBytes(bytes);
}

export const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
export const DESKTOP = { viewport: { width: 1280, height: 800 } };

/** A real phone's descriptor (viewport, touch, user agent), run in our Chromium: its browser type is dropped. */
export function phoneDevice(name: 'Pixel 7' | 'iPhone 15') {
  const { defaultBrowserType: _ignored, ...descriptor } = devices[name];
  return descriptor;
}

export async function newPage(browser: Browser, opts: Parameters<Browser['newContext']>[0] = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(opts);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  return { context, page };
}

/**
 * A browser profile on disk: its IndexedDB (and so its identity and what it
 * remembers) outlives a reload. Playwright's default contexts keep IndexedDB in memory.
 */
export async function persistentBrowser(dir: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, baseURL: test.info().project.use.baseURL, ...DESKTOP,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  return { context, page };
}

/** A value this browser has committed to its prefs in IndexedDB (read the way the app reads them). */
export function storedPref(page: Page, key: string): Promise<unknown> {
  return page.evaluate((k) => new Promise<unknown>((resolve, reject) => {
    const open = indexedDB.open('meshdrop-prefs');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const get = open.result.transaction('prefs').objectStore('prefs').get(k);
      get.onerror = () => reject(get.error);
      get.onsuccess = () => {
        open.result.close();
        resolve(get.result);
      };
    };
  }), key);
}

/** Starts a room from the landing page (opening it first unless told not to); returns the room link. */
export async function startRoom(page: Page, open = true): Promise<string> {
  if (open) await page.goto('/');
  await page.getByRole('button', { name: 'Start a room' }).click();
  await expect(page.getByLabel('Your name in this room')).toBeVisible();
  return page.url();
}

/** Opens `base` (a server of the test's own; `query` e.g. `?uplimit=...`) and starts a room there; returns its fragment. */
export async function startRoomAt(page: Page, base: string, query = ''): Promise<string> {
  await page.goto(`${base}/${query}`);
  return new URL(await startRoom(page, false)).hash;
}

/** Alice starts a room on `base` and Bob joins it, each in a desktop context of their own. */
export async function pairAt(browser: Browser, base: string, aliceQuery = '') {
  const alice = await newPage(browser, DESKTOP);
  const room = await startRoomAt(alice.page, base, aliceQuery);
  const bob = await newPage(browser, DESKTOP);
  await joinRoom(bob.page, `${base}/${room}`);
  return { alice, bob, room };
}

export async function joinRoom(page: Page, link: string): Promise<void> {
  await page.goto(link);
  await expect(page.getByLabel('Your name in this room')).toBeVisible();
}

export async function displayName(page: Page): Promise<string> {
  return page.getByLabel('Your name in this room').inputValue();
}

/** Waits until `page` has an open link to a peer shown under `name`. */
export async function expectPeer(page: Page, name: string): Promise<void> {
  const peer = page.locator('.peer:not(.self)').filter({ hasText: name });
  await expect(peer.locator('.dot.open')).toBeVisible();
}

export async function shareFile(page: Page, name: string, buffer: Buffer, mimeType = 'application/octet-stream'): Promise<void> {
  await page.locator('#file-input').setInputFiles({ name, mimeType, buffer });
  await expect(fileRow(page, name).getByText('Shared by you')).toBeVisible();
}

export const fileRow = (page: Page, name: string) => page.locator('li.file').filter({ has: page.locator('.file-name', { hasText: name }) });

/** Clicks the file's button named `button` and returns what the browser saves. */
async function clickAndSave(page: Page, name: string, button: RegExp): Promise<{ name: string; bytes: Buffer }> {
  const saved = page.waitForEvent('download', { timeout: 120_000 });
  await fileRow(page, name).getByRole('button', { name: button }).click();
  const dl = await saved;
  return { name: dl.suggestedFilename(), bytes: readFileSync(await dl.path()) };
}

/** Clicks Download; resolves with the saved file's name and bytes once the browser saves it. */
export const download = (page: Page, name: string) => clickAndSave(page, name, /^Download/);

/** Clicks Save on a complete file. */
export const save = (page: Page, name: string) => clickAndSave(page, name, /^Save/);

/** How far the page reaches past the right edge of the screen, in CSS px (0 or less: no sideways scrolling). */
export const horizontalOverflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/** Opens the Invite panel by its button; returns the panel. */
export async function openInvite(page: Page) {
  await page.getByRole('button', { name: /Invite/ }).click();
  const panel = page.getByRole('dialog', { name: 'Invite people' });
  await expect(panel).toBeVisible();
  return panel;
}

/** Reads the Invite panel's QR code the way a phone camera would: from the pixels on screen, with a real QR reader. */
export async function decodeQr(page: Page): Promise<string | null> {
  const png = PNG.sync.read(await page.getByRole('img', { name: 'QR code' }).screenshot());
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
}

/**
 * Saves a screenshot under test-results/screenshots, for people to look at: the
 * whole page, or with `fullPage: false` the screen as it is (a modal panel sits
 * in the screen, not the page). Not Playwright's fullPage capture: that
 * re-emulates the screen and loses a phone's touch pointer, so the phone layout
 * would not show; the viewport is stretched to the page's height instead.
 */
export async function screenshot(page: Page, file: string, { fullPage = true } = {}): Promise<void> {
  const path = join('test-results', 'screenshots', file);
  mkdirSync(dirname(path), { recursive: true });
  const own = page.viewportSize()!;
  const height = fullPage ? await page.evaluate(() => document.documentElement.scrollHeight) : own.height;
  if (height > own.height) await page.setViewportSize({ width: own.width, height });
  await page.screenshot({ path, animations: 'disabled' }); // transitions finished: a scheme just switched shows its own colours
  if (height > own.height) await page.setViewportSize(own);
}

/** Every visible button, link, summary and checkbox (by its label) is at least 44 × 44. */
export async function expectTouchTargets(page: Page, screen: string): Promise<void> {
  const offenders = await page.evaluate(() => {
    const small: string[] = [];
    for (const el of document.querySelectorAll('button, a[href], summary, input[type=checkbox]')) {
      const target = el.matches('input[type=checkbox]') ? (el.closest('label') ?? el) : el;
      const box = target.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue; // not rendered (closed details, hidden)
      if (box.width < 44 || box.height < 44) {
        const what = `${target.tagName.toLowerCase()} "${(target.textContent || target.getAttribute('aria-label') || '').trim().slice(0, 30)}"`;
        small.push(`${what} ${box.width.toFixed(0)}×${box.height.toFixed(0)}`);
      }
    }
    return small;
  });
  expect(offenders, `${screen}: touch targets under 44×44: ${offenders.join('; ')}`).toEqual([]);
}

/** Hides showSaveFilePicker, as in browsers without it: a zip is saved through the service worker's download route. */
export const HIDE_PICKER = () => Object.defineProperty(window, 'showSaveFilePicker', { value: undefined, configurable: true });
