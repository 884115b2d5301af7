import { assembleInSteps } from './piece-steps.ts';
import { StorageError, type FileRecord, type PieceData, type Store } from './store.ts';

const byteSize = (data: PieceData) => (data instanceof Blob ? data.size : data.length);

/** The Store interface over Maps, for Node tests and simulations. Copies on the way in and out, like IndexedDB. */
export interface MemoryStore extends Store {
  pieceBytes(): number;
  dropPiece(fileId: string, index: number): void;
  corruptPiece(fileId: string, index: number): void;
  /** Test hook: every stored piece as `fileId:index`. */
  pieceKeys(): string[];
  /** Test hook: the ids of every stored file record. */
  fileIds(): string[];
}

export function createMemoryStore(opts: { quotaBytes?: number } = {}): MemoryStore {
  const pieces = new Map<string, Uint8Array>();
  const files = new Map<string, FileRecord>();
  const prefs = new Map<string, string>();
  const values = new Map<string, unknown>();
  let used = 0;
  const key = (fileId: string, index: number) => `${fileId}:${index}`;

  return {
    prepare: (data) => data, // putPieces copies it anyway
    async putPieces(fileId, entries) {
      const adding = entries.reduce((n, e) => n + byteSize(e.data), 0);
      if (opts.quotaBytes !== undefined && used + adding > opts.quotaBytes) {
        throw new StorageError('ERR_QUOTA', 'the browser has no more storage space for this site');
      }
      // Bytes are stored within the call (as before Blobs were allowed): only Blobs need a wait to be read.
      const copies = entries.some((e) => e.data instanceof Blob)
        ? await Promise.all(entries.map(async (e) => new Uint8Array(await new Blob([e.data as BlobPart]).arrayBuffer())))
        : entries.map((e) => (e.data as Uint8Array).slice());
      entries.forEach((e, i) => {
        const k = key(fileId, e.index);
        used += copies[i]!.length - (pieces.get(k)?.length ?? 0);
        pieces.set(k, copies[i]!);
      });
    },
    async getPiece(fileId, index) {
      return pieces.get(key(fileId, index))?.slice();
    },
    async presentPieces(fileId, pieceCount) {
      return Array.from({ length: pieceCount }, (_, i) => pieces.has(key(fileId, i)));
    },
    // In steps like the browser's store, so its tests cover the steps too.
    assemble: (fileId, pieceCount, mime) =>
      assembleInSteps(async (from, to) => Array.from({ length: to - from }, (_, i) => {
        const p = pieces.get(key(fileId, from + i));
        return p && new Blob([p as Uint8Array<ArrayBuffer>]);
      }), pieceCount, mime),
    async deletePieces(storeKey, pieceCount) {
      for (let i = 0; i < pieceCount; i++) {
        used -= pieces.get(key(storeKey, i))?.length ?? 0;
        pieces.delete(key(storeKey, i));
      }
    },
    async deleteRecord(fileId) {
      files.delete(fileId);
    },
    async putFile(record) {
      files.set(record.meta.id, structuredClone(record));
    },
    async getFile(fileId) {
      const r = files.get(fileId);
      return r && structuredClone(r);
    },
    async listFiles() {
      return [...files.values()].map((r) => structuredClone(r));
    },
    async getPref(k) {
      return prefs.get(k);
    },
    async setPref(k, v) {
      prefs.set(k, v);
    },
    async getValue(k) {
      return values.has(k) ? structuredClone(values.get(k)) : undefined;
    },
    async setValue(k, v) {
      values.set(k, structuredClone(v)); // throws DataCloneError for what IndexedDB would refuse too
    },
    pieceBytes: () => used,
    /** Test hook: lose a piece as a browser can lose a blob file. */
    dropPiece: (fileId: string, index: number) => {
      used -= pieces.get(key(fileId, index))?.length ?? 0;
      pieces.delete(key(fileId, index));
    },
    /** Test hook: silently corrupt a stored piece. */
    corruptPiece: (fileId: string, index: number) => {
      const p = pieces.get(key(fileId, index));
      if (p) p[0] = p[0]! ^ 0xff;
    },
    pieceKeys: () => [...pieces.keys()],
    fileIds: () => [...files.keys()],
  };
}
