import { createStore, delMany, entries, get, getMany, promisifyRequest, set, setMany, type UseStore } from 'idb-keyval';
import { assembleInSteps, steps } from './piece-steps.ts';
import { StorageError, type FileRecord, type PieceData, type PieceEntry, type Store } from './store.ts';

/**
 * IndexedDB through idb-keyval. One database per store (idb-keyval's
 * createStore opens a database holding a single object store):
 *   meshdrop-pieces : [fileId, index] -> Blob     verified piece bytes
 *   meshdrop-files  : fileId -> FileRecord without its hashes: bitfield, flags, rooms
 *                     [fileId, 'hashes'] -> Uint8Array, the piece hashes
 *   meshdrop-prefs  : key -> string (getPref), or any structured-cloneable value (getValue)
 * Pieces are stored as Blobs so Chrome keeps them as files on disk, and a saved
 * file can be a Blob of Blobs that never sits in the JS heap at once.
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

  return {
    prepare: asBlob,
    putPieces: (fileId, entries: readonly PieceEntry[]) => guard(setMany(entries.map((e) => [[fileId, e.index], asBlob(e.data)]), pieces)),
    async getPiece(fileId, index) {
      const blob = await guard(get<Blob>([fileId, index], pieces));
      if (!(blob instanceof Blob)) return undefined;
      try {
        return new Uint8Array(await blob.arrayBuffer());
      } catch (e) {
        // Chrome can lose the file behind a stored Blob (cleared site data, disk errors).
        throw new StorageError('ERR_MISSING_PIECE', `piece ${index} is unreadable: ${(e as Error).message}`);
      }
    },
    async presentPieces(fileId, pieceCount) {
      // Keys only, a step at a time (piece-steps.ts): a handle costs more to fetch than its key.
      const present = new Array<boolean>(pieceCount).fill(false);
      for (const [from, to] of steps(pieceCount)) {
        const keys = await guard(pieces('readonly', (s) => promisifyRequest(s.getAllKeys(pieceRange(fileId, from, to)))));
        for (const key of keys) present[indexOf(key)] = true;
      }
      return present;
    },
    assemble: (fileId, pieceCount, mime) => assembleInSteps((from, to) => guard(readRange(pieces, fileId, from, to)), pieceCount, mime),
    deletePieces: (storeKey, pieceCount) => guard(delMany(Array.from({ length: pieceCount }, (_, i) => [storeKey, i]), pieces)),
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

const asBlob = (data: PieceData): Blob => (data instanceof Blob ? data : new Blob([data as Uint8Array<ArrayBuffer>]));

/** Pieces [from, to) of a file: array keys sort by their index within one file id. */
const pieceRange = (fileId: string, from: number, to: number) => IDBKeyRange.bound([fileId, from], [fileId, to - 1]);
const indexOf = (key: IDBValidKey) => (key as [string, number])[1];

/**
 * Pieces [from, to) in one transaction, two requests (keys, then Blob handles,
 * both in key order): one entry per index, undefined where none is stored.
 */
function readRange(pieces: UseStore, fileId: string, from: number, to: number): Promise<unknown[]> {
  return pieces('readonly', async (s) => {
    const range = pieceRange(fileId, from, to);
    const [keys, blobs] = await Promise.all([promisifyRequest(s.getAllKeys(range)), promisifyRequest(s.getAll(range))]);
    const out = new Array<unknown>(to - from);
    keys.forEach((key, i) => (out[indexOf(key) - from] = blobs[i]));
    return out;
  });
}

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
