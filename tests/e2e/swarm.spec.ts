import { expect, test, type Page } from '@playwright/test';
import { DESKTOP, PHONE, download, fileRow, joinRoom, newPage, randomFile, screenshot, sha256, shareFile, startRoom } from './helpers.ts';

/**
 * Swarming in real browsers: three downloaders fetch from one sharer and from
 * each other. The sharer's page closes part-way through, once the pieces it
 * sent cover the file, and all three still finish with the exact bytes.
 * Upload limits (?uplimit=) make the network, not the CPU, the bottleneck, so
 * "part-way" is a wide window rather than a race.
 */
const MiB = 1024 * 1024;

interface Stats {
  uploadedBytes: number;
  downloads: Record<string, { have: number; pieceCount: number; haveHex: string; status: string }>;
}
const stats = (page: Page) => page.evaluate(() => (globalThis as unknown as { __meshdrop: { stats(): Stats } }).__meshdrop.stats());

/** True when every piece is held by at least one of the pages. */
async function unionComplete(pages: Page[]): Promise<boolean> {
  const all = await Promise.all(pages.map(stats));
  const fields = all.map((s) => Object.values(s.downloads)[0]).filter((d) => d !== undefined);
  if (fields.length === 0) return false;
  const count = fields[0]!.pieceCount;
  const bits = fields.map((f) => BigInt(`0x${f.haveHex || '0'}`));
  const union = bits.reduce((a, b) => a | b, 0n);
  const full = ((1n << BigInt(count)) - 1n) << BigInt((8 - (count % 8)) % 8);
  return union === full;
}

test('three downloaders finish from each other after the sharer leaves part-way', async ({ browser, baseURL }) => {
  const original = randomFile(16 * MiB);
  const sharer = await newPage(browser, DESKTOP);
  await sharer.page.goto(`${baseURL}/?uplimit=${4 * MiB}`);
  const link = await startRoom(sharer.page, false);
  await shareFile(sharer.page, 'swarm.bin', original);
  const room = new URL(link).hash;

  const downloaders = await Promise.all([DESKTOP, DESKTOP, PHONE].map((device) => newPage(browser, device)));
  for (const d of downloaders) await joinRoom(d.page, `${baseURL}/?uplimit=${MiB / 2}${room}`);
  for (const d of downloaders) await expect(fileRow(d.page, 'swarm.bin')).toBeVisible();
  const saves = downloaders.map((d) => download(d.page, 'swarm.bin'));

  const pages = downloaders.map((d) => d.page);
  await expect.poll(() => unionComplete(pages), { timeout: 60_000, intervals: [100] }).toBe(true);
  const before = await Promise.all(pages.map(stats));
  const unfinished = before.filter((s) => Object.values(s.downloads)[0]!.status !== 'complete').length;
  await expect(downloaders[2]!.page.getByLabel(/^Room link/)).toHaveValue(`${baseURL}/${room}`); // no ?uplimit= in the link to share
  await screenshot(downloaders[2]!.page, 'downloading-phone.png');
  await screenshot(downloaders[0]!.page, 'downloading-desktop.png');
  expect(unfinished, 'the sharer must leave while downloads are still running').toBeGreaterThan(0);
  await sharer.context.close();

  for (const got of await Promise.all(saves)) expect(sha256(got.bytes)).toBe(sha256(original));
  // They traded: each downloader uploaded to the others.
  const after = await Promise.all(pages.map(stats));
  expect(after.filter((s) => s.uploadedBytes > 0).length).toBeGreaterThanOrEqual(2);
  for (const d of downloaders) await expect(d.page.getByRole('alert')).toHaveCount(0);
  for (const d of downloaders) await d.context.close();
});
