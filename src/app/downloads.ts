import { toHex } from '../core/bytes.ts';
import type { Catalogue } from '../core/gossip/catalogue.ts';
import type { Sha256 } from '../core/hash.ts';
import { Download, type DownloadStats } from './download.ts';
import type { Library, LocalFile } from './library.ts';
import type { Session } from './session.ts';

/**
 * Every download of this page: starting one (or resuming it from storage),
 * wiring it to the open sessions, and telling whoever waits how it ended.
 * Stats of finished downloads stay readable for tests and the benchmark.
 */
export type DownloadReport = DownloadStats & { status: string; have: number; pieceCount: number; haveHex: string };

export interface DownloadsDeps {
  library: Library;
  catalogue: Catalogue;
  sessions: ReadonlyMap<string, Session>;
  sha256: Sha256;
  now(): number;
  random(): number;
  /** A peer sent data that failed verification. */
  misbehaved(peer: string, what: string): void;
  /** A download finished: the file is now ours to announce and serve. */
  completed(file: LocalFile): void;
  changed(): void;
}

export class Downloads {
  private active = new Map<string, Download>();
  private finished = new Map<string, DownloadReport>();
  private waiters = new Map<string, ((done: boolean) => void)[]>();

  constructor(private readonly deps: DownloadsDeps) {}

  get(fileId: string): Download | undefined {
    return this.active.get(fileId);
  }

  has(fileId: string): boolean {
    return this.active.has(fileId);
  }

  all(): Download[] {
    return [...this.active.values()];
  }

  get size(): number {
    return this.active.size;
  }

  /** Starts fetching (or resumes from `local`); undefined for a file nobody announced. */
  start(fileId: string, local?: LocalFile): Download | undefined {
    const existing = this.active.get(fileId);
    if (existing?.status === 'error') this.active.delete(fileId);
    else if (existing) return existing;
    const meta = local?.meta ?? this.deps.catalogue.meta(fileId);
    if (!meta) return undefined;
    const d = new Download(meta, this.wiring(fileId), local);
    if (d.status !== 'complete') this.active.set(fileId, d);
    d.start();
    return d;
  }

  /** Resolves true when the file is complete, false if its download stops. */
  whenDone(fileId: string): Promise<boolean> {
    if (this.deps.library.isComplete(fileId)) return Promise.resolve(true);
    if (!this.active.has(fileId)) return Promise.resolve(false);
    return new Promise((resolve) => this.waiters.set(fileId, [...(this.waiters.get(fileId) ?? []), resolve]));
  }

  /** Stops a download and forgets its pieces. */
  async cancel(fileId: string): Promise<void> {
    const d = this.active.get(fileId);
    if (!d || d.status === 'complete') return;
    d.fail('cancelled');
    this.active.delete(fileId);
    this.settle(fileId, false);
    await this.deps.library.remove(fileId);
  }

  report(): Record<string, DownloadReport> {
    return { ...Object.fromEntries(this.finished), ...Object.fromEntries([...this.active].map(([id, d]) => [id, this.reportOf(d)])) };
  }

  private reportOf(d: Download): DownloadReport {
    const have = this.deps.library.get(d.meta.id)?.have;
    return { ...d.stats, status: d.status, have: have?.count ?? 0, pieceCount: d.pieceCount, haveHex: have ? toHex(have.bytes) : '' };
  }

  private settle(fileId: string, done: boolean): void {
    for (const resolve of this.waiters.get(fileId) ?? []) resolve(done);
    this.waiters.delete(fileId);
  }

  private complete(d: Download): void {
    this.finished.set(d.meta.id, this.reportOf(d));
    this.active.delete(d.meta.id);
    const local = this.deps.library.get(d.meta.id);
    if (local) this.deps.completed(local);
    this.settle(d.meta.id, true);
    this.deps.changed();
  }

  /** How one download reaches the peers: through their sessions, by peer id. */
  private wiring(fileId: string): ConstructorParameters<typeof Download>[1] {
    const { sessions, catalogue } = this.deps;
    let self: Download | undefined;
    const me = () => (self ??= this.active.get(fileId));
    return {
      library: this.deps.library, sha256: this.deps.sha256, now: this.deps.now, random: this.deps.random,
      openPeers: () => [...sessions.keys()],
      fullHolders: () => catalogue.holders(fileId).filter((p) => sessions.has(p)),
      send: (peer, m) => sessions.get(peer)?.send(m),
      expect: (peer, piece, length) => sessions.get(peer)?.expect(fileId, piece, length),
      cancel: (peer, piece) => sessions.get(peer)?.cancel(fileId, piece),
      misbehaved: (peer, what) => this.deps.misbehaved(peer, what),
      stored: (piece) => {
        for (const s of sessions.values()) if (s.swarm.has(fileId)) s.send({ type: 'have', fileId, piece });
      },
      changed: () => {
        if (me()?.status === 'error') this.settle(fileId, false);
        this.deps.changed();
      },
      completed: () => {
        const d = me();
        if (d) this.complete(d);
      },
    };
  }
}
