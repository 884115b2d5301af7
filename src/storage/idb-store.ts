import { createStore, del, delMany, get, getMany, set, setMany, values, type UseStore } from 'idb-keyval';
import { StorageError, type FileRecord, type PieceEntry, type Store } from './store.ts';

/**
 * IndexedDB through idb-keyval. One database per store (idb-keyval's
 * createStore opens a database holding a single object store):
 *   meshdrop-pieces : [fileId, index] -> Blob     verified piece bytes
 *   meshdrop-files  : fileId -> FileRecord        manifest + bitfield
 *   meshdrop-prefs  : key -> string (getPref), or any structured-cloneable value (getValue)
 * Pieces are stored as Blobs so Chrome keeps them as files on disk, and a saved
 * file can be a Blob of Blobs that never sits in the JS heap at once.
 */
export function createIdbStore(prefix = 'meshdrop'): Store {
  const pieces: UseStore = createStore(`${prefix}-pieces`, 'pieces');
  const files: UseStore = createStore(`${prefix}-files`, 'files');
  const prefs: UseStore = createStore(`${prefix}-prefs`, 'prefs');

  return {
    putPieces: (fileId, entries: readonly PieceEntry[]) =>
      guard(setMany(entries.map((e) => [[fileId, e.index], new Blob([e.data as Uint8Array<ArrayBuffer>])]), pieces)),
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
      // Blob handles are cheap to fetch: their bytes stay on disk until read.
      const blobs = await guard(getMany<unknown>(Array.from({ length: pieceCount }, (_, i) => [fileId, i]), pieces));
      return blobs.map((b) => b instanceof Blob);
    },
    async assemble(fileId, pieceCount, mime) {
      const keys = Array.from({ length: pieceCount }, (_, i) => [fileId, i]);
      const blobs = await guard(getMany<Blob | undefined>(keys, pieces));
      const missing = blobs.findIndex((b) => !(b instanceof Blob));
      if (missing >= 0) throw new StorageError('ERR_MISSING_PIECE', `piece ${missing} is missing from storage`);
      return new Blob(blobs as Blob[], { type: mime });
    },
    deleteFile: async (fileId, pieceCount) => {
      await guard(delMany(Array.from({ length: pieceCount }, (_, i) => [fileId, i]), pieces));
      await guard(del(fileId, files));
    },
    putFile: (record: FileRecord) => guard(set(record.meta.id, record, files)),
    getFile: (fileId) => guard(get<FileRecord>(fileId, files)),
    listFiles: () => guard(values<FileRecord>(files)),
    getPref: (key) => guard(get<string>(key, prefs)),
    setPref: (key, value) => guard(set(key, value, prefs)),
    getValue: (key) => guard(get<unknown>(key, prefs)),
    setValue: (key, value) => guard(set(key, value, prefs)),
  };
}

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
