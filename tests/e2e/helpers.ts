import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';

/** Helpers shared by the e2e specs: open a room, share a file, download it and hash what was saved. */
export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

export function randomFile(bytes: number): Buffer {
  return randomBytes(bytes);
}

export const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
export const DESKTOP = { viewport: { width: 1280, height: 800 } };

export async function newPage(browser: Browser, opts: Parameters<Browser['newContext']>[0] = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(opts);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  return { context, page };
}

/** Starts a room from the landing page (opening it first unless told not to); returns the room link. */
export async function startRoom(page: Page, open = true): Promise<string> {
  if (open) await page.goto('/');
  await page.getByRole('button', { name: 'Start a room' }).click();
  await expect(page.getByLabel('Your name in this room')).toBeVisible();
  return page.url();
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

/** Saves a screenshot next to the test output, for people to look at. */
export async function screenshot(page: Page, file: string): Promise<void> {
  const dir = join('test-results', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, file), fullPage: true });
}
