import { expect, test, type Page } from '@playwright/test';
import {
  DESKTOP, PHONE, displayName, download, expectPeer, expectTouchTargets, fileRow, joinRoom, newPage, randomFile, screenshot, sha256, startRoom,
} from './helpers.ts';

/**
 * Share with chosen people (issue 12), three real browsers: Alice shares a
 * file with Bob only. Bob downloads it intact; Carol's page and engine never
 * hold its name or id, and her crafted asks for it are answered as for an id
 * nobody has. Widened to the room, it appears for Carol and she fetches it.
 */
type Frame = { type: string; piece?: number; reason?: number };
interface Hooks {
  self: string;
  stats(): { audienceRefused: number };
  sendFrame(peer: string, bytes: Uint8Array): void;
  watchFile(fileId: string): void;
  watched(fileId: string): Frame[];
  dump(): string;
}
const hooks = (page: Page) => ({
  self: () => page.evaluate(() => (globalThis as unknown as { __meshdrop: Hooks }).__meshdrop.self),
  dump: () => page.evaluate(() => (globalThis as unknown as { __meshdrop: Hooks }).__meshdrop.dump()),
  refused: () => page.evaluate(() => (globalThis as unknown as { __meshdrop: Hooks }).__meshdrop.stats().audienceRefused),
  watched: (id: string) => page.evaluate((fileId) => (globalThis as unknown as { __meshdrop: Hooks }).__meshdrop.watched(fileId), id),
  /** WANT_MANIFEST and REQUEST piece 0 for `id`, sent to `peer` as a hostile page would. */
  ask: (peer: string, id: string) => page.evaluate(([to, fileId]) => {
    const api = (globalThis as unknown as { __meshdrop: Hooks }).__meshdrop;
    const idBytes = (fileId!.match(/../g) ?? []).map((h) => parseInt(h, 16));
    api.watchFile(fileId!);
    api.sendFrame(to!, Uint8Array.from([0x03, ...idBytes]));
    api.sendFrame(to!, Uint8Array.from([0x05, ...idBytes, 0, 0, 0, 0]));
  }, [peer, id]),
});

const NAME = 'board-minutes-only-bob.bin';

test('share with Bob only: Carol never learns of it and is refused; widened to the room, she gets it', async ({ browser }) => {
  const original = randomFile(700 * 1024 + 3);
  const alice = await newPage(browser, DESKTOP);
  const link = await startRoom(alice.page);
  const bob = await newPage(browser, PHONE);
  await joinRoom(bob.page, link);
  const carol = await newPage(browser, DESKTOP);
  await joinRoom(carol.page, link);
  const [aliceName, bobName, carolName] = (await Promise.all([alice, bob, carol].map((p) => displayName(p.page)))) as [string, string, string];
  await expectPeer(alice.page, bobName);
  await expectPeer(alice.page, carolName);
  await expectPeer(carol.page, aliceName);
  await expectPeer(carol.page, bobName);

  // Bob's phone: the picker lists the people here, a checkbox each (looked at, then closed).
  await bob.page.getByRole('button', { name: 'Share with…' }).click();
  await expect(bob.page.getByRole('checkbox', { name: aliceName })).toBeVisible();
  await screenshot(bob.page, 'audience-picker-phone.png', { fullPage: false });
  await expectTouchTargets(bob.page, 'the picker on a phone');
  await bob.page.keyboard.press('Escape');

  // Alice chooses Bob, then the file.
  await alice.page.getByRole('button', { name: 'Share with…' }).click();
  await expect(alice.page.getByRole('checkbox', { name: carolName })).toBeVisible();
  await alice.page.getByRole('checkbox', { name: bobName }).check();
  await screenshot(alice.page, 'audience-picker-desktop.png', { fullPage: false });
  const chooser = alice.page.waitForEvent('filechooser');
  await alice.page.getByRole('button', { name: 'Choose files for them' }).click();
  await (await chooser).setFiles({ name: NAME, mimeType: 'application/octet-stream', buffer: original });
  await expect(fileRow(alice.page, NAME)).toContainText('Shared by you');
  await expect(fileRow(alice.page, NAME)).toContainText(`Shared with ${bobName}`);
  const id = (await fileRow(alice.page, NAME).getAttribute('data-file-id'))!;
  expect(id).toMatch(/^[0-9a-f]{64}$/);

  await expect(fileRow(bob.page, NAME)).toContainText('Shared with you');
  const got = await download(bob.page, NAME);
  expect(sha256(got.bytes)).toBe(sha256(original));
  // Bob's own add went to Alice alone: once she lists him, everything Carol could have been told was sent.
  await expect(fileRow(alice.page, NAME)).toContainText(bobName);
  await screenshot(alice.page, 'audience-rows-desktop.png');
  await screenshot(bob.page, 'audience-rows-phone.png');
  await expectTouchTargets(bob.page, 'a row shared with you, on a phone');

  const neverKnown = async () => {
    expect(await carol.page.locator('body').innerText()).not.toContain(NAME);
    const engine = await hooks(carol.page).dump();
    expect(engine).not.toContain(NAME);
    expect(engine).not.toContain(id);
  };
  await neverKnown();

  // Carol guesses the id and asks Alice and Bob for it; a made-up id gets the same answers.
  const made = sha256(randomFile(32));
  for (const holder of [alice, bob]) {
    const peer = await hooks(holder.page).self();
    await hooks(carol.page).ask(peer, id);
    await expect.poll(async () => (await hooks(carol.page).watched(id)).length).toBe(2);
    await hooks(carol.page).ask(peer, made);
    await expect.poll(async () => (await hooks(carol.page).watched(made)).length).toBe(2);
    const shape = (frames: Frame[]) => frames.map(({ type, piece, reason }) => ({ type, piece, reason }));
    expect(shape(await hooks(carol.page).watched(id))).toEqual(shape(await hooks(carol.page).watched(made)));
    expect((await hooks(carol.page).watched(id)).map((f) => [f.type, f.reason])).toEqual([['reject', 1], ['reject', 1]]);
    expect(await hooks(holder.page).refused()).toBeGreaterThanOrEqual(2);
  }
  await expectPeer(alice.page, carolName); // asking is not misbehaving: Carol keeps her link
  await neverKnown();

  // Alice widens it to the whole room: Carol sees it and fetches it.
  await fileRow(alice.page, NAME).getByRole('button', { name: /Share with more people/ }).click();
  await alice.page.getByRole('checkbox', { name: 'Everyone in the room' }).check();
  await alice.page.getByRole('button', { name: 'Share with them' }).click();
  await expect(fileRow(alice.page, NAME)).not.toContainText('Shared with');
  await expect(fileRow(carol.page, NAME)).toBeVisible();
  const late = await download(carol.page, NAME);
  expect(sha256(late.bytes)).toBe(sha256(original));

  for (const p of [alice, bob, carol]) await p.context.close();
});
