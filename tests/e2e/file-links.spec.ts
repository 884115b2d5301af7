import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import { sha256 as sha256Bytes } from '../../src/core/hash.ts';
import { fileIdFromHashes } from '../../src/core/manifest/manifest.ts';
import { fileLinkFor } from '../../src/core/room.ts';
import { DESKTOP, PHONE, fileRow, horizontalOverflow, newPage, randomFile, screenshot, sha256, shareFile, startRoom } from './helpers.ts';

/**
 * File links, previews and pause/resume in real Chromium: a link copied from
 * one browser fetches its file in another with no click on Download (also
 * when opened before the file is shared), images get a thumbnail drawn from
 * the stored pieces, and a paused download resumes intact after a reload.
 */
const MiB = 1024 * 1024;
const CLIPBOARD = { permissions: ['clipboard-read', 'clipboard-write'] };

/** The bytes of the next file the page saves. */
async function nextSave(page: Page): Promise<{ name: string; bytes: Buffer }> {
  const dl = await page.waitForEvent('download', { timeout: 120_000 });
  return { name: dl.suggestedFilename(), bytes: readFileSync(await dl.path()) };
}

/** Clicks the file's Copy link control, as a person would, and reads what reached the clipboard. */
async function copyLink(page: Page, name: string): Promise<string> {
  const button = fileRow(page, name).getByRole('button', { name: `Copy link to ${name}` });
  await button.click();
  await expect(button).toHaveText('Copied'); // the write is asynchronous
  return page.evaluate(() => navigator.clipboard.readText());
}

/** A file's id, by meshdrop's own code, so a link can exist before the file is shared. */
async function fileIdOf(bytes: Buffer): Promise<string> {
  const PIECE = 256 * 1024; // files under 1 GiB have 256 KiB pieces
  const hashes: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += PIECE) hashes.push(createHash('sha256').update(bytes.subarray(at, at + PIECE)).digest());
  return fileIdFromHashes(bytes.length, new Uint8Array(Buffer.concat(hashes)), sha256Bytes);
}

/** A one-page PDF saying `text`, with a correct cross-reference table (viewers refuse a broken one). */
function pdf(text: string): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 120] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length + 30} >>\nstream\nBT /F1 24 Tf 20 50 Td (${text}) Tj ET\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = objects.map((body, i) => {
    const at = out.length;
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return at;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** A PNG of the given size with a gradient, so a thumbnail has something to show. */
function png(width: number, height: number): Buffer {
  const img = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      img.data[i] = (x * 255) / width;
      img.data[i + 1] = (y * 255) / height;
      img.data[i + 2] = 160;
      img.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(img);
}

test('a copied file link opened in another browser fetches that file by itself', async ({ browser }) => {
  const original = randomFile(3 * MiB + 4321);
  const alice = await newPage(browser, { ...DESKTOP, ...CLIPBOARD });
  await startRoom(alice.page);
  await shareFile(alice.page, 'linked.bin', original);
  const otherBytes = randomFile(100_000);
  await shareFile(alice.page, 'other.bin', otherBytes);
  const link = await copyLink(alice.page, 'linked.bin');
  expect(link).toMatch(/#[A-Za-z0-9_-]{22}\/file\/[0-9a-f]{64}$/);

  const bob = await newPage(browser, PHONE);
  const saved = nextSave(bob.page);
  await bob.page.goto(link);
  const got = await saved;
  expect(got.name).toBe('linked.bin');
  expect(sha256(got.bytes)).toBe(sha256(original));
  await expect(fileRow(bob.page, 'linked.bin')).toContainText('you share it too');
  await expect(fileRow(bob.page, 'linked.bin').getByRole('button', { name: /^Save/ })).toBeVisible();
  await expect(fileRow(bob.page, 'other.bin').getByRole('button', { name: /^Download/ })).toBeVisible(); // only the linked file
  expect(new URL(bob.page.url()).hash, 'the address is the room again once the link did its work').toBe(new URL(link).hash.replace(/\/file\/.*/, ''));

  // A second file's link opened in the page that already shows the room is followed too.
  const other = await copyLink(alice.page, 'other.bin');
  const savedOther = nextSave(bob.page);
  await bob.page.evaluate((href) => (location.href = href), other);
  expect(sha256((await savedOther).bytes)).toBe(sha256(otherBytes));
  await alice.context.close();
  await bob.context.close();
});

test('a file link opened before the file is shared waits (also across a reload), then starts', async ({ browser }) => {
  const original = randomFile(2 * MiB + 99);
  const alice = await newPage(browser, DESKTOP);
  const roomLink = await startRoom(alice.page);
  const link = fileLinkFor(roomLink, await fileIdOf(original));

  const bob = await newPage(browser, PHONE);
  await bob.page.goto(link);
  const waiting = bob.page.getByText('Waiting for someone who has the linked file…');
  await expect(waiting).toBeVisible();
  await screenshot(bob.page, 'file-link-waiting-phone.png');
  await bob.page.reload();
  await expect(waiting).toBeVisible();
  expect(bob.page.url()).toBe(link);

  const saved = nextSave(bob.page);
  await shareFile(alice.page, 'late.bin', original);
  const got = await saved;
  expect(got.name).toBe('late.bin');
  expect(sha256(got.bytes)).toBe(sha256(original));
  await expect(waiting).toHaveCount(0);
  await alice.context.close();
  await bob.context.close();
});

test('a damaged file link says so and still opens its room', async ({ browser }) => {
  const alice = await newPage(browser, DESKTOP);
  const roomLink = await startRoom(alice.page);
  const bob = await newPage(browser, PHONE);
  await bob.page.goto(`${roomLink}/file/not-a-file-id`);
  await expect(bob.page.getByRole('alert')).toContainText('file link is damaged');
  await expect(bob.page.getByLabel('Your name in this room')).toBeVisible();
  await alice.context.close();
  await bob.context.close();
});

test('images show a thumbnail of the stored file and a larger view; text opens in place', async ({ browser }) => {
  const image = png(640, 360);
  const alice = await newPage(browser, { ...DESKTOP, ...CLIPBOARD });
  await startRoom(alice.page);
  await shareFile(alice.page, 'sunset.png', image, 'image/png');
  await shareFile(alice.page, 'notes.txt', Buffer.from('line one\n<b>not bold</b>\n'), 'text/plain');
  const link = await copyLink(alice.page, 'sunset.png');

  const thumbOf = (page: Page) => fileRow(page, 'sunset.png').locator('img.thumb');
  const natural = (page: Page, img = thumbOf(page)) =>
    img.evaluate((el: HTMLImageElement) => el.decode().then(() => [el.naturalWidth, el.naturalHeight]));
  await expect(thumbOf(alice.page)).toBeVisible();
  expect(await natural(alice.page)).toEqual([640, 360]);

  const bob = await newPage(browser, PHONE);
  const saved = nextSave(bob.page);
  await bob.page.goto(link);
  expect(sha256((await saved).bytes)).toBe(sha256(image));
  await expect(thumbOf(bob.page)).toBeVisible();
  expect(await natural(bob.page)).toEqual([640, 360]);
  expect(await horizontalOverflow(bob.page), 'no sideways scrolling at 360 px').toBeLessThanOrEqual(0);
  await screenshot(bob.page, 'thumbnail-row-phone.png');
  await screenshot(alice.page, 'thumbnail-row-desktop.png');

  for (const { page, label } of [{ page: bob.page, label: 'phone' }, { page: alice.page, label: 'desktop' }]) {
    await fileRow(page, 'sunset.png').getByRole('button', { name: 'View sunset.png' }).click();
    const dialog = page.getByRole('dialog', { name: 'sunset.png' });
    await expect(dialog).toBeVisible();
    expect(await natural(page, dialog.locator('img.large'))).toEqual([640, 360]);
    await expect(dialog).toContainText('640 × 360 pixels');
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await screenshot(page, `preview-dialog-${label}.png`);
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, `preview-dialog-${label}-dark.png`);
    await page.keyboard.press('Escape');
    await expect(dialog).toHaveCount(0);
    await screenshot(page, `thumbnail-row-${label}-dark.png`);
    await page.emulateMedia({ colorScheme: 'light' });
  }

  // Bytes named as a picture that are not one: the tile and the view say so, no broken-image icon.
  await shareFile(alice.page, 'not-a-photo.jpg', Buffer.alloc(3000, 7), 'image/jpeg');
  await expect(fileRow(alice.page, 'not-a-photo.jpg').locator('.thumb.broken')).toHaveText('View');
  await fileRow(alice.page, 'not-a-photo.jpg').getByRole('button', { name: 'View not-a-photo.jpg' }).click();
  const notPhoto = alice.page.getByRole('dialog', { name: 'not-a-photo.jpg' });
  await expect(notPhoto).toContainText('Not an image this browser can show');
  await expect(notPhoto).toContainText('Save it to look at it another way.');
  await expect(notPhoto.locator('img')).toHaveCount(0);
  await alice.page.keyboard.press('Escape');

  await fileRow(alice.page, 'notes.txt').getByRole('button', { name: 'Open notes.txt' }).click();
  const text = alice.page.getByRole('dialog', { name: 'notes.txt' });
  await expect(text.locator('pre')).toHaveText('line one\n<b>not bold</b>\n', { useInnerText: false });
  await text.getByRole('button', { name: 'Close' }).click();
  await expect(text).toHaveCount(0);

  // A PDF opens in the browser's viewer, from the stored bytes, typed as PDF whatever was announced.
  await shareFile(alice.page, 'paper.pdf', pdf('Hello from meshdrop'), 'text/html');
  await fileRow(alice.page, 'paper.pdf').getByRole('button', { name: 'Open paper.pdf' }).click();
  const frame = alice.page.getByRole('dialog', { name: 'paper.pdf' }).locator('iframe');
  await expect(frame).toHaveAttribute('src', /^blob:/);
  // The frame holds the stored bytes as a PDF document (not blocked by the page's CSP, not read as the announced HTML).
  await expect.poll(() => frame.evaluate((el: HTMLIFrameElement) => el.contentDocument?.contentType)).toBe('application/pdf');
  await screenshot(alice.page, 'pdf-dialog-desktop.png');
  await alice.page.keyboard.press('Escape');
  await alice.context.close();
  await bob.context.close();
});

test('pause keeps a download across a reload; resume completes it intact', async ({ browser, baseURL }) => {
  const original = randomFile(6 * MiB + 17);
  const alice = await newPage(browser, DESKTOP);
  await alice.page.goto(`${baseURL}/?uplimit=${1 * MiB}`);
  const link = await startRoom(alice.page, false);
  await shareFile(alice.page, 'slow.bin', original);

  const bob = await newPage(browser, DESKTOP);
  await bob.page.goto(`${baseURL}/${new URL(link).hash}`);
  const row = fileRow(bob.page, 'slow.bin');
  await row.getByRole('button', { name: /^Download/ }).click();
  await expect(row.locator('.status')).toContainText(/\d+ (s|min) left/);
  await row.getByRole('button', { name: /^Pause/ }).click();
  await expect(row).toContainText('Paused at');
  const pausedAt = await row.locator('.status').textContent();
  await bob.page.reload();
  await expect(row).toContainText('Paused at');
  await expect(row.getByRole('button', { name: /^Resume/ })).toBeVisible();
  await screenshot(bob.page, 'paused-desktop.png');
  expect(pausedAt).not.toContain('Paused at 100%');

  const saved = nextSave(bob.page);
  await row.getByRole('button', { name: /^Resume/ }).click();
  const got = await saved;
  expect(sha256(got.bytes)).toBe(sha256(original));
  await alice.context.close();
  await bob.context.close();
});
