import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { DESKTOP, displayName, download, fileRow, joinRoom, newPage, randomFile, sha256, startRoom } from './helpers.ts';

/**
 * The core under load and under attack, in real browsers: a whole folder
 * shared at once must reach everyone (live gossip and catalogue sync) without
 * anybody being punished for it; long multi-byte names must fit the byte-sized
 * catalogue frames; and a hostile page's forged or oversized gossip must get
 * only that page disconnected, never an honest peer.
 */
interface Person {
  context: BrowserContext;
  page: Page;
  id: string;
}

/** The page's own peer id, once its engine has started. */
async function peerId(page: Page): Promise<string> {
  const read = () => page.evaluate(() => (globalThis as { __meshdrop?: { self: string } }).__meshdrop?.self ?? '');
  await expect.poll(read).toMatch(/^[A-Za-z0-9_-]{16}$/);
  return read();
}

async function join(browser: Browser, link: string | null): Promise<Person & { link: string }> {
  const { context, page } = await newPage(browser, DESKTOP);
  let url: string;
  if (link === null) url = await startRoom(page);
  else {
    await joinRoom(page, link);
    url = link;
  }
  return { context, page, id: await peerId(page), link: url };
}

const linkTo = (page: Page, peer: string) => page.locator(`.peer[data-peer-id="${peer}"] .dot.open`);
const disconnectNotices = (page: Page) => page.locator('.notice', { hasText: 'Disconnected' });
const fileRows = (page: Page) => page.locator('li.file[data-file-id]');
/** How many files the room lists (rows are paged 100 at a time: the heading counts them all). */
const fileCount = (page: Page) => page.locator('#files-title .count');

/** Every pair of these people has an open link, seen from both ends. */
async function expectMesh(people: Person[]): Promise<void> {
  for (const a of people) for (const b of people) if (a !== b) await expect(linkTo(a.page, b.id)).toBeVisible();
}

async function stats(page: Page): Promise<{ gossip: Record<string, number> }> {
  return page.evaluate(() => (globalThis as unknown as { __meshdrop: { stats(): { gossip: Record<string, number> } } }).__meshdrop.stats());
}

/** Mallory's page plays the hostile peer: raw bytes straight onto its link to `to`. */
async function sendRaw(from: Page, to: string, bytes: number[]): Promise<void> {
  const sent = await from.evaluate(
    ([peer, b]) => {
      const api = (globalThis as unknown as { __meshdrop: { sendFrame(p: string, x: Uint8Array): unknown } }).__meshdrop;
      api.sendFrame(peer, new Uint8Array(b));
      return true;
    },
    [to, bytes] as const,
  );
  expect(sent).toBe(true);
}

const utf8Frame = (type: number, text: string) => [type, ...new TextEncoder().encode(text)];

test('a folder of 700 small files shared at once reaches everyone; nobody is disconnected', async ({ browser }) => {
  test.setTimeout(180_000);
  const alice = await join(browser, null);
  const bob = await join(browser, alice.link);
  const carol = await join(browser, alice.link);
  const people = [alice, bob, carol];
  await expectMesh(people);

  const folder = Array.from({ length: 700 }, (_, i) => ({
    name: `f${i}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`file number ${i}\n`.repeat(1 + (i % 7))),
  }));
  await alice.page.locator('#file-input').setInputFiles(folder);

  for (const p of people) await expect(fileCount(p.page)).toHaveText('700', { timeout: 60_000 });
  for (const p of people) await expect(fileRows(p.page)).toHaveCount(100); // the first page of rows
  for (const p of people) await expect(disconnectNotices(p.page)).toHaveCount(0);
  await expectMesh(people);

  // Dave arrives late: he learns all 700 from his neighbours' catalogue sync.
  const dave = await join(browser, alice.link);
  await expectMesh([...people, dave]);
  await expect(fileCount(dave.page)).toHaveText('700', { timeout: 60_000 });
  await dave.page.getByRole('searchbox', { name: 'Search files' }).fill('f699');
  await expect(fileRow(dave.page, 'f699.txt')).toBeVisible();
  for (const p of [...people, dave]) await expect(disconnectNotices(p.page)).toHaveCount(0);
  await expectMesh([...people, dave]);

  for (const p of [...people, dave]) await p.context.close();
});

test('40 files with long CJK names reach a newcomer', async ({ browser }) => {
  test.setTimeout(120_000);
  const alice = await join(browser, null);
  const files = Array.from({ length: 40 }, (_, i) => ({
    name: `${'漢字'.repeat(100)}${i}.txt`, mimeType: 'text/plain', buffer: randomFile(20_000 + i),
  }));
  await alice.page.locator('#file-input').setInputFiles(files);
  await expect(fileRows(alice.page).filter({ hasText: 'Shared by you' })).toHaveCount(40, { timeout: 60_000 });

  const bob = await join(browser, alice.link);
  await expectMesh([alice, bob]);
  await expect(fileRows(bob.page)).toHaveCount(40);
  const pick = files[17]!;
  await expect(fileRow(bob.page, pick.name)).toBeVisible();
  const got = await download(bob.page, pick.name);
  expect(sha256(got.bytes)).toBe(sha256(pick.buffer));
  for (const p of [alice, bob]) await expect(disconnectNotices(p.page)).toHaveCount(0);

  await alice.context.close();
  await bob.context.close();
});

test("a hostile page's forged and oversized gossip is refused; honest peers stay connected", async ({ browser }) => {
  test.setTimeout(120_000);
  const alice = await join(browser, null);
  const bob = await join(browser, alice.link);
  const mallory = await join(browser, alice.link);
  await expectMesh([alice, bob, mallory]);
  const [bobName, malloryName] = [await displayName(bob.page), await displayName(mallory.page)];

  // (a) Mallory speaks in Bob's name with a key that is not Bob's.
  const forged = {
    v: 1, origin: bob.id, key: 'A'.repeat(43), seq: Date.now(), kind: 'add',
    file: { id: 'ab'.repeat(32), name: 'forged.exe', size: 1000, mime: 'application/octet-stream' }, hops: 1, sig: 'A'.repeat(86),
  };
  await sendRaw(mallory.page, alice.id, utf8Frame(0x02, JSON.stringify(forged)));

  await expect(disconnectNotices(alice.page).filter({ hasText: malloryName })).toHaveCount(1);
  await expect(linkTo(alice.page, mallory.id)).toHaveCount(0);
  await expect.poll(async () => {
    const g = (await stats(alice.page)).gossip;
    return (g['bad-origin'] ?? 0) + (g['bad-signature'] ?? 0);
  }).toBeGreaterThanOrEqual(1);
  await expect(fileRow(alice.page, 'forged.exe')).toHaveCount(0);
  await expect(fileRow(bob.page, 'forged.exe')).toHaveCount(0);
  await expectMesh([alice, bob]);
  await expect(linkTo(mallory.page, bob.id)).toBeVisible(); // Bob had no quarrel with Mallory

  // (b) A fresh hostile page sends Bob a GOSSIP frame past MAX_JSON_BYTES (32 KiB).
  const mallory2 = await join(browser, alice.link);
  await expect(linkTo(bob.page, mallory2.id)).toBeVisible();
  await expect(linkTo(mallory2.page, bob.id)).toBeVisible();
  const mallory2Name = await displayName(mallory2.page);
  await sendRaw(mallory2.page, bob.id, utf8Frame(0x02, JSON.stringify('x'.repeat(39_998))));

  await expect(disconnectNotices(bob.page).filter({ hasText: mallory2Name })).toHaveCount(1);
  await expect(linkTo(bob.page, mallory2.id)).toHaveCount(0);
  await expectMesh([alice, bob]);

  // Nobody banned Bob, and Bob banned nobody but Mallory2.
  for (const p of [alice, bob, mallory, mallory2]) await expect(disconnectNotices(p.page).filter({ hasText: bobName })).toHaveCount(0);
  await expect(disconnectNotices(bob.page)).toHaveCount(1);
  await expect(disconnectNotices(alice.page)).toHaveCount(1);

  for (const p of [alice, bob, mallory, mallory2]) await p.context.close();
});
