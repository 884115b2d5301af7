import { Bitfield } from '../core/bitfield.ts';
import type { Sha256 } from '../core/hash.ts';
import { verifyPiece, type FileMeta, type Manifest } from '../core/manifest/manifest.ts';
import { PieceWriter, type Wait } from '../storage/piece-writer.ts';
import { toRecord } from './file-record.ts';
import { RecordQueue } from './record-queue.ts';
import { readStoredFiles, type StoredFiles } from './stored-files.ts';
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
  /** Where its pieces are stored: its id, or the draft id it had (a finalised draft keeps its pieces where they are). */
  storeKey: string;
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
  private writer: PieceWriter;
  /** Record writes, coalesced. */
  private records: RecordQueue;
  /** Removals in progress: nothing of the file is written until its deletion is done. */
  private removing = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly sha256: Sha256,
    private readonly now: () => number,
    readonly room: string,
    private readonly events: LibraryEvents,
    /** The piece writer's timer (a simulation's virtual clock); setTimeout when absent. */
    wait?: Wait,
  ) {
    this.writer = new PieceWriter(store, wait);
    this.records = new RecordQueue(async (id) => {
      const f = this.files.get(id);
      if (f) await this.store.putFile(toRecord(f));
    }, (e) => this.events.persistFailed(e));
  }

  /** Loads the stored files, as checked by readStoredFiles (app/stored-files.ts); damaged ones' records are written again. */
  async load(): Promise<StoredFiles> {
    const stored = await readStoredFiles(this.store, this.sha256, (file) => this.files.set(file.meta.id, file));
    for (const { file } of stored.damaged) this.markDirty(file.meta.id);
    return { ...stored, files: this.all() };
  }

  get(fileId: string): LocalFile | undefined {
    return this.files.get(fileId);
  }

  /** A file of this room (not one kept for another room). */
  inRoom(fileId: string): LocalFile | undefined {
    const f = this.files.get(fileId);
    return f?.rooms.includes(this.room) ? f : undefined;
  }

  all(): LocalFile[] {
    return [...this.files.values()];
  }

  roomFiles(): LocalFile[] {
    return this.all().filter((f) => f.rooms.includes(this.room));
  }

  isComplete(fileId: string): boolean {
    return this.files.get(fileId)?.have.complete ?? false;
  }

  /**
   * Starts holding a draft (core/manifest/draft.ts): ours while we hash it
   * (`shared`), or a copy being fetched from its origin (`downloaded`). Its
   * pieces are stored under its draft id, which stays their storage key
   * when it becomes its final id.
   */
  async addDraft(meta: FileMeta, manifest: Manifest, source: LocalFile['source']): Promise<LocalFile> {
    await this.removing.get(meta.id);
    return this.files.get(meta.id) ?? this.newFile(meta, manifest, source);
  }

  /** Served to peers here: files of this room, but a draft only by its origin (nobody else can vouch for its hashes). */
  servable(fileId: string): LocalFile | undefined {
    const f = this.inRoom(fileId);
    return f && (f.meta.draft === undefined || f.source === 'shared') ? f : undefined;
  }

  /**
   * The draft becomes final file `meta` (its pieces stay under its draft id):
   * `keep` are the pieces still held. Writes already queued land first, so
   * no piece checked against the draft's hashes is marked after the switch.
   * The final record is written before the switch (the draft is served until
   * the file is durable) and before the draft's record is deleted: a crash
   * between them leaves a record load() drops without touching the pieces.
   */
  async finalise(local: LocalFile, meta: FileMeta, manifest: Manifest, keep: Bitfield): Promise<void> {
    await this.writer.idle();
    const draftId = local.meta.id;
    const owned = () => this.files.get(draftId) === local && !this.files.has(meta.id);
    if (!owned()) throw new Error(`cannot finalise ${draftId.slice(0, 8)} as ${meta.id.slice(0, 8)}`);
    const final = { meta, manifest, have: keep, completedOnce: keep.complete };
    await this.store.putFile(toRecord({ ...local, ...final }));
    if (!owned()) {
      await this.store.deleteRecord(meta.id);
      throw new Error(`${local.meta.name} was removed while it was being finalised`);
    }
    this.files.delete(draftId);
    this.records.forget(draftId);
    Object.assign(local, final);
    this.files.set(meta.id, local);
    await this.store.deleteRecord(draftId); // its pieces are the final file's now
  }

  /**
   * Shared again under `name` (and folder): the new name is the one announced; the file joins this room.
   * `audience` is who it is for now (core/gossip/audience.ts): the caller widens, never narrows.
   */
  rename(local: LocalFile, name: string, path?: string, audience?: string[]): void {
    const { id, size, mime } = local.meta;
    local.meta = { id, name, size, mime, ...(path === undefined ? {} : { path }), ...(audience === undefined ? {} : { audience }) };
    if (!local.rooms.includes(this.room)) local.rooms.push(this.room);
    this.markDirty(id);
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
   * `arriving`: more pieces come one by one (a download): see PieceWriter.
   */
  async storePiece(local: LocalFile, index: number, data: Uint8Array, arriving = false): Promise<boolean> {
    if (this.files.get(local.meta.id) !== local) return false;
    const written = await this.writer.write(local.storeKey, index, data, arriving);
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
        data = await this.store.getPiece(local.storeKey, index);
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

  /** Who may know of the file (core/gossip/audience.ts); undefined: the whole room. The caller checks it widens. */
  setAudience(fileId: string, audience: readonly string[] | undefined): void {
    const f = this.files.get(fileId);
    if (!f) return;
    const { audience: _before, ...rest } = f.meta;
    f.meta = audience === undefined ? rest : { ...rest, audience: [...audience] };
    this.markDirty(fileId);
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
    this.records.forget(fileId);
    this.writer.drop(local.storeKey);
    const done = (async () => {
      await this.writer.idle();
      await this.flush().catch(() => undefined); // a failed record write was reported; the record is deleted next anyway
      await this.store.deletePieces(local.storeKey, local.manifest.pieceCount);
      await this.store.deleteRecord(fileId);
    })().finally(() => {
      if (this.removing.get(fileId) === done) this.removing.delete(fileId);
    });
    this.removing.set(fileId, done);
    return done;
  }

  assemble(fileId: string): Promise<Blob> {
    const local = this.files.get(fileId);
    if (!local?.have.complete) return Promise.reject(new Error('the file is not complete'));
    return this.store.assemble(local.storeKey, local.manifest.pieceCount, local.meta.mime);
  }

  /** Resolves when every pending record write has reached storage; rejects if one failed. */
  flush(): Promise<void> {
    return this.records.flush();
  }

  private newFile(meta: FileMeta, manifest: Manifest, source: LocalFile['source']): LocalFile {
    const local: LocalFile = {
      meta, manifest, have: new Bitfield(manifest.pieceCount), source, addedAt: this.now(), storeKey: meta.id,
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

  private markDirty(fileId: string): void {
    this.records.mark(fileId);
  }
}
