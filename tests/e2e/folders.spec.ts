import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { readZip } from '../unit/helpers/zip-reader.ts';
import { DESKTOP, HIDE_PICKER, PHONE, displayName, expectPeer, fileRow, joinRoom, newPage, randomFile, screenshot, sha256, shareFile, startRoom } from './helpers.ts';

/**
 * Folders end to end: a folder with subfolders is shared through the folder
 * picker; others see it as one entry that expands into its tree and save it
 * (or the whole room, or a selection) as one streamed zip, through both save
 * paths: the service-worker download route (showSaveFilePicker hidden) and
 * showSaveFilePicker (stubbed with a file in the origin-private file system,
 * since a test cannot click a native dialog). Each zip is unpacked by the
 * test's own reader (and checked by `unzip -t` where installed); every
 * entry's path and SHA-256 must be the sharer's.
 */

/** holiday/readme.txt, holiday/photos/{a.bin (3 pieces), b.bin}, holiday/photos/raw/c.bin */
function makeFolder(): { root: string; dir: string; files: Map<string, Buffer> } {
  const root = mkdtempSync(join(tmpdir(), 'meshdrop-folder-'));
  const files = new Map<string, Buffer>([
    ['holiday/readme.txt', Buffer.from('what we did on holiday\n'.repeat(50))],
    ['holiday/photos/a.bin', randomFile(700 * 1024)],
    ['holiday/photos/b.bin', randomFile(10_000)],
    ['holiday/photos/raw/c.bin', randomFile(300 * 1024)],
  ]);
  for (const [path, bytes] of files) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), bytes);
  }
  return { root, dir: join(root, 'holiday'), files };
}

const hashes = (entries: Iterable<[string, Uint8Array]>) => Object.fromEntries([...entries].map(([p, b]) => [p, sha256(b)]));

/** Checks a saved zip: the entries are exactly `expected` (path -> bytes), bytes compared by SHA-256. */
function expectZip(zip: Buffer, expected: Map<string, Buffer>): void {
  const entries = readZip(new Uint8Array(zip));
  expect(hashes(entries.map((e) => [e.name, e.data]))).toEqual(hashes(expected));
  expect(entries.length).toBe(expected.size);
  if (hasUnzip()) {
    const dir = mkdtempSync(join(tmpdir(), 'meshdrop-zip-'));
    writeFileSync(join(dir, 'saved.zip'), zip);
    execFileSync('unzip', ['-tq', join(dir, 'saved.zip')]); // throws on a CRC or structure error
    rmSync(dir, { recursive: true });
  }
}

function hasUnzip(): boolean {
  try {
    execFileSync('which', ['unzip']);
    return true;
  } catch {
    return false; // the test's own reader still checks every entry and its CRC
  }
}


/** A save picker that "chooses" picked.zip in the origin-private file system, where the test can read it back. */
const OPFS_PICKER = () => {
  Object.defineProperty(window, 'showSaveFilePicker', {
    configurable: true,
    value: async (opts: { suggestedName: string }) => {
      (window as unknown as { pickedName: string }).pickedName = opts.suggestedName;
      return (await navigator.storage.getDirectory()).getFileHandle('picked.zip', { create: true });
    },
  });
};

async function readPicked(page: Page): Promise<Buffer> {
  const base64 = await page.evaluate(async () => {
    const file = await (await (await navigator.storage.getDirectory()).getFileHandle('picked.zip')).getFile();
    const url = await new Promise<string>((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result as string);
      reader.readAsDataURL(file);
    });
    return url.slice(url.indexOf(',') + 1);
  });
  return Buffer.from(base64, 'base64');
}

const folderEntry = (page: Page, name: string) => page.locator('li.folder').filter({ has: page.locator('.disclosure .file-name', { hasText: name }) });

test('a folder shared through the picker is one entry with its tree; Download all saves it as one zip', async ({ browser }) => {
  const { root, dir, files } = makeFolder();
  const alice = await newPage(browser, DESKTOP);
  const link = await startRoom(alice.page);
  await alice.page.locator('#folder-input').setInputFiles(dir);
  await expect(folderEntry(alice.page, 'holiday')).toContainText('4 files');
  await expect(folderEntry(alice.page, 'holiday')).toContainText('all here');
  const loose = randomFile(20_000);
  await shareFile(alice.page, 'loose.bin', loose);

  // Bob's browser has no showSaveFilePicker: the zip goes through the service worker's download route.
  const bob = await newPage(browser, DESKTOP);
  await bob.context.addInitScript(HIDE_PICKER);
  await joinRoom(bob.page, link);
  await expectPeer(bob.page, await displayName(alice.page));
  const holiday = folderEntry(bob.page, 'holiday');
  await expect(holiday).toContainText('4 files');
  await expect(holiday).toContainText('0% here');
  await expect(holiday.getByRole('status')).toHaveText('downloads 4 files first, then saves one zip');
  const disclosure = holiday.getByRole('button', { name: 'holiday', exact: true, expanded: false });
  await disclosure.focus();
  await bob.page.keyboard.press('Enter');
  await expect(holiday.getByRole('button', { name: 'holiday', exact: true })).toHaveAttribute('aria-expanded', 'true');
  for (const name of ['readme.txt', 'a.bin', 'b.bin', 'c.bin']) await expect(fileRow(bob.page, name)).toBeVisible();
  await expect(holiday.locator('[data-folder="holiday/photos/raw"]')).toContainText('raw');
  await screenshot(bob.page, 'folder-expanded-desktop.png');

  const saved = bob.page.waitForEvent('download', { timeout: 120_000 });
  await holiday.getByRole('button', { name: 'Download all of holiday as a zip' }).click();
  const dl = await saved;
  expect(dl.suggestedFilename()).toBe('holiday.zip');
  expectZip(readFileSync(await dl.path()), files);
  await expect(holiday.getByRole('status')).toHaveText('Saved holiday.zip');
  await expect(holiday).toContainText('all here');

  // Selection: tick two files, remove them from this device; they are offered for download again.
  await bob.page.getByRole('checkbox', { name: 'Select holiday/photos/b.bin' }).check();
  await bob.page.getByRole('checkbox', { name: 'Select holiday/photos/raw/c.bin' }).check();
  await expect(bob.page.locator('.selection-bar')).toContainText('2 selected');
  await bob.page.getByRole('button', { name: /Remove the 2 selected files/ }).click();
  await expect(fileRow(bob.page, 'b.bin').getByRole('button', { name: 'Download b.bin' })).toBeVisible();
  await expect(fileRow(bob.page, 'c.bin').getByRole('button', { name: 'Download c.bin' })).toBeVisible();
  await expect(bob.page.locator('.selection-bar')).toHaveCount(0);

  // Download selected (one removed file, one held, one loose): fetched first, then one zip, paths kept.
  await bob.page.getByRole('checkbox', { name: 'Select holiday/photos/raw/c.bin' }).check();
  await bob.page.getByRole('checkbox', { name: 'Select holiday/photos/a.bin' }).check();
  await bob.page.getByRole('checkbox', { name: 'Select loose.bin' }).check();
  await expect(bob.page.locator('.selection-bar').getByRole('status')).toHaveText('downloads 2 files first, then saves one zip');
  const selected = bob.page.waitForEvent('download', { timeout: 120_000 });
  await bob.page.getByRole('button', { name: 'Download selected files as a zip' }).click();
  const selectedZip = await selected;
  expectZip(readFileSync(await selectedZip.path()), new Map([
    ['holiday/photos/a.bin', files.get('holiday/photos/a.bin')!],
    ['holiday/photos/raw/c.bin', files.get('holiday/photos/raw/c.bin')!],
    ['loose.bin', loose],
  ]));

  // A folder's box ticks all its files, and unticks them.
  const selectionBar = bob.page.locator('.selection-bar');
  await expect(selectionBar).toContainText('3 selected');
  await bob.page.getByRole('checkbox', { name: 'Select all files in holiday' }).check();
  await expect(selectionBar).toContainText('5 selected');
  await expect(bob.page.getByRole('checkbox', { name: 'Select holiday/readme.txt' })).toBeChecked();
  await screenshot(bob.page, 'folder-selected-desktop.png');
  await bob.page.getByRole('checkbox', { name: 'Select all files in holiday' }).uncheck();
  await expect(selectionBar).toContainText('1 selected');

  // Carol, on a phone in dark mode, saves the whole room through showSaveFilePicker.
  const carol = await newPage(browser, { ...PHONE, colorScheme: 'dark' });
  await carol.context.addInitScript(OPFS_PICKER);
  await joinRoom(carol.page, link);
  const carolHoliday = folderEntry(carol.page, 'holiday');
  await carolHoliday.getByRole('button', { name: 'holiday', exact: true }).click();
  await expect(fileRow(carol.page, 'c.bin')).toBeVisible();
  await screenshot(carol.page, 'folder-expanded-phone-dark.png');
  expect(await carol.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  await carol.page.getByRole('button', { name: 'Download all files of this room as a zip' }).click();
  const roomAction = carol.page.locator('.file-list-actions > .zip-action').getByRole('status');
  await expect(roomAction).toHaveText('Saved meshdrop room.zip', { timeout: 120_000 });
  expect(await carol.page.evaluate(() => (window as unknown as { pickedName: string }).pickedName)).toBe('meshdrop room.zip');
  expectZip(await readPicked(carol.page), new Map([...files, ['loose.bin', loose]]));

  for (const p of [alice, bob, carol]) await p.context.close();
  rmSync(root, { recursive: true });
});

test('a service worker that never takes the zip: the person is told, instead of "Saving…" for ever', async ({ browser }) => {
  const alice = await newPage(browser, DESKTOP);
  const link = await startRoom(alice.page);
  await shareFile(alice.page, 'lonely.bin', randomFile(30_000));
  await shareFile(alice.page, 'company.bin', randomFile(20_000)); // "Download all" is offered from two files on
  const bob = await newPage(browser, DESKTOP);
  await bob.context.addInitScript(HIDE_PICKER);
  // As when the browser stops the worker between the hand-over and the download: nothing ever answers.
  await bob.context.addInitScript(() => {
    ServiceWorker.prototype.postMessage = () => undefined;
  });
  await joinRoom(bob.page, link);
  await expect(fileRow(bob.page, 'lonely.bin')).toBeVisible();
  await bob.page.getByRole('button', { name: 'Download all files of this room as a zip' }).click();
  const status = bob.page.locator('.file-list-actions > .zip-action').getByRole('status');
  await expect(status).toContainText('Could not save the zip: the browser did not take the zip', { timeout: 30_000 });
  await expect(bob.page.getByRole('button', { name: 'Download all files of this room as a zip' })).toBeEnabled();
  for (const p of [alice, bob]) await p.context.close();
});
