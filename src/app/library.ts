import { Bitfield } from '../core/bitfield.ts';
import type { Sha256 } from '../core/hash.ts';
import {
  buildManifest, checkFileSize, pieceCountFor, pieceRange, pieceSizeFor, verifyPiece, type FileMeta, type Manifest,
} from '../core/manifest/manifest.ts';
import { err, ok, type Result } from '../core/result.ts';
import { PieceWriter } from '../storage/piece-writer.ts';
import type { FileRecord, Store } from '../storage/store.ts';

/**
 * The files this browser holds, whole or in part, backed by the Store. A
 * piece counts as held only once it is durably stored; the bitfield on disk is
 * written after the pieces it describes, so a crash can lose a bit, never
 * claim a piece that is not there.
 */
export interface LocalFile {
  meta: FileMeta;
  manifest: Manifest;
  have: Bitfield;
  source: FileRecord['source'];
  addedAt: number;
}

/** Pieces read ahead while importing: enough to keep storage busy, little memory. */
const IMPORT_WINDOW = 8;

export class Library {
  private files = new Map<string, LocalFile>();
  /** Files whose pieces are being stored from a user's file: not ready to list or serve yet. */
  private importing = new Set<string>();
  private writer: PieceWriter;
  /** Files whose record must be rewritten, and the write running now (if any). */
  private dirty = new Set<string>();
  private persisting: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly sha256: Sha256,
    private readonly now: () => number,
    /** Storage lost a piece we held (the browser can delete blob files): we stop claiming it. */
    private readonly onPieceLost: (file: LocalFile, index: number, why: string) => void,
    /** A file record could not be written (e.g. quota): the UI should say so. */
    private readonly onPersistError: (e: Error) => void,
  ) {
    this.writer = new PieceWriter(store);
  }

  /**
   * Loads the stored files, checking that every piece the bitfield claims is
   * really there: the browser may have deleted blob files. Missing pieces are
   * unmarked, so the file is repaired from peers rather than trusted.
   */
  async load(): Promise<{ files: LocalFile[]; damaged: { file: LocalFile; missing: number }[] }> {
    const damaged: { file: LocalFile; missing: number }[] = [];
    for (const r of await this.store.listFiles()) {
      const manifest = { id: r.meta.id, size: r.meta.size, pieceSize: r.pieceSize, pieceCount: r.pieceCount, hashes: r.hashes };
      const file: LocalFile = { meta: r.meta, manifest, have: new Bitfield(r.pieceCount, r.have), source: r.source, addedAt: r.addedAt };
      this.files.set(r.meta.id, file);
      const present = await this.store.presentPieces(r.meta.id, r.pieceCount);
      let missing = 0;
      present.forEach((there, i) => {
        if (there || !file.have.get(i)) return;
        file.have.clear(i);
        missing++;
      });
      if (missing > 0) {
        damaged.push({ file, missing });
        this.markDirty(r.meta.id);
      }
    }
    return { files: this.all(), damaged };
  }

  get(fileId: string): LocalFile | undefined {
    return this.files.get(fileId);
  }

  all(): LocalFile[] {
    return [...this.files.values()];
  }

  isImporting(fileId: string): boolean {
    return this.importing.has(fileId);
  }

  isComplete(fileId: string): boolean {
    return this.files.get(fileId)?.have.complete ?? false;
  }

  /** Hashes a user's file into pieces, stores them, and returns it as a complete local file. */
  async importFile(file: Blob, name: string, onProgress: (bytes: number) => void): Promise<Result<LocalFile>> {
    const sized = checkFileSize(file.size);
    if (!sized.ok) return sized;
    let hashes: Uint8Array[];
    try {
      hashes = await this.hashPieces(file, (b) => onProgress(b / 2));
    } catch (e) {
      return err('ERR_READ', `could not read ${name}: ${(e as Error).message}`);
    }
    const built = await buildManifest(file.size, hashes, this.sha256);
    if (!built.ok) return built;
    const manifest = built.value;
    const existing = this.files.get(manifest.id);
    if (existing?.have.complete) return ok(existing);
    const meta: FileMeta = { id: manifest.id, name, size: file.size, mime: file.type || 'application/octet-stream' };
    const local: LocalFile = { meta, manifest, have: new Bitfield(manifest.pieceCount), source: 'shared', addedAt: this.now() };
    this.files.set(meta.id, local);
    this.importing.add(meta.id);
    // Second pass: the id is known only once every piece is hashed, and pieces are stored under it.
    try {
      await this.storeAll(local, file, (b) => onProgress(file.size / 2 + b / 2));
    } catch (e) {
      this.importing.delete(meta.id);
      const cleanup = await this.remove(meta.id).then(
        () => '',
        (e2: Error) => ` (and cleaning up failed: ${e2.message})`,
      );
      return err((e as { code?: string }).code ?? 'ERR_STORAGE', `could not store ${name}: ${(e as Error).message}${cleanup}`);
    }
    this.importing.delete(meta.id);
    return ok(local);
  }

  /** Starts holding a file fetched from the room: the manifest is verified, no pieces yet. */
  addDownload(meta: FileMeta, manifest: Manifest): LocalFile {
    const existing = this.files.get(meta.id);
    if (existing) return existing;
    const local: LocalFile = { meta, manifest, have: new Bitfield(manifest.pieceCount), source: 'downloaded', addedAt: this.now() };
    this.files.set(meta.id, local);
    this.markDirty(meta.id);
    return local;
  }

  /** Stores a verified piece; resolves once it is durable and marked held. */
  async storePiece(fileId: string, index: number, data: Uint8Array): Promise<void> {
    await this.writer.write(fileId, index, data);
    const local = this.files.get(fileId);
    if (!local) return;
    local.have.set(index);
    this.markDirty(fileId);
  }

  /**
   * A piece we hold, re-verified against its hash (storage is not trusted
   * either), or undefined if we do not hold it. A piece that storage lost or
   * damaged is no longer claimed, and the owner is told.
   */
  async readPiece(fileId: string, index: number): Promise<Uint8Array | undefined> {
    const local = this.files.get(fileId);
    if (!local?.have.get(index)) return undefined;
    let data: Uint8Array | undefined;
    let why = 'it is missing from storage';
    try {
      data = await this.store.getPiece(fileId, index);
      if (data && !(await verifyPiece(local.manifest, index, data, this.sha256))) {
        data = undefined;
        why = 'it no longer matches its hash';
      }
    } catch (e) {
      why = (e as Error).message;
    }
    if (!data) {
      local.have.clear(index);
      this.markDirty(fileId);
      this.onPieceLost(local, index, why);
    }
    return data;
  }

  async remove(fileId: string): Promise<void> {
    const local = this.files.get(fileId);
    if (!local) return;
    this.files.delete(fileId);
    this.dirty.delete(fileId);
    await this.store.deleteFile(fileId, local.manifest.pieceCount);
  }

  assemble(fileId: string): Promise<Blob> {
    const local = this.files.get(fileId);
    if (!local?.have.complete) return Promise.reject(new Error('the file is not complete'));
    return this.store.assemble(fileId, local.manifest.pieceCount, local.meta.mime);
  }

  /** Resolves when every pending record write has reached storage; rejects if one failed. */
  flush(): Promise<void> {
    return this.persisting ?? Promise.resolve();
  }

  private markDirty(fileId: string): void {
    this.dirty.add(fileId);
    this.persisting ??= this.persist().finally(() => {
      this.persisting = null;
    });
    // Failures surface through flush() and the next piece write; keep the rejection observed here.
    this.persisting.catch((e: Error) => this.onPersistError(e));
  }

  /** Coalesces record writes: while one runs, further changes wait for the next round. */
  private async persist(): Promise<void> {
    while (this.dirty.size > 0) {
      const ids = [...this.dirty];
      this.dirty.clear();
      for (const id of ids) {
        const f = this.files.get(id);
        if (f) await this.store.putFile(toRecord(f));
      }
    }
  }

  private async hashPieces(file: Blob, onProgress: (bytes: number) => void): Promise<Uint8Array[]> {
    const m = { size: file.size, pieceSize: pieceSizeFor(file.size) };
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < pieceCountFor(file.size, m.pieceSize); i++) {
      const { start, end } = pieceRange(m, i);
      hashes.push(await this.sha256(new Uint8Array(await file.slice(start, end).arrayBuffer())));
      onProgress(end);
    }
    return hashes;
  }

  private async storeAll(local: LocalFile, file: Blob, onProgress: (bytes: number) => void): Promise<void> {
    const pending = new Set<Promise<void>>();
    for (let i = 0; i < local.manifest.pieceCount; i++) {
      const { start, end } = pieceRange(local.manifest, i);
      const data = new Uint8Array(await file.slice(start, end).arrayBuffer());
      const p: Promise<void> = this.storePiece(local.meta.id, i, data).then(() => {
        pending.delete(p);
        onProgress(end);
      });
      pending.add(p);
      if (pending.size >= IMPORT_WINDOW) await Promise.race(pending);
    }
    await Promise.all(pending);
    await this.flush();
  }
}

const toRecord = (f: LocalFile): FileRecord => ({
  meta: f.meta,
  pieceSize: f.manifest.pieceSize,
  pieceCount: f.manifest.pieceCount,
  hashes: f.manifest.hashes,
  have: f.have.bytes.slice(),
  source: f.source,
  addedAt: f.addedAt,
});
