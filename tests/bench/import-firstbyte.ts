import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileRow, joinRoom, persistentPeer, startRoom, type Peer } from './app.ts';
import { importTimeoutMs } from './import-phase.ts';
import type { FirstByteMode, FirstByteResults, FirstByteRun } from './import-report.ts';
import { moments, waitForMoment, watchFile, type Moments } from './import-watch.ts';
import { hashFile, sleep, writeRandomFile, type Cleanup } from './infra.ts';
import { watchCpu } from './procs.ts';
import { cpuMsPerMiB } from './report.ts';

/**
 * Phase 'firstbyte' (issue 11, goal 1): a sharer and a friend in a room, two
 * browsers with on-disk profiles, the friend's page open. The sharer drops a
 * file; the friend clicks Download as soon as its row offers it ('stream'),
 * or only once the sharer's import has finished ('after-import', today's
 * "import, then download"), alternating within the run. Every moment is
 * stamped by the page it happens in (import-watch.ts), on the machine's one
 * wall clock, and told as seconds after the drop.
 */
/** Both pages show an open link to the other. */
async function linked(peers: Peer[]): Promise<void> {
  await Promise.all(peers.map((p) => p.page.locator('.peer:not(.self) .dot.open').first().waitFor({ timeout: 60_000 })));
}

/**
 * The friend's Download button for the file. After the import, on a build with
 * drafts, the row must carry the final id (`fileId`) first: a click on the
 * draft would be a streamed download again, not today's flow.
 */
function downloadButton(friend: Peer, name: string, fileId: string | undefined) {
  const row = fileId ? friend.page.locator(`li.file[data-file-id="${fileId}"]`) : fileRow(friend.page, name);
  return row.getByRole('button', { name: `Download ${name}`, exact: true });
}

/** The sharer's import has ended; with drafts, also the id it ended on. */
async function importEnded(sharer: Peer, name: string, timeoutMs: number): Promise<{ m: Moments; fileId?: string }> {
  const m = await waitForMoment(sharer.page, name, 'importedAt', timeoutMs);
  const fileId = (await sharer.page.evaluate(
    (n) => (globalThis as unknown as { __meshdrop: { stats(): { imports?: { name: string; fileId?: string }[] } } }).__meshdrop.stats().imports?.find((i) => i.name === n)?.fileId,
    name,
  )) ?? undefined;
  return { m, fileId };
}

interface Input {
  path: string;
  sha256: string;
  mib: number;
}

async function dropToFriend(sharer: Peer, friend: Peer, file: Input, mode: FirstByteMode, round: number): Promise<FirstByteRun> {
  const { path, mib } = file;
  const name = basename(path);
  const timeoutMs = importTimeoutMs(mib) * 2;
  await Promise.all([watchFile(sharer.page, name, 'sharer'), watchFile(friend.page, name, 'friend')]);
  const cpu = watchCpu([sharer.label, friend.label]);
  const event = friend.page.waitForEvent('download', { timeout: timeoutMs });
  const t0 = Date.now();
  await sharer.page.locator('#file-input').setInputFiles(path);
  const fileId = mode === 'after-import' ? (await importEnded(sharer, name, timeoutMs)).fileId : undefined;
  const button = downloadButton(friend, name, fileId);
  await button.waitFor({ timeout: timeoutMs });
  const clickAt = Date.now();
  await button.click();
  const download = await event;
  const doneAt = Date.now();
  const spent = cpu();
  const sha256Matches = (await hashFile(await download.path())) === file.sha256;
  await download.delete(); // a GiB per run: not kept for the rest of the run
  await importEnded(sharer, name, timeoutMs);
  const [s, f] = await Promise.all([moments(sharer.page, name, true), moments(friend.page, name, true)]);
  const drop = s.droppedAt ?? t0;
  const after = (t: number | undefined) => (t === undefined ? null : (t - drop) / 1000);
  return {
    mode, round, mib, sha256Matches,
    visible: after(f.rowAt)!, click: after(clickAt)!, firstStored: after(f.firstStoredAt), imported: after(s.importedAt),
    done: after(doneAt)!, clickToDone: (doneAt - clickAt) / 1000, cpu: spent, cpuMsPerMiB: cpuMsPerMiB(spent, mib),
  };
}

const say = (r: FirstByteRun) =>
  console.log(`  -> round ${r.round} ${r.mode}: visible ${r.visible.toFixed(2)} s, first verified piece ${r.firstStored?.toFixed(2) ?? 'n/a'} s, ` +
    `sharer imported ${r.imported?.toFixed(1) ?? 'n/a'} s, friend has it ${r.done.toFixed(1)} s after the drop (click -> done ${r.clickToDone.toFixed(1)} s), ` +
    `sha256 ${r.sha256Matches ? 'ok' : 'MISMATCH'}, ${r.cpuMsPerMiB} ms CPU/MiB; other people's processes used ${r.cpu.otherSeconds} CPU s meanwhile`);

export async function firstbytePhase(cleanup: Cleanup, root: string, base: string, mib: number, rounds: number): Promise<FirstByteResults> {
  const sharer = await persistentPeer(root, 'fb-sharer', cleanup);
  const friend = await persistentPeer(root, 'fb-friend', cleanup);
  try {
    await joinRoom(friend.page, await startRoom(sharer.page, base));
    await linked([sharer, friend]);
    const runs: FirstByteRun[] = [];
    for (let round = 1; round <= rounds; round++) {
      const modes: FirstByteMode[] = round % 2 === 1 ? ['stream', 'after-import'] : ['after-import', 'stream'];
      for (const mode of modes) {
        // Fresh bytes each time: neither side may already hold them.
        const path = join(root, `firstbyte-${round}-${mode}.bin`);
        const sha256 = writeRandomFile(path, mib);
        await sleep(2_000);
        runs.push(await dropToFriend(sharer, friend, { path, sha256, mib }, mode, round));
        say(runs.at(-1)!);
        rmSync(path);
      }
    }
    return { mib, runs };
  } finally {
    await Promise.all([sharer.context.close(), friend.context.close()]);
  }
}
