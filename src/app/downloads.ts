import { toHex } from '../core/bytes.ts';
import type { Sha256 } from '../core/hash.ts';
import type { FileMeta, Manifest } from '../core/manifest/manifest.ts';
import type { Availability, PieceView } from '../core/swarm/availability.ts';
import type { WireMessage } from '../core/wire/frames.ts';
import { Download, type DownloadStats } from './download.ts';
import type { Library, LocalFile } from './library.ts';

/**
 * Every download of this page, one per file: starting one (or resuming it
 * from storage), cancelling it, and telling whoever waits how it ended. A
 * second start of a running download is the same download (intents are
 * idempotent). Stats of finished downloads stay readable for tests and the
 * benchmark.
 */
export type DownloadReport = DownloadStats & { status: string; have: number; pieceCount: number; haveHex: string; bytesDone: number };

export interface DownloadsDeps {
  library: Library;
  availability: Availability;
  sha256: Sha256;
  now(): number;
  random(): number;
  /** Linked peers a download of this file may ask (its audience, if it has one). */
  openPeers(fileId: string): string[];
  send(peer: string, m: WireMessage): void;
  expect(peer: string, fileId: string, piece: number, length: number): void;
  cancel(peer: string, fileId: string, piece: number): void;
  /** A peer sent data that failed verification. */
  misbehaved(peer: string, what: string): void;
  /** A piece of a file is stored: tell the room (HAVE). */
  stored(fileId: string, piece: number): void;
  /** A download finished: the file is now ours to announce and serve. */
  completed(file: LocalFile): void;
  /** Its partial data is going: linked peers must stop counting on our pieces. */
  dropped(file: LocalFile): void;
  changed(): void;
  /** Whom a download may ask for which pieces (drafts: app/draft-fetch.ts). */
  restrict?(fileId: string, view: PieceView): PieceView;
  /** Holds a file once its manifest is verified (a draft copy may become it). */
  hold?(meta: FileMeta, manifest: Manifest): Promise<LocalFile>;
}

export class Downloads {
  private active = new Map<string, Download>();
  /** Why a download stopped by itself (storage failure): shown until it is retried or removed. */
  private errors = new Map<string, string>();
  private finished = new Map<string, DownloadReport>();
  private waiters = new Map<string, ((done: boolean) => void)[]>();
  /** Cancels still deleting partial data: a new download of the file waits for them. */
  private cancelling = new Map<string, Promise<void>>();

  constructor(private readonly deps: DownloadsDeps) {}

  get(fileId: string): Download | undefined {
    return this.active.get(fileId);
  }

  all(): Download[] {
    return [...this.active.values()];
  }

  get size(): number {
    return this.active.size;
  }

  error(fileId: string): string | null {
    return this.errors.get(fileId) ?? null;
  }

  /** Starts fetching `meta` (or resumes `local`); a running download is returned as it is. */
  start(meta: FileMeta, local?: LocalFile): Download {
    const running = this.active.get(meta.id);
    if (running) return running;
    this.errors.delete(meta.id);
    const d = new Download(local?.meta ?? meta, this.wiring(meta.id), local);
    this.active.set(meta.id, d);
    d.start();
    return d;
  }

  /** Resolves true when the file is complete, false if its download stops first. */
  whenDone(fileId: string): Promise<boolean> {
    if (this.deps.library.isComplete(fileId) && !this.active.has(fileId)) return Promise.resolve(true);
    if (!this.active.has(fileId)) return Promise.resolve(false);
    return new Promise((resolve) => this.waiters.set(fileId, [...(this.waiters.get(fileId) ?? []), resolve]));
  }

  /**
   * Stops a download. A first download's partial data is deleted (after its
   * queued writes settle); a repair of a file we once had whole keeps what is
   * left, so cancelling a repair never destroys a file.
   */
  cancel(fileId: string): Promise<void> {
    const d = this.active.get(fileId);
    this.errors.delete(fileId);
    if (d) this.end(d, false);
    const local = this.deps.library.get(fileId);
    if (!local || local.completedOnce || local.have.complete) {
      this.deps.changed();
      return this.settled(fileId);
    }
    this.deps.dropped(local);
    const discarding = this.settled(fileId)
      .then(() => this.deps.library.discard(fileId))
      .then(() => undefined)
      .finally(() => {
        if (this.cancelling.get(fileId) === discarding) this.cancelling.delete(fileId);
        this.deps.changed();
      });
    this.cancelling.set(fileId, discarding);
    return discarding;
  }

  /**
   * Resolves once no cancel of the file is still deleting its data: a download
   * started before that would build on a record about to vanish.
   */
  settled(fileId: string): Promise<void> {
    return this.cancelling.get(fileId) ?? Promise.resolve();
  }

  /** Stops any download of the file without touching storage (the caller removes it). */
  forget(fileId: string): void {
    const d = this.active.get(fileId);
    this.errors.delete(fileId);
    if (d) this.end(d, false);
  }

  /**
   * Draft `draftId` is final as `meta` (app/draft-fetch.ts): its download, if
   * any, ends as 'migrated' and a download of the final file takes its place,
   * with its waiters and the wish to save. It runs even when the draft copy
   * was complete: only then is the file ours to announce.
   */
  migrate(draftId: string, meta: FileMeta): Download {
    const old = this.active.get(draftId);
    const waiting = this.waiters.get(draftId) ?? [];
    this.waiters.delete(draftId);
    if (old) {
      this.finished.set(draftId, { ...this.reportOf(old), status: 'migrated' });
      old.stop();
      this.active.delete(draftId);
    }
    const next = this.start(meta);
    next.saveWanted ||= (old?.saveWanted ?? false) || (this.deps.library.get(draftId)?.saveWanted ?? false);
    if (waiting.length > 0) this.waiters.set(meta.id, [...(this.waiters.get(meta.id) ?? []), ...waiting]);
    this.deps.changed();
    return next;
  }

  report(): Record<string, DownloadReport> {
    return { ...Object.fromEntries(this.finished), ...Object.fromEntries([...this.active].map(([id, d]) => [id, this.reportOf(d)])) };
  }

  private reportOf(d: Download): DownloadReport {
    const have = this.deps.library.get(d.fileId)?.have;
    return { ...d.stats, status: d.status, have: have?.count ?? 0, pieceCount: d.pieceCount, haveHex: have ? toHex(have.bytes) : '', bytesDone: d.bytesDone };
  }

  private end(d: Download, done: boolean): void {
    d.stop();
    if (this.active.get(d.fileId) === d) this.active.delete(d.fileId);
    for (const resolve of this.waiters.get(d.fileId) ?? []) resolve(done);
    this.waiters.delete(d.fileId);
  }

  private complete(d: Download): void {
    this.finished.set(d.fileId, this.reportOf(d));
    this.end(d, true);
    const local = this.deps.library.get(d.fileId);
    if (local) this.deps.completed(local);
    this.deps.changed();
  }

  /** How one download reaches the peers and storage. */
  private wiring(fileId: string): ConstructorParameters<typeof Download>[1] {
    const { deps } = this;
    const me = () => this.active.get(fileId);
    return {
      library: deps.library, availability: deps.availability, sha256: deps.sha256, now: deps.now, random: deps.random,
      openPeers: () => deps.openPeers(fileId),
      send: deps.send,
      expect: (peer, piece, length) => deps.expect(peer, fileId, piece, length),
      cancel: (peer, piece) => deps.cancel(peer, fileId, piece),
      misbehaved: deps.misbehaved,
      stored: (piece) => deps.stored(fileId, piece),
      changed: deps.changed,
      completed: () => {
        const d = me();
        if (d) this.complete(d);
      },
      restrict: deps.restrict && ((view) => deps.restrict!(fileId, view)),
      hold: deps.hold,
      failed: (message) => {
        const d = me();
        if (!d) return;
        this.errors.set(fileId, message);
        this.end(d, false);
        deps.changed();
      },
    };
  }
}
