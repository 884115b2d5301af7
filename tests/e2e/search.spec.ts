import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { readZip } from '../unit/helpers/zip-reader.ts';
import { DESKTOP, displayName, expectPeer, HIDE_PICKER, joinRoom, newPage, PHONE, screenshot, startRoom } from './helpers.ts';

/**
 * The search box over a room of 1,000 files, in real Chromium: the sharer
 * types and the visible rows narrow with each keystroke; kinds narrow by
 * chip; a friend on a phone finds the files by the sharer's name; a folder
 * holding a match opens to show only its matches; the room's Download all
 * becomes "Download N matches" (below the box) and zips only them; a
 * selection outlives a search, and its bar says what the search hides. The list
 * renders a page of rows at a time, so the rows on screen are checked
 * against the first page of the expected matches.
 */
const KINDS = [
  ['photo', 'jpg', 'image/jpeg'],
  ['clip', 'mp4', 'video/mp4'],
  ['report', 'pdf', 'application/pdf'],
  ['backup', 'zip', 'application/zip'],
  ['data', 'bin', 'application/octet-stream'],
] as const;
const PAGE = 100;

/** 1,000 small files, 200 of each kind: photo-0000.jpg, clip-0001.mp4, … (distinct bytes, so 1,000 distinct files). */
const FILES = Array.from({ length: 1000 }, (_, i) => {
  const [stem, ext, mimeType] = KINDS[i % KINDS.length]!;
  return { name: `${stem}-${String(i).padStart(4, '0')}.${ext}`, mimeType, buffer: Buffer.from(`file number ${i}\n`) };
});
const ALL = FILES.map((f) => f.name).sort((a, b) => a.localeCompare(b));

/** trip/beach.jpg, trip/notes/beach-day.txt, trip/notes/plan.txt on disk, for the folder picker; returns trip's path. */
function makeTrip(): string {
  const root = mkdtempSync(join(tmpdir(), 'meshdrop-search-'));
  mkdirSync(join(root, 'trip', 'notes'), { recursive: true });
  const files: [string, string][] = [['trip/beach.jpg', 'sand'], ['trip/notes/beach-day.txt', 'swim'], ['trip/notes/plan.txt', 'pack']];
  for (const [path, text] of files) {
    writeFileSync(join(root, path), text);
  }
  return join(root, 'trip');
}

const rowNames = (page: Page) => page.locator('li.file .file-name').allTextContents();
const searchBox = (page: Page) => page.getByRole('searchbox', { name: 'Search files' });
const matchCount = (page: Page) => page.locator('.match-count');

/** The rows on screen are the first page of exactly these files. */
async function expectRows(page: Page, expected: string[]): Promise<void> {
  await expect.poll(() => rowNames(page)).toEqual(expected.slice(0, PAGE));
}

test('the search box narrows a list of 1,000 files as one types', async ({ browser }) => {
  test.setTimeout(300_000);
  const alice = await newPage(browser, DESKTOP);
  const link = await startRoom(alice.page);
  await alice.page.locator('#file-input').setInputFiles(FILES);
  await expect(alice.page.locator('#files-title .count')).toHaveText('1000', { timeout: 180_000 });
  await expect(alice.page.getByText('Preparing to share')).toHaveCount(0);

  // No search: one page of rows, and the rest a click away.
  await expectRows(alice.page, ALL);
  await expect(alice.page.getByRole('button', { name: 'Show 100 more' })).toBeVisible();

  // Typing narrows the rows at each step.
  const box = searchBox(alice.page);
  const steps: [string, (n: string) => boolean][] = [
    ['rep', (n) => n.includes('rep')],
    ['report-00', (n) => n.startsWith('report-00')],
    ['report-004', (n) => n.startsWith('report-004')],
    ['report-0042', (n) => n === 'report-0042.pdf'],
  ];
  for (const [typed, keep] of steps) {
    await box.pressSequentially(typed.slice((await box.inputValue()).length));
    const expected = ALL.filter(keep);
    await expect(matchCount(alice.page)).toHaveText(`${expected.length.toLocaleString('en-US')} of 1,000 files`);
    await expectRows(alice.page, expected);
  }
  await expect(alice.page.getByRole('button', { name: /^Show \d+ more$/ })).toHaveCount(0);

  // Kinds: the Archives chip, then a word within them.
  await box.fill('');
  await expectRows(alice.page, ALL);
  await alice.page.getByRole('button', { name: 'Archives', pressed: false }).click();
  await expect(alice.page.getByRole('button', { name: 'Archives', pressed: true })).toBeVisible();
  await expect(matchCount(alice.page)).toHaveText('200 of 1,000 files');
  await box.pressSequentially('9');
  const zips9 = ALL.filter((n) => n.endsWith('.zip') && n.includes('9'));
  await expect(matchCount(alice.page)).toHaveText(`${zips9.length} of 1,000 files`);
  await expectRows(alice.page, zips9);
  await screenshot(alice.page, 'search-desktop.png');

  // "Show more" pages through a long result.
  await alice.page.getByRole('button', { name: 'Archives' }).click();
  await box.fill('type:image');
  const images = ALL.filter((n) => n.endsWith('.jpg'));
  await expectRows(alice.page, images);
  await alice.page.getByRole('button', { name: 'Show 100 more' }).click();
  await expect.poll(() => rowNames(alice.page)).toEqual(images);

  // A friend, on a phone, finds them by the sharer's name.
  const bob = await newPage(browser, PHONE);
  await bob.context.addInitScript(HIDE_PICKER);
  await joinRoom(bob.page, link);
  const aliceName = await displayName(alice.page);
  await expectPeer(bob.page, aliceName);
  await expect(bob.page.locator('#files-title .count')).toHaveText('1000', { timeout: 120_000 });
  await searchBox(bob.page).fill(`${aliceName.toLowerCase()} clip-09`);
  const clips = ALL.filter((n) => n.startsWith('clip-09'));
  await expect(matchCount(bob.page)).toHaveText(`${clips.length} of 1,000 files`);
  await expectRows(bob.page, clips);
  await searchBox(bob.page).fill('nobody-has-this');
  await expect(bob.page.getByText('No file here matches your search.')).toBeVisible();
  // Download all follows the search: it says so, and the zip holds the matches only (through the service
  // worker's route). Two matches: fetching them is what the step costs.
  await searchBox(bob.page).fill('clip-099');
  const few = ALL.filter((n) => n.startsWith('clip-099'));
  const zipAll = bob.page.getByRole('button', { name: `Download the ${few.length} files matching the search as a zip` });
  await expect(zipAll).toHaveText(`Download ${few.length} matches`);
  // It reads after what it depends on: below the search box, its chips and the count.
  const [countAt, zipAt] = await Promise.all([matchCount(bob.page).boundingBox(), zipAll.boundingBox()]);
  expect(zipAt!.y).toBeGreaterThanOrEqual(countAt!.y + countAt!.height);
  const saved = bob.page.waitForEvent('download', { timeout: 60_000 });
  await zipAll.click();
  const zip = readZip(new Uint8Array(readFileSync(await (await saved).path())));
  expect(zip.map((e) => e.name).sort()).toEqual(few);
  // A selection outlives a search, and the bar says what the search hides of it (and acts on all of it).
  await bob.page.getByRole('checkbox', { name: 'Select clip-0991.mp4' }).check();
  await bob.page.getByRole('checkbox', { name: 'Select clip-0996.mp4' }).check();
  await searchBox(bob.page).fill('clip-0996');
  await expect(bob.page.locator('.selection-count')).toHaveText('2 selected, 1 hidden by the search');
  await expect(bob.page.getByRole('button', { name: 'Download selected files as a zip (1 hidden by the search)' })).toBeVisible();
  await screenshot(bob.page, 'search-phone.png');

  // Folders (Bob's: Alice offers 1,000 files, the most one person can): a match inside one shows it
  // open, with only its matches; clearing the search folds it again.
  await box.fill('');
  await bob.page.locator('#folder-input').setInputFiles(makeTrip());
  const trip = alice.page.locator('li.folder[data-folder="trip"]');
  await expect(trip).toContainText('3 files');
  await expect(trip).toContainText('0% here');
  await alice.page.getByRole('checkbox', { name: 'Select all files in trip' }).check();
  await expect(alice.page.locator('.selection-count')).toHaveText('3 selected');
  await box.fill('beach');
  await expect(trip).toContainText('2 matching files');
  await expect(alice.page.locator('.selection-count')).toHaveText('3 selected, 1 hidden by the search');
  await expect(trip.getByRole('button', { name: 'trip', exact: true })).toHaveAttribute('aria-expanded', 'true');
  await expect.poll(() => trip.locator('li.file .file-name').allTextContents()).toEqual(['beach-day.txt', 'beach.jpg']); // subfolders first
  await expect(matchCount(alice.page)).toHaveText('2 of 1,003 files');
  await screenshot(alice.page, 'search-folder-desktop.png');
  await box.fill('');
  await expect(trip).toContainText('3 files');
  await expect(trip.getByRole('button', { name: 'trip', exact: true })).toHaveAttribute('aria-expanded', 'false');
  await expect(alice.page.locator('.selection-count')).toHaveText('3 selected');
  await alice.context.close();
  await bob.context.close();
});
