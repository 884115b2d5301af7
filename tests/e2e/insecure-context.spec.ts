import { chromium, expect, test } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS, PORT } from '../../playwright.config.ts';
import { PHONE, displayName, download, expectPeer, fileRow, joinRoom, randomFile, sha256, shareFile, startRoom } from './helpers.ts';

/**
 * A phone on the LAN opens http://192.168.x.y:8080: not a secure context, so
 * no crypto.subtle (and no navigator.storage, no clipboard). meshdrop must
 * still hash, seal its signalling and share, with its pure-JS fallbacks. Here
 * a made-up host name is mapped to 127.0.0.1, so the origin is insecure while
 * all traffic stays on this machine.
 */
test('over plain http on a non-localhost name (no WebCrypto), two phones still share a file', async () => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP meshdrop.test 127.0.0.1'],
  });
  try {
    const base = `http://meshdrop.test:${PORT}`;
    const alice = await (await browser.newContext(PHONE)).newPage();
    const bob = await (await browser.newContext(PHONE)).newPage();
    await alice.goto(`${base}/`);
    expect(await alice.evaluate(() => ({ secure: isSecureContext, subtle: typeof crypto.subtle }))).toEqual({ secure: false, subtle: 'undefined' });
    const link = await startRoom(alice, false);
    await joinRoom(bob, link);
    await expectPeer(bob, await displayName(alice));
    const original = randomFile(1024 * 1024 + 7);
    await shareFile(alice, 'from-a-phone.bin', original);
    await expect(fileRow(bob, 'from-a-phone.bin')).toBeVisible();
    const got = await download(bob, 'from-a-phone.bin');
    expect(sha256(got.bytes)).toBe(sha256(original));
  } finally {
    await browser.close();
  }
});
