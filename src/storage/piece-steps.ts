import { StorageError } from './store.ts';

/**
 * How many pieces one step of a whole-file read covers, and how many parts
 * one Blob is made of. Reading every piece handle of a file in one go and
 * making one Blob of them all was the longest main-thread task of a download
 * on a CPU throttled 4x (the bench's phone phase, 256 MiB = 1,024 pieces:
 * 2.1 s of the thread's CPU to fetch the handles, 0.23 s for the Blob). A
 * step is one IndexedDB transaction, so the page's other tasks run between
 * steps. A Blob costs the page per part (a Blob of 128 piece Blobs took
 * ~46 ms of CPU throttled 4x), so no Blob here has more than a step's parts
 * but the file's own, which has at most that many per level of merging.
 */
export const PIECE_STEP = 64;

/**
 * Reads pieces [from, to) as Blobs in order, each of one or more whole pieces
 * (a run record's), or names the first piece that is not stored. Stores give
 * it range reads, so a step is a request or two, and a handful of parts.
 */
export type ReadParts = (from: number, to: number) => Promise<{ parts: readonly Blob[] } | { missing: number }>;

/** Each step's [from, to) over pieces [0, pieceCount). */
export function* steps(pieceCount: number, step = PIECE_STEP): Generator<[number, number]> {
  for (let from = 0; from < pieceCount; from += step) yield [from, Math.min(pieceCount, from + step)];
}

/**
 * The whole file as a Blob of Blobs, a step at a time: each step's parts
 * become one Blob, and every `step` of those are merged into one as soon as
 * they exist (in the task of the step that completes them, like a binary
 * counter carrying), so the file's own Blob is made of few parts whatever its
 * size. A piece that is not stored stops it with ERR_MISSING_PIECE naming the
 * first such index.
 */
export async function assembleInSteps(read: ReadParts, pieceCount: number, mime: string, step = PIECE_STEP): Promise<Blob> {
  /** levels[k]: Blobs of step^k steps each, fewer than `step` of them, in file order. */
  const levels: Blob[][] = [];
  const add = (blob: Blob, level: number): void => {
    const pending = (levels[level] ??= []);
    pending.push(blob);
    if (pending.length < Math.max(2, step)) return; // a merge of one Blob would never end
    levels[level] = [];
    add(new Blob(pending), level + 1);
  };
  for (const [from, to] of steps(pieceCount, step)) {
    const got = await read(from, to);
    if ('missing' in got) throw new StorageError('ERR_MISSING_PIECE', `piece ${got.missing} is missing from storage`);
    add(new Blob(got.parts as Blob[]), 0);
  }
  // A higher level holds earlier pieces than any lower one still pending.
  return new Blob([...levels].reverse().flat(), { type: mime });
}
