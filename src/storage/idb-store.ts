import { createStore, delMany, entries, get, getMany, promisifyRequest, set, setMany, type UseStore } from 'idb-keyval';
import { assembleInSteps, steps } from './piece-steps.ts';
import { readRecord, readSpans, writeRuns, type RunTable } from './run-table.ts';
import { markPresent, runValue, spanOf, type RunValue } from './runs.ts';
import { ServedRecords } from './served-records.ts';
import { StorageError, type FileRecord, type PieceEntry, type Store } from './store.ts';

/**
 * IndexedDB through idb-keyval. One database per store (idb-keyval's
 * createStore opens a database holding a single object store):
 *   meshdrop-pieces : [fileId, first, count] -> { blob, step }   verified bytes of a run of
 *                     pieces, one record per run (runs.ts); [fileId, index] -> Blob from before runs
 *   meshdrop-files  : fileId -> FileRecord without its hashes: bitfield, flags, rooms
 *                     [fileId, 'hashes'] -> Uint8Array, the piece hashes
 *   meshdrop-prefs  : key -> string (getPref), or any structured-cloneable value (getValue)
 * Runs are stored as Blobs so Chrome keeps them as files on disk, and a saved
 * file can be a Blob of Blobs that never sits in the JS heap at once. A run's
 * Blob is made of its pieces' bytes when it is written: a Blob per piece as
 * it arrived, then a Blob of those, cost the browser process as much as a
 * record per piece (BENCHMARKS.md, "records").
 *
 * A record is rewritten every time pieces land (its bitfield), and its hashes
 * (32 bytes a piece: 128 KiB for 1 GiB) never change, so they are written once,
 * in the same transaction as the file's first record. Records from before
 * that split hold their hashes inline: they are read as they are, and split
 * on their next write. A record whose hashes are lost comes back with none,
 * so the library's id check drops it like any damaged record.
 */
export function createIdbStore(prefix = 'meshdrop'): Store {
  const pieces: UseStore = createStore(`${prefix}-pieces`, 'pieces');
  const files: UseStore = createStore(`${prefix}-files`, 'files');
  const prefs: UseStore = createStore(`${prefix}-prefs`, 'prefs');
  /**
   * How many hash bytes this page wrote or read under each file's own key:
   * record writes leave them out while that is still all of them (a file's
   * hashes never change; a manifest still being built only grows).
   */
  const hashesStored = new Map<string, number>();
  const withHashes = (r: StoredRecord | undefined, hashes: unknown): FileRecord | undefined => {
    if (!r) return undefined;
    if (r.hashes instanceof Uint8Array) return r as FileRecord; // an older record, hashes inline
    if (!(hashes instanceof Uint8Array)) return { ...r, hashes: new Uint8Array(0) };
    hashesStored.set(r.meta.id, hashes.length);
    return { ...r, hashes };
  };
  /** The records served last (served-records.ts): a run's next pieces come from its bytes, read once. */
  const served = new ServedRecords();

  return {
    prepare: (data) => data, // a run's pieces become one Blob when it is written (runs.ts runValue)
    putPieces: (fileId, entries: readonly PieceEntry[]) => {
      served.forget(fileId);
      return guard(putRuns(pieces, fileId, entries));
    },
    async getPiece(fileId, index) {
      try {
        return await served.piece(fileId, index, () => guard(pieces('readonly', (s) => readRecord(table(s), fileId, index))));
      } catch (e) {
        if (e instanceof StorageError) throw e;
        // Chrome can lose the file behind a stored Blob (cleared site data, disk errors).
        served.forget(fileId);
        throw new StorageError('ERR_MISSING_PIECE', `piece ${index} is unreadable: ${(e as Error).message}`);
      }
    },
    async presentPieces(fileId, pieceCount) {
      // Keys only, a step at a time (piece-steps.ts): a handle costs more to fetch than its key.
      const present = new Array<boolean>(pieceCount).fill(false);
      for (const [from, to] of steps(pieceCount)) {
        // A run starting in an earlier step was marked there.
        markPresent(await guard(pieces('readonly', (s) => promisifyRequest(s.getAllKeys(pieceRange(fileId, from, to))))), present);
      }
      return present;
    },
    assemble: (fileId, pieceCount, mime) => assembleInSteps((from, to) => guard(readRange(pieces, fileId, from, to)), pieceCount, mime),
    deletePieces: (storeKey) => {
      served.forget(storeKey);
      return guard(pieces('readwrite', (s) => {
        s.delete(IDBKeyRange.bound([storeKey], [storeKey, []])); // every record of the file, runs and single pieces
        return promisifyRequest(s.transaction);
      }));
    },
    deleteRecord: async (fileId) => {
      hashesStored.delete(fileId);
      await guard(delMany([fileId, hashesKey(fileId)], files));
    },
    async putFile(record: FileRecord) {
      const { hashes, ...rest } = record;
      const id = record.meta.id;
      if (hashesStored.get(id) === hashes.length) return guard(set(id, rest, files));
      await guard(setMany([[id, rest], [hashesKey(id), hashes]], files));
      hashesStored.set(id, hashes.length);
    },
    async getFile(fileId) {
      const [record, hashes] = await guard(getMany<unknown>([fileId, hashesKey(fileId)], files));
      return withHashes(record as StoredRecord | undefined, hashes);
    },
    async listFiles() {
      const all = await guard(entries<IDBValidKey, unknown>(files));
      const hashes = new Map(all.filter(([k]) => Array.isArray(k)).map(([k, v]) => [(k as string[])[0], v]));
      return all.filter(([k]) => typeof k === 'string').map(([k, v]) => withHashes(v as StoredRecord, hashes.get(k as string))!);
    },
    getPref: (key) => guard(get<string>(key, prefs)),
    setPref: (key, value) => guard(setNow(key, value, prefs)),
    getValue: (key) => guard(get<unknown>(key, prefs)),
    setValue: (key, value) => guard(setNow(key, value, prefs)),
    updateValue: (key, next) => guard(updateNow(key, next, prefs)),
  };
}

/**
 * A pref written and committed at once. A transaction left to commit by
 * itself waits for its put's round trip first, and a reload in that window
 * aborts it: a mark set just before a reload was lost that way.
 */
function setNow(key: IDBValidKey, value: unknown, store: UseStore): Promise<void> {
  return store('readwrite', (s) => {
    s.put(value, key);
    s.transaction.commit?.();
    return promisifyRequest(s.transaction);
  });
}

/**
 * A read, a change and its write in one readwrite transaction (idb-keyval's
 * `update`, but an unchanged value is not rewritten), committed at once as in
 * setNow. Another tab's transaction on the same key waits for this one.
 */
function updateNow(key: IDBValidKey, next: (stored: unknown) => unknown, store: UseStore): Promise<void> {
  return store('readwrite', (s) => new Promise<void>((resolve, reject) => {
    const read = s.get(key);
    read.onsuccess = () => {
      try {
        const value = next(read.result);
        if (value !== undefined) s.put(value, key);
        s.transaction.commit?.();
        resolve(promisifyRequest(s.transaction));
      } catch (e) {
        s.transaction.abort();
        reject(e);
      }
    };
    read.onerror = () => reject(read.error);
  }));
}

/**
 * Records whose first piece is in [from, to): array keys sort by first piece
 * within one file id, [fileId, i] before [fileId, i, count].
 */
const pieceRange = (fileId: string, from: number, to: number) => IDBKeyRange.bound([fileId, from], [fileId, to - 1, Infinity]);

/** One transaction's piece table, for the run layout's reads and writes (run-table.ts). */
const table = (s: IDBObjectStore): RunTable<RunValue> => ({
  keys: (fileId, from, to) => promisifyRequest(s.getAllKeys(pieceRange(fileId, from, to))),
  entries: (fileId, from, to) => {
    const range = pieceRange(fileId, from, to);
    return Promise.all([promisifyRequest(s.getAllKeys(range)), promisifyRequest(s.getAll(range))]);
  },
  get: (key) => promisifyRequest(s.get(key)),
  put: (key, value) => void s.put(value, key),
  delete: (key) => void s.delete(key),
});

function putRuns(pieces: UseStore, fileId: string, entries: readonly PieceEntry[]): Promise<void> {
  return pieces('readwrite', async (s) => {
    await writeRuns(table(s), fileId, entries, runValue);
    return promisifyRequest(s.transaction);
  });
}

/** Pieces [from, to) in one transaction: a Blob per record holding them, or the first piece none holds. */
const readRange = (pieces: UseStore, fileId: string, from: number, to: number) =>
  pieces('readonly', (s) => readSpans(table(s), fileId, from, to, spanOf));

type StoredRecord = Omit<FileRecord, 'hashes'> & { hashes?: Uint8Array };
const hashesKey = (fileId: string): IDBValidKey => [fileId, 'hashes'];

/** Turns IndexedDB failures into StorageErrors with a code the UI can explain. */
async function guard<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    const name = (e as DOMException)?.name;
    if (name === 'QuotaExceededError') throw new StorageError('ERR_QUOTA', 'the browser has no more storage space for this site');
    throw new StorageError('ERR_STORAGE', `storage failed: ${(e as Error)?.message ?? String(e)}`);
  }
}
