import type { FileMeta } from '../core/manifest/manifest.ts';

/**
 * Where pieces and file records live. The browser uses IndexedDB
 * (idb-store.ts); Node tests use memory-store.ts. Both behave the same.
 */
export interface FileRecord {
  meta: FileMeta;
  pieceSize: number;
  pieceCount: number;
  /** pieceCount * 32 bytes of piece hashes: the verified manifest. */
  hashes: Uint8Array;
  /** Bitfield of pieces stored and verified. Written after the pieces themselves. */
  have: Uint8Array;
  /** 'shared' by this browser, or fetched from the room. */
  source: 'shared' | 'downloaded';
  addedAt: number;
  /**
   * The rooms (their relay topics) this file was shared or downloaded in: a
   * room is offered only its own files. Records from before rooms existed have
   * none, so they are offered nowhere until the person shares them again.
   */
  rooms?: string[];
  /** It has been complete once: missing pieces later are a repair, and cancelling one keeps the rest. */
  completedOnce?: boolean;
  /** The person asked to save it once complete (survives a reload mid-download). */
  saveWanted?: boolean;
  /** The person paused its download: its pieces are kept, and it does not resume by itself after a reload. */
  paused?: boolean;
  /**
   * The key its pieces are stored under, when it is not meta.id: a draft
   * keeps its pieces under its draft id once it has its final id. Records
   * are stored under meta.id.
   */
  storeKey?: string;
}

export interface PieceEntry {
  index: number;
  /** The verified bytes, or what the store's prepare() made of them when the piece arrived. */
  data: PieceData;
}

/** A piece's bytes, or a Blob of them (the form IndexedDB keeps them in: idb-store.ts). */
export type PieceData = Uint8Array | Blob;

export interface Store {
  /**
   * A verified piece in the form this store writes it, made as the piece
   * arrives (piece-writer.ts). Both stores now keep the bytes as they are:
   * the browser's makes one Blob per run of pieces when it writes them
   * (runs.ts), which cost its browser process less than a Blob per piece at
   * arrival (BENCHMARKS.md, "records"). Making a batch's 32 piece Blobs in one
   * task had taken up to 94 ms of CPU throttled 4x; one Blob of a run's bytes
   * is one copy.
   */
  prepare(data: Uint8Array): PieceData;
  putPieces(fileId: string, pieces: readonly PieceEntry[]): Promise<void>;
  /** One stored piece, or undefined when it is missing (never an exception for "not there"). */
  getPiece(fileId: string, index: number): Promise<Uint8Array | undefined>;
  /** Which of a file's pieces are present (not their contents): a cheap check at startup. */
  presentPieces(fileId: string, pieceCount: number): Promise<boolean[]>;
  /** The whole file as a Blob made of the stored pieces, without one giant buffer. */
  assemble(fileId: string, pieceCount: number, mime: string): Promise<Blob>;
  /** A file's pieces, by the key they are stored under (its storage key: a shared file keeps its draft id's). */
  deletePieces(storeKey: string, pieceCount: number): Promise<void>;
  /** A file's record (by its file id), hashes and all; its pieces are deletePieces' to delete. */
  deleteRecord(fileId: string): Promise<void>;
  putFile(record: FileRecord): Promise<void>;
  getFile(fileId: string): Promise<FileRecord | undefined>;
  listFiles(): Promise<FileRecord[]>;
  getPref(key: string): Promise<string | undefined>;
  setPref(key: string, value: string): Promise<void>;
  /** Any structured-cloneable value (e.g. a non-extractable CryptoKey pair), kept with the prefs. */
  getValue(key: string): Promise<unknown>;
  setValue(key: string, value: unknown): Promise<void>;
  /**
   * Reads and writes a value in one transaction, so two tabs updating it at
   * once cannot lose each other's change: `next` is given what is stored and
   * returns what to store, or undefined to leave it as it is. It runs inside
   * the transaction, so it must not await.
   */
  updateValue(key: string, next: (stored: unknown) => unknown): Promise<void>;
}

export class StorageError extends Error {
  constructor(readonly code: 'ERR_QUOTA' | 'ERR_STORAGE' | 'ERR_MISSING_PIECE', message: string) {
    super(message);
  }
}
