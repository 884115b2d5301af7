import { expect, test, type Page } from '@playwright/test';
import { DESKTOP, displayName, expectPeer, fileRow, joinRoom, newPage, randomFile, shareFile, startRoom } from './helpers.ts';

/**
 * What the relay sees, from inside real browsers: every WebSocket frame either
 * way. Signalling is sealed, so no SDP, ICE candidate, display name, file name
 * or room secret may appear in any of them. Both ends show the same
 * verification code, derived from the DTLS fingerprints.
 */
function recordRelayFrames(page: Page): string[] {
  const frames: string[] = [];
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => frames.push(String(f.payload)));
    ws.on('framereceived', (f) => frames.push(String(f.payload)));
  });
  return frames;
}

async function verificationCode(page: Page, peerName: string): Promise<string> {
  const peer = page.locator('.peer:not(.self)').filter({ hasText: peerName });
  await peer.locator('summary').click();
  const code = peer.locator('.code');
  await expect(code).toHaveText(/^\d{3} \d{3}$/);
  return code.innerText();
}

test('the relay sees only sealed signalling; both ends show the same verification code', async ({ browser }) => {
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

  const codeAtAlice = await verificationCode(alice.page, bobName);
  const codeAtBob = await verificationCode(bob.page, 'Zanzibar Quokka');
  expect(codeAtAlice).toBe(codeAtBob);
  await alice.page.screenshot({ path: 'test-results/screenshots/verification-code-desktop.png' });

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
