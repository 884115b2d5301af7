import { importPhase } from './import-phase.ts';
import { firstbytePhase } from './import-firstbyte.ts';
import type { Issue11Results } from './import-report.ts';
import { envMiB, runs, type Cleanup } from './infra.ts';

/**
 * Issue 11, goals 1 and 2: phases 'import' (import-phase.ts) and 'firstbyte'
 * (import-firstbyte.ts). Sizes and rounds:
 *   BENCH_IMPORT_MB (1024): the file of both phases
 *   BENCH_IMPORT_ROUNDS (2): rounds of raw write vs meshdrop import, each round alternating which goes first
 *   BENCH_FIRSTBYTE_ROUNDS (1): rounds of 'stream' vs 'after-import', alternating likewise
 */
export async function importBenches(cleanup: Cleanup, root: string, base: string): Promise<Issue11Results> {
  const mib = envMiB('BENCH_IMPORT_MB', 1024);
  const out: Issue11Results = {};
  if (runs('import')) {
    console.log(`(import) raw IndexedDB write vs meshdrop import, ${mib} MiB, one browser on disk...`);
    out.import = await importPhase(cleanup, root, base, mib, envMiB('BENCH_IMPORT_ROUNDS', 2));
  }
  if (runs('firstbyte')) {
    console.log(`(firstbyte) drop -> friend, ${mib} MiB, two browsers on disk...`);
    out.firstbyte = await firstbytePhase(cleanup, root, base, mib, envMiB('BENCH_FIRSTBYTE_ROUNDS', 1));
  }
  return out;
}
