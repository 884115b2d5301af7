import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../../playwright.config.ts';
import { download, fileRow, joinRoom, randomFile, save, sha256, shareFile, startRoom } from './helpers.ts';

/**
 * Resume after reload, with real on-disk IndexedDB: Playwright's default
 * contexts keep IndexedDB in memory, so each browser here is a persistent
 * context with a fresh profile directory.
 */
const MiB = 1024 * 1024;

interface DownloadStats { have: number; pieceCount: number; resumedWith: number; piecesReceived: number; duplicatePieces: number; status: string }
const statsOf = async (page: Page): Promise<DownloadStats | undefined> =>
  page.evaluate(() => {
    const s = (globalThis as unknown as { __meshdrop?: { stats(): { downloads: Record<string, DownloadStats> } } }).__meshdrop?.stats();
    return s && Object.values(s.downloads)[0];
  });

const profiles: string[] = [];
async function persistentPage(): Promise<{ context: BrowserContext; page: Page }> {
  const dir = mkdtempSync(join(tmpdir(), 'meshdrop-profile-'));
  profiles.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, acceptDownloads: true, viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}
test.afterAll(() => {
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
});

test('a reloaded downloader resumes without refetching; a reloaded sharer serves again', async ({ baseURL }) => {
  const original = randomFile(12 * MiB);
  const sharer = await persistentPage();
  await sharer.page.goto(`${baseURL}/?uplimit=${3 * MiB}`);
  const link = await startRoom(sharer.page, false);
  const room = new URL(link).hash;
  await shareFile(sharer.page, 'resume.bin', original);

  const downloader = await persistentPage();
  await joinRoom(downloader.page, `${baseURL}/${room}`);
  await fileRow(downloader.page, 'resume.bin').getByRole('button', { name: /Download/ }).click();
  await expect.poll(async () => (await statsOf(downloader.page))?.have ?? 0, { timeout: 30_000 }).toBeGreaterThan(12);
  const heldBefore = (await statsOf(downloader.page))!;
  expect(heldBefore.have).toBeLessThan(heldBefore.pieceCount);

  // The person asked for the file before the reload: the resumed download saves it once it completes.
  const saves: Promise<{ name: string; bytes: Buffer }>[] = [];
  downloader.page.on('download', (d) => saves.push(d.path().then((p) => ({ name: d.suggestedFilename(), bytes: readFileSync(p) }))));
  await downloader.page.reload();
  // Unfinished downloads resume by themselves after a reload.
  await expect(fileRow(downloader.page, 'resume.bin')).toContainText('you share it too', { timeout: 60_000 });
  await expect.poll(() => saves.length, { message: 'the resumed download was saved by itself' }).toBe(1);
  const autoSaved = await saves[0]!;
  expect(autoSaved.name).toBe('resume.bin');
  expect(sha256(autoSaved.bytes)).toBe(sha256(original));
  const after = (await statsOf(downloader.page))!;
  expect(after.resumedWith).toBeGreaterThan(0);
  expect(after.resumedWith).toBeGreaterThanOrEqual(heldBefore.have - 16); // at most the unstored tail is lost
  expect(after.duplicatePieces).toBe(0);
  expect(after.piecesReceived, 'only pieces missing at reload were fetched').toBe(after.pieceCount - after.resumedWith);
  const resumed = await save(downloader.page, 'resume.bin');
  expect(resumed.name).toBe('resume.bin');
  expect(sha256(resumed.bytes)).toBe(sha256(original));
  expect(saves.length, 'Save saves again, once').toBe(2);

  // The sharer reloads: its file comes back from IndexedDB and it serves a newcomer alone.
  await downloader.context.close();
  await sharer.page.reload();
  await expect(fileRow(sharer.page, 'resume.bin')).toContainText('Shared by you');
  const newcomer = await persistentPage();
  await joinRoom(newcomer.page, `${baseURL}/${room}`);
  const got = await download(newcomer.page, 'resume.bin');
  expect(sha256(got.bytes)).toBe(sha256(original));
  await newcomer.context.close();
  await sharer.context.close();
});
