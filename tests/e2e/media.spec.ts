import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test, type Page } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../../playwright.config.ts';
import { DESKTOP, PHONE, fileRow, joinRoom, newPage, screenshot, sha256, startRoom } from './helpers.ts';

/**
 * A video plays while it downloads: Alice shares 40 s of noisy video at
 * 12 Mbit/s (~60 MB) with her upload capped, so Bob's download takes tens of
 * seconds; Bob presses Play and the video plays (currentTime advancing) long
 * before the download ends, and a seek to the middle, to pieces not fetched
 * yet, plays within seconds: the pieces at the playhead come first.
 */
const SECONDS = 40;
const BITRATE = '12M';
const UPLOAD = 2_500_000; // bytes/s: about 1.7x the video's rate, so it can play as it arrives
const NAME = 'noisy-clip.webm';

/**
 * Made once per set of parameters and kept in the temp dir (making it costs
 * ~10 s of CPU); returned as a path, since Playwright hands a page at most
 * 50 MB from memory.
 */
function makeVideo(name: string, seconds: number, size: string, bitrate: string): string | null {
  if (spawnSync('ffmpeg', ['-version']).status !== 0) return null;
  const args = [
    '-y', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30,noise=alls=60:allf=t`, '-t', String(seconds),
    '-c:v', 'libvpx', '-b:v', bitrate, '-minrate', bitrate, '-maxrate', bitrate, '-bufsize', '6M', '-deadline', 'realtime', '-cpu-used', '8', '-an',
  ];
  const made = join(tmpdir(), 'meshdrop-e2e-media', sha256(Buffer.from(args.join(' '))).slice(0, 16));
  const file = join(made, name);
  if (!existsSync(file)) {
    mkdirSync(made, { recursive: true });
    execFileSync('ffmpeg', [...args, `${file}.part.webm`]);
    renameSync(`${file}.part.webm`, file); // a run killed half-way leaves no half video behind
  }
  return file;
}

interface Report { have: number; pieceCount: number; haveHex: string }
const downloadOf = (page: Page): Promise<Report | undefined> =>
  page.evaluate(() => {
    const s = (globalThis as unknown as { __meshdrop?: { stats(): { downloads: Record<string, Report> } } }).__meshdrop?.stats();
    return s && Object.values(s.downloads)[0];
  });
const holds = (r: Report, piece: number) => (parseInt(r.haveHex.slice(Math.floor(piece / 8) * 2, Math.floor(piece / 8) * 2 + 2), 16) & (0x80 >> piece % 8)) !== 0;
const currentTime = (page: Page) => page.locator('dialog.player video').evaluate((v: HTMLVideoElement) => v.currentTime);

test('a video plays while it downloads, and a seek to the middle plays within seconds', async ({ browser, baseURL }) => {
  const path = makeVideo(NAME, SECONDS, '640x360', BITRATE);
  test.skip(!path, 'ffmpeg is missing: run tests/e2e/ensure-ffmpeg.sh (or apt-get install ffmpeg)');
  const video = readFileSync(path!);
  const alice = await newPage(browser);
  await alice.page.goto(`${baseURL}/?uplimit=${UPLOAD}`);
  const room = new URL(await startRoom(alice.page, false)).hash;
  await alice.page.locator('#file-input').setInputFiles(path!);
  await expect(fileRow(alice.page, NAME).getByText('Shared by you')).toBeVisible({ timeout: 60_000 });

  const bob = await newPage(browser, DESKTOP);
  await joinRoom(bob.page, `${baseURL}/${room}`);
  await fileRow(bob.page, NAME).getByRole('button', { name: /Play/ }).click();
  const player = bob.page.getByRole('dialog', { name: NAME });
  await expect(player).toBeVisible();

  // Playing, and still downloading.
  await expect.poll(() => currentTime(bob.page), { timeout: 30_000, message: 'the video starts playing' }).toBeGreaterThan(1);
  const early = await currentTime(bob.page);
  await expect.poll(() => currentTime(bob.page), { timeout: 5_000 }).toBeGreaterThan(early + 0.5);
  const during = (await downloadOf(bob.page))!;
  expect(during.have, 'playing long before the whole file is here').toBeLessThan(during.pieceCount);
  await expect(player).toContainText('Playing while it downloads');
  await screenshot(bob.page, 'media-player-desktop.png');

  // Seek to the middle, to a run of pieces not fetched yet (the rest of the file fills rarest-first meanwhile,
  // so the exact middle may be here already): the window moves there. The video's rate is constant, so a
  // piece's share of the file is its share of the time.
  const beforeSeek = (await downloadOf(bob.page))!;
  const missingRun = (p: number) => [0, 1, 2, 3].every((k) => p + k < beforeSeek.pieceCount && !holds(beforeSeek, p + k));
  const around = Math.floor(beforeSeek.pieceCount / 2);
  const target = [...Array(Math.floor(beforeSeek.pieceCount / 2)).keys()].map((k) => around + (k % 2 ? -1 : 1) * Math.ceil(k / 2)).find(missingRun);
  expect(target, 'some of the middle is not here yet').toBeDefined();
  const middle = ((target! + 1) / beforeSeek.pieceCount) * SECONDS;
  await bob.page.locator('dialog.player video').evaluate((v: HTMLVideoElement, t: number) => (v.currentTime = t), middle);
  await expect.poll(() => currentTime(bob.page), { timeout: 10_000, message: 'playing after the seek' }).toBeGreaterThan(middle + 1);
  const afterSeek = await currentTime(bob.page);
  await expect.poll(() => currentTime(bob.page), { timeout: 5_000 }).toBeGreaterThan(afterSeek + 0.5);

  await bob.page.setViewportSize({ width: 360, height: 740 });
  await screenshot(bob.page, 'media-player-phone.png');
  await bob.page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(bob.page, 'media-player-phone-dark.png');

  // Reloaded mid-download: the download resumes by itself, and Play plays again from what is stored.
  expect((await downloadOf(bob.page))!.have, 'reloaded before the download ended').toBeLessThan(during.pieceCount);
  await bob.page.reload();
  await fileRow(bob.page, NAME).getByRole('button', { name: /Play/ }).click();
  await expect.poll(() => currentTime(bob.page), { timeout: 15_000, message: 'playing again after a reload' }).toBeGreaterThan(0.5);

  // Closing the player leaves the download running. Once complete, the worker's route serves the
  // whole file (200) and any range of it (206) with the shared bytes, and refuses a range past the end (416).
  await player.getByRole('button', { name: 'Close player' }).click();
  await expect(player).toBeHidden();
  await expect(fileRow(bob.page, NAME)).toContainText('you share it too', { timeout: 60_000 });
  const url = await bob.page.evaluate(() => {
    const a = document.createElement('a');
    return a.href = `/media/${document.querySelector<HTMLElement>('li.file')!.dataset.fileId}/x.webm`, a.pathname;
  });
  const served = await bob.page.evaluate(async ({ url, size }) => {
    const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
    const whole = await fetch(url);
    const tail = await fetch(url, { headers: { Range: 'bytes=-500' } });
    const past = await fetch(url, { headers: { Range: `bytes=${size}-` } });
    return {
      whole: { status: whole.status, sha: hex(await crypto.subtle.digest('SHA-256', await whole.arrayBuffer())) },
      tail: { status: tail.status, range: tail.headers.get('Content-Range'), bytes: hex(await tail.arrayBuffer()) },
      past: { status: past.status, range: past.headers.get('Content-Range') },
    };
  }, { url, size: video.length });
  expect(served.whole).toEqual({ status: 200, sha: sha256(video) });
  expect(served.tail).toEqual({ status: 206, range: `bytes ${video.length - 500}-${video.length - 1}/${video.length}`, bytes: video.subarray(-500).toString('hex') });
  expect(served.past).toEqual({ status: 416, range: `bytes */${video.length}` });
  await alice.context.close();
  await bob.context.close();
});

test('without a service worker (plain http on a LAN name) the player says it waits for the whole file, then plays it', async ({ baseURL }) => {
  const path = makeVideo('small-clip.webm', 4, '320x180', '2M');
  test.skip(!path, 'ffmpeg is missing: run tests/e2e/ensure-ffmpeg.sh (or apt-get install ffmpeg)');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP meshdrop.test 127.0.0.1'] });
  try {
    const base = `http://meshdrop.test:${new URL(baseURL!).port}`;
    const alice = await (await browser.newContext(PHONE)).newPage();
    await alice.goto(`${base}/?uplimit=${256 * 1024}`);
    const link = await startRoom(alice, false);
    await alice.locator('#file-input').setInputFiles(path!);
    await expect(fileRow(alice, 'small-clip.webm').getByText('Shared by you')).toBeVisible();
    const bob = await (await browser.newContext(PHONE)).newPage();
    await joinRoom(bob, link);
    expect(await bob.evaluate(() => isSecureContext)).toBe(false);
    await fileRow(bob, 'small-clip.webm').getByRole('button', { name: /Play/ }).click();
    const player = bob.getByRole('dialog', { name: 'small-clip.webm' });
    await expect(player).toContainText('only once it has fully arrived');
    await screenshot(bob, 'media-player-insecure-phone.png');
    await expect.poll(() => currentTime(bob), { timeout: 30_000, message: 'plays once complete' }).toBeGreaterThan(0.5);
    expect(await bob.locator('dialog.player video').evaluate((v: HTMLVideoElement) => v.src)).toMatch(/^blob:/);
  } finally {
    await browser.close();
  }
});
