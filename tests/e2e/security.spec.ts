import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { DESKTOP, displayName, expectPeer, fileRow, joinRoom, newPage, persistentBrowser, randomFile, shareFile, startRoom, storedPref } from './helpers.ts';

/**
 * What the relay sees, from inside real browsers: every WebSocket frame either
 * way. Signalling is sealed, so no SDP, ICE candidate, display name, file name
 * or room secret may appear in any of them. Both ends show the same safety
 * number, derived from both identity keys, and it survives reloads.
 */
function recordRelayFrames(page: Page): string[] {
  const frames: string[] = [];
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => frames.push(String(f.payload)));
    ws.on('framereceived', (f) => frames.push(String(f.payload)));
  });
  return frames;
}

async function safetyNumber(page: Page, peerName: string): Promise<string> {
  const peer = page.locator('.peer:not(.self)').filter({ hasText: peerName });
  if (!(await peer.locator('details').evaluate((d) => (d as HTMLDetailsElement).open))) await peer.locator('summary').click();
  const code = peer.locator('.code');
  await expect(code).toHaveText(/^\d{5} \d{5} \d{5} \d{5}$/);
  return code.innerText();
}

test('the relay sees only sealed signalling; both ends show the same safety number', async ({ browser }) => {
  const alice = await newPage(browser, DESKTOP);
  const bob = await newPage(browser, DESKTOP);
  const frames = [...[alice.page, bob.page].map(recordRelayFrames)];
  const link = await startRoom(alice.page);
  await alice.page.getByLabel('Your name in this room').fill('Zanzibar Quokka');
  await alice.page.getByLabel('Your name in this room').press('Enter');
  await joinRoom(bob.page, link);
  await expectPeer(bob.page, 'Zanzibar Quokka');
  const bobName = await displayName(bob.page);
  await expectPeer(alice.page, bobName);
  await shareFile(alice.page, 'tax-return-2026.pdf', randomFile(300_000), 'application/pdf');
  await expect(fileRow(bob.page, 'tax-return-2026.pdf')).toBeVisible();

  const codeAtAlice = await safetyNumber(alice.page, bobName);
  const codeAtBob = await safetyNumber(bob.page, 'Zanzibar Quokka');
  expect(codeAtAlice).toBe(codeAtBob);
  await alice.page.screenshot({ path: 'test-results/screenshots/safety-number-desktop.png' });

  const all = frames.flat();
  const signals = all.filter((f) => f.includes('"signal"'));
  expect(signals.length).toBeGreaterThan(2);
  const secret = new URL(link).hash.slice(1);
  for (const frame of all) {
    for (const leak of ['a=fingerprint', 'candidate', 'v=0', 'Zanzibar', bobName, 'tax-return', secret]) {
      expect(frame, `relay frame leaks "${leak}"`).not.toContain(leak);
    }
  }
  await alice.context.close();
  await bob.context.close();
});

/** The verified marks this browser has committed to IndexedDB: the roster's (app/roster.ts). */
async function storedVerifiedMarks(page: Page): Promise<string[]> {
  const roster = (await storedPref(page, 'roster')) as { people?: { id: string; verified: { on: boolean } }[] } | undefined;
  return (roster?.people ?? []).filter((p) => p.verified.on).map((p) => p.id);
}

test('the safety number is the same on both sides and after a reload; a verified mark persists', async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'meshdrop-a-')), mkdtempSync(join(tmpdir(), 'meshdrop-b-'))];
  const alice = await persistentBrowser(dirs[0]!);
  const bob = await persistentBrowser(dirs[1]!);
  try {
    const link = await startRoom(alice.page);
    await joinRoom(bob.page, link);
    const aliceName = await displayName(alice.page);
    const bobName = await displayName(bob.page);
    await expectPeer(alice.page, bobName);
    await expectPeer(bob.page, aliceName);
    const before = await safetyNumber(alice.page, bobName);
    expect(await safetyNumber(bob.page, aliceName)).toBe(before);

    // Alice marks Bob verified; both reload (same browsers, same identities): same number, mark kept.
    await alice.page.locator('.peer:not(.self)').filter({ hasText: bobName }).getByLabel(/mark .* as verified/).check();
    // The mark is committed to IndexedDB before the reload, as it is long before any person could reload.
    await expect.poll(() => storedVerifiedMarks(alice.page)).toHaveLength(1);
    await alice.page.reload();
    await bob.page.reload();
    await expectPeer(alice.page, bobName);
    await expectPeer(bob.page, aliceName);
    expect(await safetyNumber(alice.page, bobName)).toBe(before);
    expect(await safetyNumber(bob.page, aliceName)).toBe(before);
    const bobAtAlice = alice.page.locator('.peer:not(.self)').filter({ hasText: bobName });
    await expect(bobAtAlice.locator('.tag.verified')).toBeVisible();
    await expect(bobAtAlice.getByLabel(/mark .* as verified/)).toBeChecked();
  } finally {
    await alice.context.close();
    await bob.context.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
