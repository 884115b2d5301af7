import { expect, test } from '@playwright/test';
import { DESKTOP, displayName, download, expectPeer, fileRow, joinRoom, newPage, randomFile, screenshot, sha256, shareFile, startRoom } from './helpers.ts';

/**
 * Two tabs of one browser share one identity and one store. A room is open in
 * one tab at a time: a second tab says so and offers to take the room over,
 * and nothing the second tab does can destroy what the first one shares (the
 * bug: Cancel in tab B deleted the file tab A was sharing, and after a reload
 * A's own file showed 0 %).
 */
test('two tabs of one browser in one room: one has the room, the other can take it over; the shared file survives', async ({ browser }) => {
  const context = await browser.newContext(DESKTOP);
  const tabA = await context.newPage();
  const original = randomFile(1024 * 1024);
  const link = await startRoom(tabA);
  await shareFile(tabA, 'holiday.mov', original, 'video/quicktime');

  const friend = await newPage(browser, DESKTOP);
  await joinRoom(friend.page, link);
  await expectPeer(friend.page, await displayName(tabA));

  // Tab B opens the same room: it is told, and offers no file controls at all.
  const tabB = await context.newPage();
  await tabB.goto(link);
  await expect(tabB.getByRole('status').filter({ hasText: 'already open in another tab' })).toBeVisible();
  await expect(tabB.getByRole('button', { name: /Cancel|Remove|Download/ })).toHaveCount(0);
  await screenshot(tabB, 'tab-open-elsewhere-desktop.png');
  await expect(fileRow(tabA, 'holiday.mov')).toContainText('Shared by you');

  // B takes the room over: A lets go and says so; B serves the same stored file.
  await tabB.getByRole('button', { name: 'Use it here' }).click();
  await expect(tabA.getByRole('status').filter({ hasText: 'now open in another tab' })).toBeVisible();
  await expect(fileRow(tabB, 'holiday.mov')).toContainText('Shared by you');

  // A reloads and takes it back: its own file is whole (not 0 %), and the friend gets it intact.
  await tabA.reload();
  await expect(tabA.getByRole('status').filter({ hasText: 'already open in another tab' })).toBeVisible();
  await tabA.getByRole('button', { name: 'Use it here' }).click();
  await expect(tabB.getByRole('status').filter({ hasText: 'now open in another tab' })).toBeVisible();
  await expect(fileRow(tabA, 'holiday.mov')).toContainText('Shared by you');
  await expectPeer(friend.page, await displayName(tabA));
  const got = await download(friend.page, 'holiday.mov');
  expect(sha256(got.bytes)).toBe(sha256(original));

  await friend.context.close();
  await context.close();
});
