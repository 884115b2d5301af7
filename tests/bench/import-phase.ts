import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { persistentPeer, startRoom, type Peer } from './app.ts';
import { addRawInput, rawHash, rawWrite } from './import-raw.ts';
import { importRatios, type ImportResults, type ImportRun } from './import-report.ts';
import { moments, waitForMoment, watchFile } from './import-watch.ts';
import { sleep, writeRandomFile, type Cleanup } from './infra.ts';
import { watchCpu } from './procs.ts';
import { cpuMsPerMiB } from './report.ts';

/**
 * Phase 'import' (issue 11, goal 2): in one browser with an on-disk profile,
 * the raw IndexedDB write of a file (import-raw.ts) against meshdrop's import
 * of the same bytes through its share input, with hashing them alone in
 * between (what an import adds to the write), alternating the order each round, so the machine's ups and downs (other people's runs) hit both.
 * Every round has fresh random bytes: meshdrop must never have held them
 * (an import of held bytes skips storing).
 */
export const importTimeoutMs = (mib: number) => Math.max(180_000, mib * 1_500);

/** The moment the app's import ended, with its times after the drop (the page's own clock). */
async function appImport(peer: Peer, path: string, mib: number): Promise<Omit<ImportRun, 'kind' | 'round' | 'cpu' | 'cpuMsPerMiB' | 'mibPerSec'>> {
  const name = basename(path);
  await watchFile(peer.page, name, 'sharer');
  const t0 = Date.now();
  await peer.page.locator('#file-input').setInputFiles(path);
  await waitForMoment(peer.page, name, 'importedAt', importTimeoutMs(mib));
  const m = await moments(peer.page, name, true);
  const dropped = m.droppedAt ?? t0;
  const after = (t: number | undefined) => (t === undefined ? undefined : (t - dropped) / 1000);
  return { seconds: after(m.importedAt)!, hashedSeconds: after(m.hashedAt), storedSeconds: after(m.storedAt) };
}

async function oneRun(peer: Peer, kind: ImportRun['kind'], round: number, path: string, mib: number): Promise<ImportRun> {
  const cpu = watchCpu([peer.label]);
  const timed = kind === 'raw' ? await rawWrite(peer.page, path, `bench-raw-${round}`)
    : kind === 'hash' ? await rawHash(peer.page, path)
    : await appImport(peer, path, mib);
  const spent = cpu();
  const run = { ...timed, kind, round, mibPerSec: mib / timed.seconds, cpu: spent, cpuMsPerMiB: cpuMsPerMiB(spent, mib) };
  console.log(`  -> round ${round} ${kind}: ${run.seconds.toFixed(1)} s = ${run.mibPerSec.toFixed(1)} MiB/s, ` +
    `${run.cpuMsPerMiB} ms CPU/MiB; other people's processes used ${spent.otherSeconds} CPU s meanwhile`);
  return run;
}

export async function importPhase(cleanup: Cleanup, root: string, base: string, mib: number, rounds: number): Promise<ImportResults> {
  const peer = await persistentPeer(root, 'import', cleanup);
  try {
    await startRoom(peer.page, base);
    await addRawInput(peer.page);
    const runs: ImportRun[] = [];
    for (let round = 1; round <= rounds; round++) {
      const path = join(root, `import-${round}.bin`);
      writeRandomFile(path, mib);
      const order: ImportRun['kind'][] = round % 2 === 1 ? ['raw', 'hash', 'meshdrop'] : ['meshdrop', 'hash', 'raw'];
      for (const kind of order) {
        await sleep(2_000); // the previous write's tail (IndexedDB flushing, the app's announcement) out of the way
        runs.push(await oneRun(peer, kind, round, path, mib));
      }
      rmSync(path);
    }
    return { mib, runs, ...importRatios(runs) };
  } finally {
    await peer.context.close();
  }
}
