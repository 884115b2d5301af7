import { createEngine, type Engine } from '../../../src/app/engine.ts';
import { buildManifest, pieceRange, MIN_PIECE_SIZE } from '../../../src/core/manifest/manifest.ts';
import { createMemoryStore, type MemoryStore } from '../../../src/storage/memory-store.ts';
import { mulberry32 } from './random.ts';
import { createClock, type SimClock } from './sim/clock.ts';
import { faultyFactory, uplink, type Fault } from './sim/faults.ts';
import { createSimNetwork } from './sim/link.ts';
import { SimFile, simEngineDeps, simIdentity, syncSha256, type SimWorld } from './sim/peer.ts';
import { createRelay } from './sim/relay.ts';

/**
 * A swarm of real engines (src/app/engine.ts) in virtual time, over the sim
 * harness's relay and links: holders share one file, downloaders download
 * it, and every decision (scheduling, uploads, stalls, strikes, bans) is the
 * app's own. This file only sets the stage: each peer's upload capacity (the
 * engine's throttle on the fake clock), when it joins, leaves, stalls (its
 * frames are silently dropped) or corrupts (its DATA frames arrive with a
 * byte flipped), and it reads the results from what the engines expose.
 */

/** When a behaviour starts: a virtual time, a share of the downloaders' progress, or once others hold every piece. */
export type Trigger = { atMs: number } | { atProgress: number } | { whenOthersHoldAll: true };

export interface PeerSpec {
  id: string;
  /** Upload capacity in bytes per (virtual) second, shared by everyone this peer serves. */
  upBps: number;
  /** Shares the whole file at the start; otherwise the peer downloads it. */
  holds?: 'all';
  joinsAtMs?: number;
  /** Closes its engine (the tab closes). */
  leaves?: Trigger;
  /** Stops sending and answering but stays connected: every frame it sends is dropped. */
  stalls?: Trigger;
  /** Flips a byte in every DATA frame it sends. */
  corrupt?: boolean;
}

export interface SimOptions {
  peers: PeerSpec[];
  /** Pieces of the app's minimum size (256 KiB). */
  pieceCount?: number;
  seed?: number;
  /** A run that cannot finish ends here with `finished: false` instead of hanging. */
  maxTimeMs?: number;
}

export interface PeerResult {
  id: string; downloader: boolean; upBps: number;
  /** Virtual time download() resolved true; null if it never did. */
  finishedAtMs: number | null;
  /** Every piece is in the store and equals the original's bytes. */
  exact: boolean;
  /** Stored pieces that differ from the original bytes: must stay 0. */
  unverifiedStored: number;
  /** From engine.stats().downloads (absent fields are 0 for holders). */
  status: string; piecesReceived: number; duplicatePieces: number; badPieces: number; resumedWith: number;
  /** Peers this one's engine has banned. */
  banned: string[];
  /** Every notice the engine showed, in order. */
  notices: string[];
  uploadedBytes: number;
}

/** coverage: pieces held by at least one other online peer at that moment. */
export interface SimLogEntry {
  atMs: number; peer: string; what: 'joined' | 'left' | 'stalled'; swarmProgress: number; coverage: number; finishedDownloaders: number;
}

export interface SimResult {
  finished: boolean; timeMs: number; events: number; pieceCount: number; pieceSize: number; peers: PeerResult[]; log: SimLogEntry[];
  /** Thrown out of event handlers or rejected without a handler: must stay empty. */
  errors: string[];
}

interface Peer {
  spec: PeerSpec;
  state: 'waiting' | 'online' | 'stalled' | 'gone';
  store: MemoryStore;
  engine: Engine | null;
  asked: boolean;
  finishedAtMs: number | null;
  notices: string[];
  seed: number;
}

/** How often the run looks at triggers, joins and progress. */
const STEP_MS = 100;
const PIECE = MIN_PIECE_SIZE;

interface Content { bytes: Uint8Array; fileId: string; n: number }

async function makeContent(pieceCount: number, random: () => number): Promise<Content> {
  const bytes = new Uint8Array(pieceCount * PIECE);
  const words = new Uint32Array(bytes.buffer);
  for (let i = 0; i < words.length; i++) words[i] = Math.floor(random() * 2 ** 32);
  const hashes = await Promise.all(Array.from({ length: pieceCount }, (_, k) => {
    const { start, end } = pieceRange({ size: bytes.length, pieceSize: PIECE }, k);
    return syncSha256(bytes.subarray(start, end));
  }));
  const m = await buildManifest(bytes.length, hashes, syncSha256);
  if (!m.ok) throw new Error(`bad content: ${m.error}`);
  return { bytes, fileId: m.value.id, n: m.value.pieceCount };
}

class Swarm {
  readonly peers: Peer[];
  readonly log: SimLogEntry[] = [];
  readonly errors: string[] = [];
  private readonly world: SimWorld;
  /** Each peer's identity, made up front so results can name whom an engine banned. */
  private readonly identities: ReturnType<typeof simIdentity>[];

  constructor(readonly clock: SimClock, random: () => number, readonly content: Content, specs: PeerSpec[], seed: number) {
    this.world = { clock, relay: createRelay(clock, random), net: createSimNetwork({ clock, random, latencyMs: [5, 30], bytesPerMs: [100_000, 100_000] }) };
    this.peers = specs.map((spec, i) => ({ spec, state: 'waiting', store: createMemoryStore(), engine: null, asked: false, finishedAtMs: null, notices: [], seed: seed * 31 + i }));
    this.identities = specs.map(() => simIdentity(new Uint8Array(Array.from({ length: 32 }, () => Math.floor(random() * 256)))));
  }

  /** One look every STEP_MS: joins, downloads to start, triggers to fire. */
  step(): void {
    for (const p of this.peers) {
      if (p.state === 'waiting' && (p.spec.joinsAtMs ?? 0) <= this.clock.now()) this.join(p);
      if (p.state === 'online' && !p.spec.holds && !p.asked && p.engine!.internals.catalogue.meta(this.content.fileId)) this.download(p);
      const { leaves, stalls } = p.spec;
      if (leaves && this.fired(p, leaves)) this.leave(p);
      else if (stalls && this.fired(p, stalls)) this.setState(p, 'stalled');
    }
  }

  get allDone(): boolean {
    return this.peers.every((p) => p.spec.holds || p.state === 'gone' || p.finishedAtMs !== null);
  }

  private join(p: Peer): void {
    const identity = this.identities[this.peers.indexOf(p)]!;
    const deps = simEngineDeps(this.world, { identity, name: p.spec.id, store: p.store, seed: p.seed });
    const fault = (): Fault => (p.state === 'stalled' ? 'stall' : p.spec.corrupt ? 'corrupt' : 'none');
    const engine = createEngine({ ...deps, throttle: uplink(this.clock, p.spec.upBps), createConnection: faultyFactory(deps.createConnection, fault) });
    p.engine = engine;
    this.collectNotices(p, engine);
    this.setState(p, 'online');
    if (p.spec.holds) engine.share([new SimFile(this.content.bytes, 'shared.bin')]).catch((e: unknown) => this.errors.push(`${p.spec.id} share: ${String(e)}`));
  }

  private collectNotices(p: Peer, engine: Engine): void {
    let last = 0;
    engine.subscribe(() => {
      for (const n of engine.getState().notices) {
        if (n.id <= last) continue;
        last = n.id;
        p.notices.push(n.text);
      }
    });
  }

  private download(p: Peer): void {
    p.asked = true;
    p.engine!.download(this.content.fileId).then(
      (ok) => {
        if (ok && p.finishedAtMs === null) p.finishedAtMs = this.clock.now();
      },
      (e: unknown) => this.errors.push(`${p.spec.id} download: ${String(e)}`),
    );
  }

  private leave(p: Peer): void {
    p.engine!.close();
    this.setState(p, 'gone');
  }

  private setState(p: Peer, state: Peer['state']): void {
    p.state = state;
    const what = state === 'online' ? 'joined' : state === 'gone' ? 'left' : 'stalled';
    const finishedDownloaders = this.peers.filter((q) => !q.spec.holds && q.finishedAtMs !== null).length;
    this.log.push({ atMs: this.clock.now(), peer: p.spec.id, what, swarmProgress: this.progress(), coverage: this.coverageWithout(p), finishedDownloaders });
  }

  private fired(p: Peer, t: Trigger): boolean {
    if (p.state !== 'online') return false;
    if ('atMs' in t) return this.clock.now() >= t.atMs;
    if ('atProgress' in t) return this.progress() >= t.atProgress;
    return this.coverageWithout(p) === this.content.n;
  }

  private held(p: Peer, piece: number): boolean {
    return p.engine?.internals.library.get(this.content.fileId)?.have.get(piece) ?? false;
  }

  /** Share of all downloaders' pieces held so far. */
  private progress(): number {
    const downloaders = this.peers.filter((p) => !p.spec.holds);
    const held = downloaders.reduce((sum, p) => sum + (p.engine?.internals.library.get(this.content.fileId)?.have.count ?? 0), 0);
    return held / (downloaders.length * this.content.n);
  }

  private coverageWithout(p: Peer): number {
    const others = this.peers.filter((q) => q !== p && q.state === 'online');
    let covered = 0;
    for (let i = 0; i < this.content.n; i++) if (others.some((q) => this.held(q, i))) covered++;
    return covered;
  }

  async result(p: Peer): Promise<PeerResult> {
    const { fileId, n, bytes } = this.content;
    let unverifiedStored = 0;
    let present = 0;
    for (let i = 0; i < n; i++) {
      const stored = await p.store.getPiece(fileId, i);
      if (!stored) continue;
      present++;
      const { start, end } = pieceRange({ size: bytes.length, pieceSize: PIECE }, i);
      if (Buffer.compare(stored, bytes.subarray(start, end)) !== 0) unverifiedStored++;
    }
    const stats = p.engine?.stats();
    const d = stats?.downloads[fileId];
    const banned = this.peers.filter((q) => q !== p && (p.engine?.internals.peers()?.isBanned(this.identities[this.peers.indexOf(q)]!.id) ?? false)).map((q) => q.spec.id);
    return {
      id: p.spec.id, downloader: !p.spec.holds, upBps: p.spec.upBps, finishedAtMs: p.finishedAtMs,
      exact: present === n && unverifiedStored === 0, unverifiedStored,
      status: d?.status ?? (p.spec.holds ? 'seed' : 'none'), piecesReceived: d?.piecesReceived ?? 0, duplicatePieces: d?.duplicatePieces ?? 0,
      badPieces: d?.badPieces ?? 0, resumedWith: d?.resumedWith ?? 0, banned, notices: p.notices, uploadedBytes: stats?.uploadedBytes ?? 0,
    };
  }
}

export async function runSwarm(opts: SimOptions): Promise<SimResult> {
  const seed = opts.seed ?? 1;
  const random = mulberry32(seed);
  const clock = createClock();
  const swarm = new Swarm(clock, random, await makeContent(opts.pieceCount ?? 32, random), opts.peers, seed);
  const maxTimeMs = opts.maxTimeMs ?? 600_000;
  const onRejection = (e: unknown) => swarm.errors.push(`unhandled rejection: ${String(e)}`);
  process.on('unhandledRejection', onRejection);
  try {
    swarm.step();
    while (!swarm.allDone && clock.now() < maxTimeMs) {
      await clock.run(Math.min(maxTimeMs, clock.now() + STEP_MS));
      swarm.step();
    }
    const peers = await Promise.all(swarm.peers.map((p) => swarm.result(p)));
    for (const e of clock.errors) swarm.errors.push(`at ${e.atMs} ms: ${String(e.error)}`);
    return {
      finished: swarm.allDone, timeMs: clock.now(), events: clock.eventsRun, pieceCount: swarm.content.n, pieceSize: PIECE,
      peers, log: swarm.log, errors: swarm.errors,
    };
  } finally {
    process.off('unhandledRejection', onRejection);
    for (const p of swarm.peers) p.engine?.close();
  }
}

/** A table of the run, for t.diagnostic. Speeds in kB/s (1000), volumes in KiB. */
export function summary(res: SimResult): string {
  const kib = (b: number) => (b / 1024).toFixed(0);
  const secs = (ms: number) => (ms / 1000).toFixed(2);
  const cols = ['peer', 'up kB/s', 'done s', 'exact', 'recv', 'dup', 'bad', 'banned', 'sent KiB'];
  const rows = res.peers.map((p) => [
    p.id, (p.upBps / 1000).toFixed(0), p.downloader ? (p.finishedAtMs === null ? '-' : secs(p.finishedAtMs)) : 'seed',
    p.downloader ? String(p.exact) : '', String(p.piecesReceived), String(p.duplicatePieces),
    String(p.badPieces), p.banned.join(',') || '-', kib(p.uploadedBytes),
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
  const head = `finished=${res.finished} t=${secs(res.timeMs)}s events=${res.events} pieces=${res.pieceCount}x${kib(res.pieceSize)}KiB`;
  const log = res.log.filter((e) => e.atMs > 0).map((e) =>
    `  ${secs(e.atMs)}s ${e.peer} ${e.what}: progress ${(e.swarmProgress * 100).toFixed(0)}%, others hold ${e.coverage}/${res.pieceCount}, ${e.finishedDownloaders} done`);
  return [head, line(cols), ...rows.map(line), ...res.errors.map((e) => `  error: ${e}`), ...log].join('\n');
}
