import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { CONNECT_TIMEOUT_MS } from '../../src/net/peer-manager.ts';
import { expectPeer, joinRoom, persistentBrowser, PHONE, randomFile, screenshot, shareFile, startRoom, storedPref, fileRow } from './helpers.ts';

/**
 * The roster in real browsers whose storage outlives reloads: Alice remembers
 * Bob by his identity and recognises him under a new name; his presence says
 * idle when his page is hidden; once Alice blocks him, no connection is ever
 * made again, across reloads, until she unblocks.
 */
const ALICE = 'Alice Aardvark';
const BOB = 'Bob Bittern';
const ROBERT = 'Robert Bittern';

async function rename(page: Page, name: string): Promise<void> {
  await page.getByLabel('Your name in this room').fill(name);
  await page.getByLabel('Your name in this room').press('Enter');
}

const peerRow = (page: Page, name: string) => page.locator('.peers > ul > .peer:not(.self)').filter({ hasText: name });

/** The latest name of everyone this browser's stored roster remembers. */
async function rememberedNames(page: Page): Promise<string[]> {
  const roster = (await storedPref(page, 'roster')) as { people?: { names: string[] }[] } | undefined;
  return (roster?.people ?? []).map((p) => p.names[0] ?? '');
}

/**
 * The page's visibility as the browser reports it, switched the way a
 * background tab switches it: the app's own listener (page-life.ts) hears the
 * same event. Headless Chromium shows every page, so the property is overridden.
 */
function setHidden(page: Page, hidden: boolean): Promise<void> {
  return page.evaluate((h) => {
    if (h) Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    else delete (document as { visibilityState?: string }).visibilityState;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

/** Counts the RTCPeerConnections this page constructs, from its first script on. */
const COUNT_CONNECTIONS = () => {
  const Native = window.RTCPeerConnection;
  (window as unknown as { connectionsMade: number }).connectionsMade = 0;
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      (window as unknown as { connectionsMade: number }).connectionsMade++;
    }
  } as typeof RTCPeerConnection;
};
const connectionsMade = (page: Page) => page.evaluate(() => (window as unknown as { connectionsMade: number }).connectionsMade);

test('a known person is recognised after a reload and under a new name; a blocked person never connects again', async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'meshdrop-roster-a-')), mkdtempSync(join(tmpdir(), 'meshdrop-roster-b-'))];
  const alice = await persistentBrowser(dirs[0]!);
  const bob = await persistentBrowser(dirs[1]!);
  await alice.context.addInitScript(COUNT_CONNECTIONS);
  try {
    const link = await startRoom(alice.page);
    await rename(alice.page, ALICE);
    await joinRoom(bob.page, link);
    await rename(bob.page, BOB);
    await expectPeer(alice.page, BOB);
    await expect(peerRow(alice.page, BOB).locator('.tag.known')).toHaveCount(0); // a first meeting
    await expect(peerRow(alice.page, BOB).locator('.tag.presence')).toHaveText('active');
    await expect.poll(() => rememberedNames(alice.page)).toContain(BOB); // remembered before she leaves

    // Alice leaves; Bob takes a new name; Alice comes back: the same identity, known as Bob.
    await alice.page.goto('about:blank');
    await rename(bob.page, ROBERT);
    await alice.page.goto(link);
    await expect(peerRow(alice.page, ROBERT)).toContainText(`${BOB}, known as ${ROBERT} here`);
    await expectPeer(alice.page, ROBERT);
    await expect(peerRow(alice.page, ROBERT).locator('.tag.presence')).toHaveText('active');

    // Bob's page goes to the background: Alice sees him idle, then active when he is back.
    await setHidden(bob.page, true);
    await expect(peerRow(alice.page, ROBERT).locator('.tag.presence')).toHaveText('idle');
    await screenshot(alice.page, 'roster-known-desktop.png');
    await alice.page.setViewportSize(PHONE.viewport);
    await screenshot(alice.page, 'roster-known-phone.png');
    await alice.page.setViewportSize({ width: 1280, height: 800 });
    await setHidden(bob.page, false);
    await expect(peerRow(alice.page, ROBERT).locator('.tag.presence')).toHaveText('active');

    // Alice blocks him, after a confirmation: the link ends and he is listed only as blocked.
    await peerRow(alice.page, ROBERT).locator('summary').click();
    await peerRow(alice.page, ROBERT).getByRole('button', { name: `Block ${ROBERT}` }).click();
    await alice.page.getByRole('button', { name: `Yes, block ${ROBERT}` }).click();
    await expect(peerRow(alice.page, ROBERT)).toHaveCount(0);
    const blockedList = alice.page.locator('details.blocked');
    await blockedList.locator('summary').click();
    await expect(blockedList.getByRole('button', { name: `Unblock ${ROBERT}` })).toBeVisible();
    await expect(bob.page.locator('.peer:not(.self) .dot.open')).toHaveCount(0);
    await screenshot(alice.page, 'roster-blocked-desktop.png');
    await alice.page.setViewportSize(PHONE.viewport);
    await screenshot(alice.page, 'roster-blocked-phone.png');
    await alice.page.setViewportSize({ width: 1280, height: 800 });

    // Both reload, and Bob shares a file: no connection is ever made, nothing of his reaches Alice.
    await alice.page.reload();
    await bob.page.reload();
    await expect(alice.page.getByLabel('Your name in this room')).toHaveValue(ALICE);
    await shareFile(bob.page, 'from-robert.txt', randomFile(10_000), 'text/plain');
    for (let i = 0; i < 16; i++) {
      await alice.page.waitForTimeout(500);
      expect(await connectionsMade(alice.page), 'Alice constructs no connection at all').toBe(0);
      await expect(peerRow(alice.page, ROBERT)).toHaveCount(0);
      await expect(bob.page.locator('.peer:not(.self) .dot.open')).toHaveCount(0);
    }
    await expect(fileRow(alice.page, 'from-robert.txt')).toHaveCount(0);

    // Unblocked, he connects again and his file appears. If Bob holds the lower id he is the one who
    // dials, and his attempt went unanswered: his next try comes when it times out (CONNECT_TIMEOUT_MS).
    await alice.page.locator('details.blocked summary').click();
    await alice.page.getByRole('button', { name: `Unblock ${ROBERT}` }).click();
    await expect(peerRow(alice.page, ROBERT).locator('.dot.open')).toBeVisible({ timeout: CONNECT_TIMEOUT_MS + 30_000 });
    await expect(fileRow(alice.page, 'from-robert.txt')).toBeVisible();
    await expect(alice.page.locator('details.blocked')).toHaveCount(0);
  } finally {
    await alice.context.close();
    await bob.context.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
