import { randomBytes } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { toBase64Url } from '../../src/core/bytes.ts';
import { generateIdentity, openIdentity } from '../../src/core/crypto/identity.ts';
import { deriveRoomKeys } from '../../src/core/crypto/room-keys.ts';
import { signPresence } from '../../src/core/gossip/presence.ts';
import { parseRoomFragment } from '../../src/core/room.ts';
import { encodeFrame } from '../../src/core/wire/frames.ts';
import { DESKTOP, expectPeer, horizontalOverflow, joinRoom, newPage, PHONE, screenshot, startRoom } from './helpers.ts';

/**
 * The peer list of a big room, in real Chromium: Vic and Xan are linked; 40
 * more people are in the room by their own signed presence, relayed by Xan
 * over its real link to Vic, as a neighbour in a bounded mesh relays the word
 * of people Vic is not linked to. Their statements are signed with keys of
 * their own, for this room, and Vic's app verifies and judges them as any
 * others (there are no 40 more browsers on a 2-core machine). Screenshots:
 * test-results/screenshots/presence/peers-<size>-<scheme>[-open].png.
 */
test.describe.configure({ timeout: 120_000 });

const OTHERS = 40;
const NAMES = ['Aiko Tanaka', 'Bram de Vries', 'Chiara Rossi', 'Dmitri Volkov', 'Émile Laurent', 'Farah Haddad', 'Gwen Morgan', 'Hana Kim'];
const LONG = 'Maximiliana Wolkenstein-Rosenthal';
const HOSTILE = 'Eve\u202Egpj.exe'; // a bidi override: must show as plain text, the override gone

const nameOf = (i: number) => (i === 0 ? LONG : i === 1 ? HOSTILE : `${NAMES[i % NAMES.length]} ${i}`);

/** PRESENCE frames (0x0f) of `count` people for the room at `link`, each signed by its own new key. */
async function presenceFrames(link: string, count: number): Promise<number[][]> {
  const room = parseRoomFragment(new URL(link).hash);
  if (!room) throw new Error(`not a room link: ${link}`);
  const { topic } = await deriveRoomKeys(room, (n) => new Uint8Array(randomBytes(n)));
  const now = Date.now();
  return Promise.all(Array.from({ length: count }, async (_, i) => {
    const who = await openIdentity(await generateIdentity());
    const p = await signPresence(
      { origin: who.id, key: toBase64Url(who.publicKey), seq: now, since: now, kind: 'here', name: nameOf(i), hops: 1 },
      topic, (d) => who.sign(d),
    );
    return [...encodeFrame({ type: 'presence', json: p })];
  }));
}

const selfId = (page: Page) => page.evaluate(() => (globalThis as unknown as { __meshdrop: { self: string } }).__meshdrop.self);

for (const [size, device] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
  test(`${size}: a big room's peer list shows the linked first, then five more, the rest folded`, async ({ browser }) => {
    const vic = await newPage(browser, device);
    const link = await startRoom(vic.page);
    await vic.page.getByLabel('Your name in this room').fill('Vic');
    await vic.page.getByLabel('Your name in this room').press('Enter');
    const xan = await newPage(browser, DESKTOP);
    await joinRoom(xan.page, link);
    await xan.page.getByLabel('Your name in this room').fill('Xan');
    await xan.page.getByLabel('Your name in this room').press('Enter');
    await expectPeer(vic.page, 'Xan');

    const to = await selfId(vic.page);
    const frames = await presenceFrames(link, OTHERS);
    await xan.page.evaluate(([peer, all]) => {
      const hook = (globalThis as unknown as { __meshdrop: { sendFrame(p: string, b: Uint8Array): void } }).__meshdrop;
      for (const f of all) hook.sendFrame(peer, new Uint8Array(f));
    }, [to, frames] as const);

    const list = vic.page.locator('section.peers');
    await expect(list.locator('#peers-title .count')).toHaveText(String(OTHERS + 2), { timeout: 20_000 });
    const rows = list.locator(':scope > ul > li.peer:not(.self)');
    await expect(rows).toHaveCount(1 + 5);
    await expect(rows.first().locator('.dot.open')).toBeVisible(); // Xan, linked, first
    await expect(rows.nth(1)).toContainText('not linked');
    const more = list.locator('details.more-peers');
    await expect(more.locator('summary')).toHaveText(`and ${OTHERS - 5} more here`);
    await expect(more.locator('li.peer')).toHaveCount(OTHERS - 5);
    // Names are text: the override is dropped (names.ts), nothing is markup.
    await expect(list.getByText('Evegpj.exe')).toHaveCount(1);
    expect(await list.evaluate((el) => el.textContent!.includes('\u202E'))).toBe(false);

    for (const open of [false, true]) {
      if (open) await more.locator('summary').click();
      for (const colorScheme of ['light', 'dark'] as const) {
        await vic.page.emulateMedia({ colorScheme });
        expect(await horizontalOverflow(vic.page), `sideways scrolling (${size}, ${colorScheme})`).toBeLessThanOrEqual(0);
        await screenshot(vic.page, `presence/peers-${size}-${colorScheme}${open ? '-open' : ''}.png`);
      }
    }
    await vic.context.close();
    await xan.context.close();
  });
}
