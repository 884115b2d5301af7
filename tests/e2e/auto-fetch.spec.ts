import { expect, test, type Browser, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import {
  DESKTOP, PHONE, expectPeer, expectTouchTargets, fileRow, horizontalOverflow, joinRoom, newPage, randomFile, save, screenshot, sha256, shareFile, startRoom,
} from './helpers.ts';

/**
 * Rules that fetch for you, in real Chromium: Bob says "every new image
 * from Alice up to 100 MiB"; Alice's new photo arrives at Bob with no click
 * (and no save dialog), her notes and her photo from before the rule stay
 * where they are; Undo deletes what the rule fetched. Screenshots of the
 * panel at desktop and phone sizes.
 */

/** A real PNG (a gradient), so the thumbnail draws. */
function png(width: number, height: number): Buffer {
  const image = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) image.data.set([(i % width) * 2, (i / width) | 0, 160, 255], i * 4);
  return PNG.sync.write(image);
}

async function rename(page: Page, name: string): Promise<void> {
  await page.getByLabel('Your name in this room').fill(name);
  await page.getByLabel('Your name in this room').press('Enter');
}

/** Alice (named) starts a room; another person joins it on `device` and sees her linked. */
async function aliceAnd(browser: Browser, aliceName: string, device: typeof DESKTOP | typeof PHONE) {
  const alice = await newPage(browser, DESKTOP);
  const link = await startRoom(alice.page);
  await rename(alice.page, aliceName);
  const other = await newPage(browser, device);
  await joinRoom(other.page, link);
  await expectPeer(other.page, aliceName);
  return { alice, other };
}

async function openRules(page: Page) {
  const panel = page.locator('details.rules');
  await panel.locator('summary').click();
  await expect(panel.getByLabel('From')).toBeVisible();
  return panel;
}

test('an auto-fetch rule downloads a matching file with no click and ignores one that does not match', async ({ browser }) => {
  const { alice, other: bob } = await aliceAnd(browser, 'Alice', DESKTOP);
  let saves = 0;
  bob.page.on('download', () => saves++);

  await shareFile(alice.page, 'before.png', png(64, 48), 'image/png');
  await expect(fileRow(bob.page, 'before.png')).toBeVisible();
  await expect(bob.page.locator('details.rules')).not.toHaveAttribute('open', /.*/); // collapsed until opened
  const panel = await openRules(bob.page);
  await panel.getByLabel('From').selectOption({ label: 'Alice' });
  await panel.getByLabel('Kind').selectOption({ label: 'Images' });
  await panel.getByLabel('Up to (MiB, optional)').fill('100');
  await panel.getByRole('button', { name: 'Add rule' }).click();
  const rule = panel.locator('li.rule').filter({ hasText: 'Every new image from Alice up to 100 MiB' });
  await expect(rule).toBeVisible();

  const photo = png(320, 200);
  await shareFile(alice.page, 'holiday.png', photo, 'image/png');
  await shareFile(alice.page, 'notes.txt', randomFile(20_000), 'text/plain');
  const fetched = fileRow(bob.page, 'holiday.png');
  await expect(fetched.getByText('Downloaded · you share it too')).toBeVisible();
  await expect(fetched.getByText('Fetched by your rule: Every new image from Alice up to 100 MiB')).toBeVisible();
  await expect(fileRow(bob.page, 'notes.txt').getByRole('button', { name: 'Download notes.txt' })).toBeVisible();
  await expect(fileRow(bob.page, 'before.png').getByRole('button', { name: 'Download before.png' })).toBeVisible();
  await expect(rule.getByText('Fetched 1 · skipped 0')).toBeVisible();
  await expect(rule.locator('.rule-entries li')).toHaveText([/^holiday\.png · .* · fetched$/]);
  expect(saves).toBe(0); // nobody asked for a save dialog
  await screenshot(bob.page, 'auto-fetch-desktop.png');

  const saved = await save(bob.page, 'holiday.png');
  expect(sha256(saved.bytes)).toBe(sha256(photo));
  await expect(rule.locator('.rule-entries li')).toHaveText([/fetched, kept by you$/]);

  // Undo leaves a file the person saved; a second new image is fetched, then undone (deleted).
  const second = png(200, 120);
  await shareFile(alice.page, 'sunset.png', second, 'image/png');
  await expect(fileRow(bob.page, 'sunset.png').getByText('Downloaded · you share it too')).toBeVisible();
  await rule.getByRole('button', { name: /^Undo what/ }).click();
  await rule.getByRole('button', { name: 'Delete them' }).click();
  await expect(fileRow(bob.page, 'sunset.png').getByRole('button', { name: 'Download sunset.png' })).toBeVisible();
  await expect(fileRow(bob.page, 'holiday.png').getByText('Downloaded · you share it too')).toBeVisible();
  await expect(rule.locator('.rule-entries li')).toHaveText([/^sunset\.png · .* · undone$/, /kept by you$/]);

  await rule.getByRole('button', { name: /^Remove rule/ }).click();
  await expect(panel.locator('li.rule')).toHaveCount(0);
  await alice.context.close();
  await bob.context.close();
});

test('the rules panel on a phone: fits the screen, with a rule and what it skipped', async ({ browser }) => {
  const { alice, other: phone } = await aliceAnd(browser, 'Alice Longname-Forthescreen', PHONE);
  const panel = await openRules(phone.page);
  await panel.getByLabel('From').selectOption({ label: 'Alice Longname-Forthescreen' });
  await panel.getByLabel('Up to (MiB, optional)').fill('0.5');
  await panel.getByRole('button', { name: 'Add rule' }).click();
  await shareFile(alice.page, 'too-big-for-the-rule.bin', randomFile(700_000));
  const rule = panel.locator('li.rule');
  await expect(rule.locator('.rule-entries li')).toHaveText([/too-big-for-the-rule\.bin · .* · skipped: over 0\.5 MiB$/]);
  await expect(fileRow(phone.page, 'too-big-for-the-rule.bin').getByRole('button', { name: /^Download/ })).toBeVisible();
  expect(await horizontalOverflow(phone.page)).toBeLessThanOrEqual(0);
  await expectTouchTargets(phone.page, 'rules panel');
  await screenshot(phone.page, 'auto-fetch-phone.png');
  await alice.context.close();
  await phone.context.close();
});
