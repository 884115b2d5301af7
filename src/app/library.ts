import { Bitfield } from '../core/bitfield.ts';
import type { Sha256 } from '../core/hash.ts';
import {
  buildManifest, checkFileSize, fileIdFromHashes, verifyPiece, type FileMeta, type Manifest,
} from '../core/manifest/manifest.ts';
import { err, ok, type Result } from '../core/result.ts';
import { PieceWriter } from '../storage/piece-writer.ts';
import { fromRecord, toRecord } from './file-record.ts';
import { hashPieces, storeAll } from './file-import.ts';
import type { FileRecord, Store } from '../storage/store.ts';

/**
 * The files this browser holds, whole or in part, backed by the Store: the one
 * owner of which pieces we have. A piece counts as held only once it is
 * durably stored; the bitfield on disk is written after the pieces it
 * describes, so a crash can lose a bit, never claim a piece that is not there.
 *
 * Every file belongs to the rooms it was shared or downloaded in, and a room
 * is offered only its own files (`room` is this page's room).
 */
export interface LocalFile {
  meta: FileMeta;
  manifest: Manifest;
  have: Bitfield;
  source: FileRecord['source'];
  addedAt: number;
  rooms: string[];
  completedOnce: boolean;
  saveWanted: boolean;
  /** Paused by the person: kept, not fetched, until resumed. */
  paused: boolean;
}

export interface LibraryEvents {
  /** Storage lost a piece we held (the browser can delete blob files): we stop claiming it. */
  pieceLost(file: LocalFile, index: number, why: string): void;
  /** A file record could not be written (e.g. quota): the UI should say so. */
  persistFailed(e: Error): void;
  /** Storage failed to read a piece several times; it is still ours, only unreadable for now. */
  readFailed(file: LocalFile, index: number, why: string): void;
  /** Whether another tab of this browser has one of these rooms open (and may be serving the file). */
  openElsewhere?(rooms: string[]): Promise<boolean>;
}

/** A failing read is tried this many times before we give up on it for now (never demoting the file). */
const READ_ATTEMPTS = 3;

export class Library {
  private files = new Map<string, LocalFile>();
  /** Files whose pieces are being stored from a user's file: not ready to list or serve yet. */
  private importing = new Set<string>();
  private writer: PieceWriter;
  /** Files whose record must be rewritten, and the write running now (if any). */
  private dirty = new Set<string>();
  private persisting: Promise<void> | null = null;
  /** Removals in progress: nothing of the file is written until its deletion is done. */
  private removing = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly sha256: Sha256,
    private readonly now: () => number,
    readonly room: string,
    private readonly events: LibraryEvents,
  ) {
    this.writer = new PieceWriter(store);
  }

  /**
   * Loads the stored files, checking that every piece the bitfield claims is
   * really there (the browser may have deleted blob files; missing pieces are
   * unmarked and repaired from peers) and that each record's id is its
   * manifest's (records of an older format are dropped with their pieces).
   */
  async load(): Promise<{ files: LocalFile[]; damaged: { file: LocalFile; missing: number }[]; dropped: number }> {
    const damaged: { file: LocalFile; missing: number }[] = [];
    let dropped = 0;
    for (const r of await this.store.listFiles()) {
      if ((await fileIdFromHashes(r.meta.size, r.hashes, this.sha256)) !== r.meta.id) {
        await this.store.deleteFile(r.meta.id, r.pieceCount);
        dropped++;
        continue;
      }
      const file = fromRecord(r);
      this.files.set(r.meta.id, file);
      const missing = await this.unmarkMissing(file);
      if (missing > 0) damaged.push({ file, missing });
    }
    return { files: this.all(), damaged, dropped };
  }

  get(fileId: string): LocalFile | undefined {
    return this.files.get(fileId);
  }

  /** A file of this room (not one kept for another room, nor one being imported). */
  inRoom(fileId: string): LocalFile | undefined {
    const f = this.files.get(fileId);
    return f && f.rooms.includes(this.room) && !this.importing.has(fileId) ? f : undefined;
  }

  all(): LocalFile[] {
    return [...this.files.values()];
  }

  roomFiles(): LocalFile[] {
    return this.all().filter((f) => f.rooms.includes(this.room) && !this.importing.has(f.meta.id));
  }

  isImporting(fileId: string): boolean {
    return this.importing.has(fileId);
  }

  isComplete(fileId: string): boolean {
    return this.files.get(fileId)?.have.complete ?? false;
  }

  /**
   * Hashes a user's file into pieces, stores them, and returns it as a complete
   * local file of this room. Sharing bytes we already hold completes them,
   * brings them into this room and takes the new name.
   */
  async importFile(file: Blob, name: string, onProgress: (bytes: number) => void, path?: string): Promise<Result<LocalFile>> {
    const sized = checkFileSize(file.size);
    if (!sized.ok) return sized;
    let hashes: Uint8Array[];
    try {
      hashes = await hashPieces(file, this.sha256, (b) => onProgress(b / 2));
    } catch (e) {
      return err('ERR_READ', `could not read ${name}: ${(e as Error).message}`);
    }
    const built = await buildManifest(file.size, hashes, this.sha256);
    if (!built.ok) return built;
    const manifest = built.value;
    await this.removing.get(manifest.id);
    const placed = path === undefined ? {} : { path };
    const meta: FileMeta = { id: manifest.id, name, size: file.size, mime: file.type || 'application/octet-stream', ...placed };
    const existing = this.files.get(manifest.id);
    const local = existing ?? this.newFile(meta, manifest, 'shared');
    // Shared again: the new name and folder (or none) are the ones announced.
    local.meta = { id: local.meta.id, name, size: local.meta.size, mime: local.meta.mime, ...placed };
    if (!local.rooms.includes(this.room)) local.rooms.push(this.room);
    if (local.have.complete) {
      this.markDirty(meta.id);
      return ok(local);
    }
    this.importing.add(meta.id);
    try {
      await storeAll(local, file, (i, data) => this.storePiece(local, i, data), (b) => onProgress(file.size / 2 + b / 2));
      await this.flush();
    } catch (e) {
      this.importing.delete(meta.id);
      // A new file leaves nothing behind; bytes we held before stay as they were.
      const cleanup = existing ? '' : await this.remove(meta.id).then(() => '', (e2: Error) => ` (and cleaning up failed: ${e2.message})`);
      return err((e as { code?: string }).code ?? 'ERR_STORAGE', `could not store ${name}: ${(e as Error).message}${cleanup}`);
    }
    this.importing.delete(meta.id);
    return ok(local);
  }

  /** Starts holding a file fetched in this room (the manifest is verified); resumes one we have. */
  async addDownload(meta: FileMeta, manifest: Manifest): Promise<LocalFile> {
    await this.removing.get(meta.id);
    const existing = this.files.get(meta.id);
    if (existing) {
      if (!existing.rooms.includes(this.room)) existing.rooms.push(this.room);
      this.markDirty(meta.id);
      return existing;
    }
    return this.newFile(meta, manifest, 'downloaded');
  }

  /**
   * Stores a verified piece; resolves true once it is durable and marked held,
   * false if the file was removed meanwhile (nothing is left behind).
   */
  async storePiece(local: LocalFile, index: number, data: Uint8Array): Promise<boolean> {
    if (this.files.get(local.meta.id) !== local) return false;
    const written = await this.writer.write(local.meta.id, index, data);
    if (!written || this.files.get(local.meta.id) !== local) return false;
    local.have.set(index);
    if (local.have.complete) local.completedOnce = true;
    this.markDirty(local.meta.id);
    return true;
  }

  /**
   * A piece we hold, re-verified against its hash (storage is not trusted
   * either), or undefined. A piece storage no longer has, or has damaged, is no
   * longer claimed and the owner is told; a read that keeps failing is only
   * reported: the piece is still ours.
   */
  async readPiece(fileId: string, index: number): Promise<Uint8Array | undefined> {
    const local = this.files.get(fileId);
    if (!local?.have.get(index)) return undefined;
    let lastError = '';
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      let data: Uint8Array | undefined;
      try {
        data = await this.store.getPiece(fileId, index);
      } catch (e) {
        lastError = (e as Error).message;
        continue;
      }
      if (data && (await verifyPiece(local.manifest, index, data, this.sha256))) return data;
      if (this.files.get(fileId) === local && local.have.get(index)) this.lose(local, index, data ? 'it no longer matches its hash' : 'it is missing from storage');
      return undefined;
    }
    this.events.readFailed(local, index, lastError);
    return undefined;
  }

  setSaveWanted(fileId: string, wanted: boolean): void {
    this.setFlag(fileId, 'saveWanted', wanted);
  }

  setPaused(fileId: string, paused: boolean): void {
    this.setFlag(fileId, 'paused', paused);
  }

  private setFlag(fileId: string, flag: 'saveWanted' | 'paused', value: boolean): void {
    const f = this.files.get(fileId);
    if (!f || f[flag] === value) return;
    f[flag] = value;
    this.markDirty(fileId);
  }

  /** Offers a stored file in this room too (the person's explicit choice). */
  addToRoom(fileId: string): LocalFile | undefined {
    const f = this.files.get(fileId);
    if (!f || f.rooms.includes(this.room)) return f;
    f.rooms.push(this.room);
    this.markDirty(fileId);
    return f;
  }

  /** Stops offering the file here; it is deleted once no room has it. Returns whether it was deleted. */
  async leaveRoom(fileId: string): Promise<boolean> {
    const f = this.files.get(fileId);
    if (!f) return false;
    f.rooms = f.rooms.filter((r) => r !== this.room);
    if (f.rooms.length === 0) {
      await this.remove(fileId);
      return true;
    }
    this.markDirty(fileId);
    return false;
  }

  /**
   * Deletes the file from this browser, unless another tab has one of its other
   * rooms open: then it only leaves this room, so one tab never deletes what
   * another serves. Says which it did.
   */
  async discard(fileId: string): Promise<'deleted' | 'kept'> {
    const f = this.files.get(fileId);
    if (!f) return 'deleted';
    const others = f.rooms.filter((r) => r !== this.room);
    if (others.length > 0 && (await this.events.openElsewhere?.(others))) {
      await this.leaveRoom(fileId);
      return 'kept';
    }
    await this.remove(fileId);
    return 'deleted';
  }

  /**
   * Deletes a file and all its pieces, after the writes already queued for it
   * settle, so no piece lands after the deletion. Downloads of the same file
   * started meanwhile wait for it (addDownload, storePiece).
   */
  remove(fileId: string): Promise<void> {
    const local = this.files.get(fileId);
    if (!local) return this.removing.get(fileId) ?? Promise.resolve();
    this.files.delete(fileId);
    this.dirty.delete(fileId);
    this.writer.drop(fileId);
    const done = (async () => {
      await this.writer.idle();
      await this.flush().catch(() => undefined); // a failed record write was reported; the record is deleted next anyway
      await this.store.deleteFile(fileId, local.manifest.pieceCount);
    })().finally(() => {
      if (this.removing.get(fileId) === done) this.removing.delete(fileId);
    });
    this.removing.set(fileId, done);
    return done;
  }

  assemble(fileId: string): Promise<Blob> {
    const local = this.files.get(fileId);
    if (!local?.have.complete) return Promise.reject(new Error('the file is not complete'));
    return this.store.assemble(fileId, local.manifest.pieceCount, local.meta.mime);
  }

  /** Resolves when every pending record write has reached storage; rejects if one failed. */
  async flush(): Promise<void> {
    while (this.persisting) await this.persisting;
  }

  private newFile(meta: FileMeta, manifest: Manifest, source: LocalFile['source']): LocalFile {
    const local: LocalFile = {
      meta, manifest, have: new Bitfield(manifest.pieceCount), source, addedAt: this.now(),
      rooms: [this.room], completedOnce: false, saveWanted: false, paused: false,
    };
    this.files.set(meta.id, local);
    this.markDirty(meta.id);
    return local;
  }

  private lose(local: LocalFile, index: number, why: string): void {
    local.have.clear(index);
    this.markDirty(local.meta.id);
    this.events.pieceLost(local, index, why);
  }

  private async unmarkMissing(file: LocalFile): Promise<number> {
    const present = await this.store.presentPieces(file.meta.id, file.manifest.pieceCount);
    let missing = 0;
    present.forEach((there, i) => {
      if (there || !file.have.get(i)) return;
      file.have.clear(i);
      missing++;
    });
    if (missing > 0) this.markDirty(file.meta.id);
    return missing;
  }

  private markDirty(fileId: string): void {
    this.dirty.add(fileId);
    if (this.persisting) return;
    this.persisting = this.persist();
    // Failures surface through flush() and the next piece write; keep the rejection observed here.
    this.persisting.catch((e: Error) => this.events.persistFailed(e));
  }

  /**
   * Coalesces record writes: while one runs, further changes wait for the next
   * round. `persisting` is cleared in the same step as the last check of
   * `dirty`, so a change can never slip between them unwritten.
   */
  private async persist(): Promise<void> {
    await null; // let markDirty store this promise before the finally below may clear it
    try {
      while (this.dirty.size > 0) {
        const ids = [...this.dirty];
        this.dirty.clear();
        for (const id of ids) {
          const f = this.files.get(id);
          if (f) await this.store.putFile(toRecord(f));
        }
      }
    } finally {
      this.persisting = null;
    }
  }
}
