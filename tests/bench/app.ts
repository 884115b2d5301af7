import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS, sleep, withTimeout, type Cleanup } from './infra.ts';
import { marker } from './procs.ts';
import { Sampler, type Sample } from './sampler.ts';
import { trackContext } from './transport.ts';

/**
 * Driving meshdrop the way a person does: through its page. Same selectors as
 * tests/e2e/helpers.ts, but without Playwright's test-only `expect` (this runs
 * outside the test runner) and with timeouts that scale with the file size.
 */
export interface Peer {
  context: BrowserContext;
  page: Page;
  label: string;
}

export const launchOptions = (label: string) => ({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, marker(label)] });

type ContextOptions = NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>;

/** A browser of its own with IndexedDB on disk, like a real person's profile; `options` e.g. a phone's viewport. */
export async function persistentPeer(root: string, label: string, cleanup: Cleanup, options: ContextOptions = {}): Promise<Peer> {
  const profile = join(root, `profile-${label}`);
  const downloadsPath = join(root, `downloads-${label}`);
  mkdirSync(downloadsPath, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, { ...options, ...launchOptions(label), acceptDownloads: true, downloadsPath });
  cleanup.add(`close browser ${label}`, () => context.close());
  await trackContext(context);
  const page = context.pages()[0] ?? (await context.newPage());
  watchErrors(page, label);
  return { context, page, label };
}

/** A context in a shared browser: IndexedDB in memory, cheap to run several at once. */
export async function contextPeer(browser: Browser, label: string): Promise<Peer> {
  const context = await browser.newContext({ acceptDownloads: true });
  await trackContext(context);
  const page = await context.newPage();
  watchErrors(page, label);
  return { context, page, label };
}

function watchErrors(page: Page, label: string): void {
  page.on('pageerror', (e) => console.error(`[${label} page error] ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.error(`[${label} console.${m.type()}] ${m.text()}`);
  });
}

const nameField = (page: Page) => page.getByLabel('Your name in this room');

/** Opens the landing page and starts a room; returns the room link (secret in the fragment). */
export async function startRoom(page: Page, base: string): Promise<string> {
  await page.goto(base);
  await page.getByRole('button', { name: 'Start a room' }).click();
  await nameField(page).waitFor();
  return page.url();
}

/** Joins by link; `query` (e.g. `?uplimit=...`) goes before the fragment, as a person's URL would have it. */
export async function joinRoom(page: Page, link: string, query = ''): Promise<string> {
  const url = new URL(link);
  await page.goto(`${url.origin}/${query}${url.hash}`);
  await nameField(page).waitFor();
  return nameField(page).inputValue();
}

export const fileRow = (page: Page, name: string) =>
  page.locator('li.file').filter({ has: page.locator('.file-name', { hasText: name }) });

/** Shares a file from disk (Playwright hands the browser the path: 256 MiB never passes through a Buffer). */
export async function shareFile(page: Page, path: string, name: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  await page.locator('#file-input').setInputFiles(path);
  await fileRow(page, name).getByText('Shared by you').waitFor({ timeout: timeoutMs });
  return (performance.now() - t0) / 1000;
}

/** Waits until the page has open links to `peers` others and the file's row lists every holder by name. */
export async function waitForHolders(page: Page, fileName: string, holders: string[], peers: number): Promise<void> {
  const row = fileRow(page, fileName);
  const open = page.locator('.peer:not(.self) .dot.open');
  await withTimeout((async () => {
    for (;;) {
      const text = (await row.count()) > 0 ? ((await row.first().textContent()) ?? '') : '';
      if ((await open.count()) >= peers && holders.every((h) => text.includes(h))) return;
      await sleep(200);
    }
  })(), 60_000, `waiting for ${peers} open peers holding ${fileName}`);
}

export interface TimedDownload {
  /** Click to the browser's 'download' event (the app handed the file to the browser). */
  clickToEventSeconds: number;
  /** Click to the file written out in full by the browser's download manager. */
  clickToSavedSeconds: number;
  path: string;
  samples: Sample[];
}

/** Clicks Download and times it to the saved file, sampling heap and progress every 250 ms meanwhile. */
export async function timedDownload(peer: Peer, fileName: string, timeoutMs: number): Promise<TimedDownload> {
  const sampler = await Sampler.start(peer.page, peer.label);
  try {
    const event = peer.page.waitForEvent('download', { timeout: timeoutMs });
    const button = fileRow(peer.page, fileName).getByRole('button', { name: `Download ${fileName}`, exact: true });
    await button.waitFor();
    await sleep(300); // at least one reading before the click: the heap at start
    sampler.mark();
    const t0 = performance.now();
    await button.click();
    const download = await event;
    const tEvent = performance.now();
    const path = await download.path();
    const tSaved = performance.now();
    return { clickToEventSeconds: (tEvent - t0) / 1000, clickToSavedSeconds: (tSaved - t0) / 1000, path, samples: await sampler.stop() };
  } finally {
    await sampler.stop();
  }
}

/** The app's own counters (window.__meshdrop.stats()). */
export interface AppStats {
  uploadedBytes: number;
  downloads: Record<string, { status: string; have: number; pieceCount: number; piecesReceived: number; duplicatePieces: number; badPieces: number; resumedWith: number }>;
}

export const appStats = (page: Page) => page.evaluate('window.__meshdrop ? window.__meshdrop.stats() : null') as Promise<AppStats | null>;
