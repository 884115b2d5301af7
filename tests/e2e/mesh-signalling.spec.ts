import { expect, test, type Page } from '@playwright/test';
import { freePort, killGroup, startMeshdrop } from './servers.ts';
import { DESKTOP, displayName, download, expectPeer, joinRoom, newPage, randomFile, sha256, shareFile, startRoomAt } from './helpers.ts';

/**
 * Signalling through the mesh in real Chromium: three people in a room, the
 * relay process is killed, a link between two of them is dropped, and it is
 * made again (offer, answer and trickled ICE candidates carried by the third)
 * before a file flows over it.
 */
type Api = {
  self: string;
  dropLink(peer: string): void;
  stats(): { meshSignals: { forwarded: number; delivered: number; forged: number } };
};
/** Inside page.evaluate: the page's test API (a type only; the cast is erased). */
type Page$ = { __meshdrop: Api };
const selfId = (page: Page) => page.evaluate(() => (globalThis as unknown as Page$).__meshdrop.self);
const mesh = (page: Page) => page.evaluate(() => (globalThis as unknown as Page$).__meshdrop.stats().meshSignals);

test('relay killed: a dropped link is made again through a third person, and a file flows over it', async ({ browser }) => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startMeshdrop(port, {});
  let serverUp = true;
  try {
    const [alice, bob, carol] = [await newPage(browser, DESKTOP), await newPage(browser, DESKTOP), await newPage(browser, DESKTOP)];
    const room = await startRoomAt(alice.page, base);
    await joinRoom(bob.page, `${base}/${room}`);
    await joinRoom(carol.page, `${base}/${room}`);
    const names = { alice: await displayName(alice.page), bob: await displayName(bob.page), carol: await displayName(carol.page) };
    for (const [page, others] of [[alice.page, [names.bob, names.carol]], [bob.page, [names.alice, names.carol]], [carol.page, [names.alice, names.bob]]] as const) {
      for (const name of others) await expectPeer(page, name);
    }

    killGroup(server);
    serverUp = false;
    for (const p of [alice.page, carol.page]) await expect(p.getByRole('status').filter({ hasText: 'Server unreachable' })).toBeVisible();
    await alice.page.evaluate((peer) => (globalThis as unknown as Page$).__meshdrop.dropLink(peer), await selfId(carol.page));
    // An offer one way, an answer the other, and their ICE candidates, all through Bob.
    await expect.poll(async () => (await mesh(alice.page)).delivered > 0 && (await mesh(carol.page)).delivered > 0).toBe(true);
    await expectPeer(carol.page, names.alice);
    await expectPeer(alice.page, names.carol);
    expect((await mesh(bob.page)).forwarded, 'Bob carried their signals').toBeGreaterThan(1);
    expect((await mesh(alice.page)).forged + (await mesh(carol.page)).forged).toBe(0);

    const original = randomFile(3 * 1024 * 1024 + 5);
    await shareFile(alice.page, 'through-the-mesh.bin', original);
    const saved = await download(carol.page, 'through-the-mesh.bin');
    expect(sha256(saved.bytes)).toBe(sha256(original));
    for (const p of [alice, bob, carol]) await p.context.close();
  } finally {
    if (serverUp) killGroup(server);
  }
});
