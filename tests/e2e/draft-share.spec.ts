import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { DESKTOP, displayName, expectPeer, fileRow, joinRoom, newPage, PHONE, randomFile, screenshot, sha256, startRoom } from './helpers.ts';

/**
 * Drafts in real Chromium (app/draft-share.ts, app/draft-fetch.ts): a large
 * file dropped by Alice is listed at Bob's at once, Bob's Download works at
 * once, and his first verified piece is stored while Alice is still
 * importing. The saved file hashes to the dropped one, and both end with the
 * one final file (its content id), no draft left. DRAFT_MIB overrides the
 * size (the report's 256 MiB figure); the printed times are for people, not
 * asserted (the machine is shared).
 */
const MiB = 1024 * 1024;
const SIZE = Number(process.env.DRAFT_MIB ?? 96) * MiB;

interface Stats {
  imports: { draftId: string; fileId?: string; startedAt: number; hashedAt?: number; storedAt?: number }[];
  downloads: Record<string, { have: number; status: string }>;
}
const stats = (page: Page) => page.evaluate(() => (globalThis as unknown as { __meshdrop: { stats(): Stats } }).__meshdrop.stats());

test.describe.configure({ timeout: 300_000 });

test('a large file is fetchable while its sharer still imports it; both end with the one final file', async ({ browser }) => {
  const original = randomFile(SIZE);
  const dir = mkdtempSync(join(tmpdir(), 'draft-'));
  const path = join(dir, 'big video.bin');
  writeFileSync(path, original);
  const alice = await newPage(browser, DESKTOP);
  const bob = await newPage(browser, PHONE);
  const link = await startRoom(alice.page);
  await joinRoom(bob.page, link);
  await expectPeer(bob.page, await displayName(alice.page));
  await expectPeer(alice.page, await displayName(bob.page));

  const dropped = Date.now();
  await alice.page.locator('#file-input').setInputFiles(path);
  const atBob = fileRow(bob.page, 'big video.bin');
  await expect(atBob.getByText('Still being prepared')).toBeVisible();
  // Its sharer is here: the row must not also say nobody has it (it did, seen in a new-user trial).
  await expect(atBob).not.toContainText('nobody online has it');
  // Its link button holds its place, disabled, so the row does not shift under a tap when preparing ends.
  await expect(atBob.getByRole('button', { name: /^Copy link to big video\.bin/ })).toBeDisabled();
  const draftId = (await atBob.getAttribute('data-file-id'))!;
  const saved = bob.page.waitForEvent('download', { timeout: 240_000 });
  await atBob.getByRole('button', { name: /^Download/ }).click();
  // Bob's first verified piece, on his page clock (the same machine's clock as Alice's).
  const firstPiece = await bob.page.waitForFunction((id) => {
    const d = (globalThis as unknown as { __meshdrop: { stats(): Stats } }).__meshdrop.stats().downloads[id];
    return d && d.have > 0 ? Date.now() : 0;
  }, draftId, { polling: 20, timeout: 60_000 }).then((h) => h.jsonValue());
  await expect(fileRow(alice.page, 'big video.bin').getByText(/Preparing to share/)).toBeVisible();
  await screenshot(alice.page, 'draft-share/sharer-mid-import-desktop.png');
  await screenshot(bob.page, 'draft-share/friend-mid-import-phone.png');
  await alice.page.setViewportSize(PHONE.viewport);
  await screenshot(alice.page, 'draft-share/sharer-mid-import-phone.png');
  await alice.page.setViewportSize(DESKTOP.viewport);

  const dl = await saved;
  expect(sha256(readFileSync((await dl.path())!))).toBe(sha256(original));
  expect(dl.suggestedFilename()).toBe('big video.bin');

  const [imported] = (await stats(alice.page)).imports;
  expect(imported!.draftId).toBe(draftId);
  expect(firstPiece, 'the first verified piece arrived before the import ended').toBeLessThan(imported!.storedAt!);
  console.log(`draft-share ${SIZE / MiB} MiB: drop -> Bob's first verified piece ${firstPiece - dropped} ms; ` +
    `import ${imported!.storedAt! - imported!.startedAt} ms (${(SIZE / MiB / ((imported!.storedAt! - imported!.startedAt) / 1000)).toFixed(1)} MiB/s), ` +
    `hashed ${imported!.hashedAt! - imported!.startedAt} ms`);

  // One final file at both ends: the content id, no draft row or record left.
  await expect(fileRow(alice.page, 'big video.bin').getByText('Shared by you')).toBeVisible();
  await expect(fileRow(bob.page, 'big video.bin').getByText(/Downloaded/)).toBeVisible();
  for (const page of [alice.page, bob.page]) {
    await expect(page.locator('li.file')).toHaveCount(1);
    expect(await fileRow(page, 'big video.bin').getAttribute('data-file-id')).toBe(imported!.fileId);
  }
  await screenshot(bob.page, 'draft-share/friend-done-phone.png');
  rmSync(dir, { recursive: true, force: true });
  await alice.context.close();
  await bob.context.close();
});
