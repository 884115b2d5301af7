import type { Sha256 } from '../core/hash.ts';
import { fileIdFromHashes } from '../core/manifest/manifest.ts';
import type { Store } from '../storage/store.ts';
import { fromRecord } from './file-record.ts';
import type { LocalFile } from './library.ts';

export interface StoredFiles {
  /** Files whose record checks out, their bitfields cleared of pieces storage no longer has. */
  files: LocalFile[];
  /** Of those, the ones that lost pieces, and how many (their records must be written again). */
  damaged: { file: LocalFile; missing: number }[];
  /** Records of an older format, dropped with their pieces. */
  dropped: number;
  /** Drafts, which cannot resume, dropped with what had arrived. */
  drafts: number;
}

/**
 * What storage holds, checked at startup: each record's id must be its
 * manifest's (records of an older format are dropped with their pieces), and
 * every piece the bitfield claims must really be there (the browser may have
 * deleted blob files; missing pieces are unmarked, to be repaired from peers).
 * `found` takes each file that checks out as soon as it is read, as before its pieces are checked.
 */
export async function readStoredFiles(store: Store, sha256: Sha256, found: (file: LocalFile) => void): Promise<StoredFiles> {
  const damaged: { file: LocalFile; missing: number }[] = [];
  const files: LocalFile[] = [];
  let dropped = 0;
  let drafts = 0;
  const records = await store.listFiles();
  const valid = await Promise.all(records.map(async (r) => r.meta.draft === undefined && (await fileIdFromHashes(r.meta.size, r.hashes, sha256)) === r.meta.id));
  // A draft finalised just before a crash: its stale record shares the pieces of the final one, which stay.
  const kept = new Set(records.filter((_, i) => valid[i]).map((r) => r.storeKey ?? r.meta.id));
  for (const [i, r] of records.entries()) {
    if (!valid[i]) {
      // Drafts cannot resume (their origin's page and hashes are gone); other misfits are an older format.
      if (r.meta.draft !== undefined) drafts++;
      else dropped++;
      const key = r.storeKey ?? r.meta.id;
      if (!kept.has(key)) await store.deletePieces(key, r.pieceCount);
      await store.deleteRecord(r.meta.id);
      continue;
    }
    const file = fromRecord(r);
    files.push(file);
    found(file);
    const missing = await unmarkMissing(store, file);
    if (missing > 0) damaged.push({ file, missing });
  }
  return { files, damaged, dropped, drafts };
}

/** Clears the bits of pieces storage does not have; how many it cleared. */
async function unmarkMissing(store: Store, file: LocalFile): Promise<number> {
  const present = await store.presentPieces(file.storeKey, file.manifest.pieceCount);
  let missing = 0;
  present.forEach((there, i) => {
    if (there || !file.have.get(i)) return;
    file.have.clear(i);
    missing++;
  });
  return missing;
}
