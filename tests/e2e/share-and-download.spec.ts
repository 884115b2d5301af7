import { expect, test } from '@playwright/test';
import {
  DESKTOP, PHONE, displayName, download, expectPeer, fileRow, joinRoom, newPage, randomFile, screenshot, sha256,
  shareFile, startRoom,
} from './helpers.ts';

/**
 * The walking skeleton, end to end: two browsers meet through the room link,
 * one shares a 5 MiB file, the other downloads it through the UI, and the
 * saved bytes hash to the original. A third browser joining late sees the
 * catalogue and downloads it too.
 */
test('share a file by room link; a late joiner gets it too', async ({ browser }) => {
  const original = randomFile(5 * 1024 * 1024);
  const notes = Buffer.from('meeting notes\n'.repeat(1000));

  const alice = await newPage(browser, DESKTOP);
  await alice.page.goto('/');
  await screenshot(alice.page, 'landing-desktop.png');
  const link = await startRoom(alice.page);
  expect(new URL(link).hash).toMatch(/^#[A-Za-z0-9_-]{22}$/);

  const bob = await newPage(browser, PHONE);
  await joinRoom(bob.page, link);
  await expectPeer(alice.page, await displayName(bob.page));
  await expectPeer(bob.page, await displayName(alice.page));

  await shareFile(alice.page, 'random.bin', original);
  await shareFile(alice.page, 'notes.txt', notes, 'text/plain');
  await expect(fileRow(bob.page, 'random.bin')).toContainText('5.0 MiB');
  await expect(fileRow(bob.page, 'notes.txt')).toBeVisible();
  await screenshot(alice.page, 'room-two-files-desktop.png');
  await screenshot(bob.page, 'room-two-files-phone.png');

  const got = await download(bob.page, 'random.bin');
  expect(got.name).toBe('random.bin');
  expect(sha256(got.bytes)).toBe(sha256(original));
  await expect(fileRow(bob.page, 'random.bin')).toContainText('you share it too');

  // Carol arrives late: she learns the catalogue from her neighbours and can fetch from both holders.
  const carol = await newPage(browser, DESKTOP);
  await joinRoom(carol.page, link);
  await expect(fileRow(carol.page, 'random.bin')).toContainText(await displayName(alice.page));
  await expect(fileRow(carol.page, 'random.bin')).toContainText(await displayName(bob.page));
  const late = await download(carol.page, 'random.bin');
  expect(sha256(late.bytes)).toBe(sha256(original));
  const text = await download(carol.page, 'notes.txt');
  expect(text.bytes.equals(notes)).toBe(true);

  // Leaving: Alice's page closes; the others stop listing her, and her files keep their other holders.
  const aliceName = await displayName(alice.page);
  await alice.context.close();
  await expect(carol.page.locator('.peer').filter({ hasText: aliceName })).toHaveCount(0);
  await expect(fileRow(carol.page, 'random.bin')).not.toContainText(aliceName);
  await expect(fileRow(carol.page, 'random.bin')).toContainText(await displayName(bob.page));

  await bob.context.close();
  await carol.context.close();
});

test('landing page on a phone, and a named room warns that it is guessable', async ({ browser }) => {
  const { page, context } = await newPage(browser, PHONE);
  await page.goto('/');
  await screenshot(page, 'landing-phone.png');
  await page.getByLabel('Or join a room by name').fill('my-family');
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(page.getByRole('note')).toContainText('anyone who guesses');
  await expect(page).toHaveURL(/#my-family$/);
  await context.close();
});
