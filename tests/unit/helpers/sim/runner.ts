import { buildManifest, pieceRange, pieceSizeFor, pieceCountFor } from '../../../../src/core/manifest/manifest.ts';
import { mulberry32 } from '../random.ts';
import { createClock, drainMicrotasks, type SimClock } from './clock.ts';
import { checkInvariants, type Violation } from './invariants.ts';
import { createSimNetwork } from './link.ts';
import type { Identity } from '../../../../src/core/crypto/identity.ts';
import { SimFile, SimPeer, simIdentity, syncSha256, type SimWorld } from './peer.ts';
import { createRelay } from './relay.ts';
import { contentBytes, formatOp, type Op, type Scenario } from './scenario.ts';

/**
 * Runs one scenario against real engines: ops at their virtual times, then a
 * quiet period with the relay up, then the invariants. Everything that
 * happened is in `log`, so a failure reads as a story.
 */
export interface Content { bytes: Uint8Array; fileId: string; pieceCount: number; pieceSize: number }

export interface WantedDownload {
  /** Promises from download(), with the engine instance (peer.starts) that made them. */
  calls: { engineStart: number; result: boolean | 'pending' | 'threw' }[];
}

export interface RunState {
  scenario: Scenario;
  clock: SimClock;
  world: SimWorld;
  peers: SimPeer[];
  contents: Content[];
  /** peer -> content -> a download asked for and not cancelled since. */
  wanted: Map<number, Map<number, WantedDownload>>;
  /** Every notice each peer showed, in order. */
  notices: string[][];
  log: string[];
  rejections: unknown[];
}

export interface RunResult {
  violations: Violation[];
  log: string[];
  events: number;
  virtualMs: number;
  /** Downloads still wanted at the end, by peer and content. */
  wanted: RunState['wanted'];
}

export const QUIESCE_MS = 120_000;
/** Presence is checked this long after the relay is back for good (reconnect backoff is at most 8 s). */
export const PRESENCE_CHECK_MS = 20_000;

async function makeContents(s: Scenario): Promise<Content[]> {
  return Promise.all(s.contentSizes.map(async (size, i) => {
    const bytes = contentBytes(s.seed, i, size);
    const pieceSize = pieceSizeFor(size);
    const hashes = await Promise.all(Array.from({ length: pieceCountFor(size, pieceSize) }, (_, k) => {
      const { start, end } = pieceRange({ size, pieceSize }, k);
      return syncSha256(bytes.subarray(start, end));
    }));
    const m = await buildManifest(size, hashes, syncSha256);
    if (!m.ok) throw new Error(`bad content ${i}: ${m.error}`);
    return { bytes, fileId: m.value.id, pieceCount: m.value.pieceCount, pieceSize };
  }));
}

function peerIdentity(random: () => number): Identity {
  return simIdentity(new Uint8Array(Array.from({ length: 32 }, () => Math.floor(random() * 256))));
}

export interface RunOptions {
  /** Called just before the final checks: lets a test plant a fault to prove the invariants catch it. */
  beforeFinalCheck?(st: RunState): void;
}

export async function runScenario(scenario: Scenario, opts: RunOptions = {}): Promise<RunResult> {
  const random = mulberry32(scenario.seed ^ 0x5eed);
  const clock = createClock();
  const world: SimWorld = { clock, relay: createRelay(clock, random), net: createSimNetwork({ clock, random }) };
  const peers = Array.from({ length: scenario.peerCount }, (_, i) => new SimPeer(world, peerIdentity(random), `p${i}`, scenario.seed + i));
  const st: RunState = {
    scenario, clock, world, peers, contents: await makeContents(scenario), wanted: new Map(),
    notices: peers.map(() => []), log: [], rejections: [],
  };
  const onRejection = (e: unknown) => st.rejections.push(e);
  process.on('unhandledRejection', onRejection);
  try {
    let t = 0;
    for (const op of scenario.ops) {
      t += op.gapMs;
      await clock.run(t);
      const outcome = execute(st, op);
      st.log.push(`t=${(t / 1000).toFixed(1)}s ${formatOp(op)}${outcome ? ` (${outcome})` : ''}`);
      await drainMicrotasks();
    }
    world.relay.up();
    st.log.push(`t=${(t / 1000).toFixed(1)}s quiesce: relay up, no more ops`);
    await clock.run(t + PRESENCE_CHECK_MS);
    const early = await checkInvariants(st, 'presence');
    await clock.run(t + QUIESCE_MS);
    opts.beforeFinalCheck?.(st);
    const violations = [...early, ...(await checkInvariants(st, 'final'))];
    return { violations, log: st.log, events: clock.eventsRun, virtualMs: clock.now(), wanted: st.wanted };
  } finally {
    process.off('unhandledRejection', onRejection);
    for (const p of peers) p.close();
  }
}

function startPeer(st: RunState, i: number): void {
  const peer = st.peers[i]!;
  const engine = peer.start();
  const seen = st.notices[i]!;
  let last = 0;
  engine.subscribe(() => {
    for (const n of engine.getState().notices) {
      if (n.id <= last) continue;
      last = n.id;
      seen.push(n.text);
    }
  });
}

/** A closing page keeps only what storage holds: a download whose manifest never arrived is forgotten. */
function forgetUnstored(st: RunState, i: number): string {
  const wanted = st.wanted.get(i);
  const stored = new Set(st.peers[i]!.store.fileIds());
  const forgotten: number[] = [];
  for (const c of wanted?.keys() ?? []) {
    if (!stored.has(st.contents[c]!.fileId)) forgotten.push(c);
  }
  for (const c of forgotten) wanted!.delete(c);
  return forgotten.length ? `forgets unstored download of ${forgotten.map((c) => `c${c}`).join(', ')}` : '';
}

function callDownload(st: RunState, i: number, c: number): void {
  const peer = st.peers[i]!;
  const byPeer = st.wanted.get(i) ?? new Map<number, WantedDownload>();
  st.wanted.set(i, byPeer);
  const w = byPeer.get(c) ?? { calls: [] };
  byPeer.set(c, w);
  const call: WantedDownload['calls'][number] = { engineStart: peer.starts, result: 'pending' };
  w.calls.push(call);
  peer.engine!.download(st.contents[c]!.fileId).then(
    (ok) => (call.result = ok),
    (e: unknown) => {
      call.result = 'threw';
      st.rejections.push(e);
    },
  );
}

/** Runs one op; returns why it was skipped or what it led to, for the log. */
function execute(st: RunState, op: Op): string {
  switch (op.kind) {
    case 'relay-down':
      st.world.relay.down();
      return '';
    case 'relay-up':
      st.world.relay.up();
      return '';
    case 'join':
      if (st.peers[op.peer]!.online) return 'skipped: already online';
      startPeer(st, op.peer);
      return '';
    case 'network-change': {
      const engine = st.peers[op.peer]!.engine;
      if (!engine) return 'skipped: offline';
      engine.networkChanged();
      return '';
    }
    case 'lose-piece':
      return losePiece(st, op.peer, op.content, op.piece);
    case 'leave':
    case 'reload': {
      const peer = st.peers[op.peer]!;
      if (!peer.online) return 'skipped: offline';
      const note = forgetUnstored(st, op.peer);
      peer.close();
      if (op.kind === 'reload') startPeer(st, op.peer);
      return note;
    }
    case 'share': {
      const engine = st.peers[op.peer]!.engine;
      if (!engine) return 'skipped: offline';
      engine.share([new SimFile(st.contents[op.content]!.bytes, op.name)]).catch((e: unknown) => st.rejections.push(e));
      return '';
    }
    case 'remove':
    case 'stop-sharing':
      return withdraw(st, op);
    default:
      return intent(st, op);
  }
}

/** Remove from this device, or stop sharing: the file goes (any download of it too) and the room hears so. */
function withdraw(st: RunState, op: Extract<Op, { kind: 'remove' | 'stop-sharing' }>): string {
  const engine = st.peers[op.peer]!.engine;
  if (!engine) return 'skipped: offline';
  const fileId = st.contents[op.content]!.fileId;
  const view = engine.getState().files.find((f) => f.meta.id === fileId);
  if (!view || (view.status === 'available' && view.bytesDone === 0)) return 'skipped: not held';
  st.wanted.get(op.peer)?.delete(op.content);
  const act = op.kind === 'remove' ? engine.remove(fileId) : engine.stopSharing(fileId);
  act.catch((e: unknown) => st.rejections.push(e));
  return `was ${view.status}`;
}

function losePiece(st: RunState, i: number, c: number, piece: number): string {
  const peer = st.peers[i]!;
  const fileId = st.contents[c]!.fileId;
  // Its pieces' storage key (a shared file keeps the draft id it was imported under), known while its page is open.
  const key = peer.engine?.internals.library.get(fileId)?.storeKey ?? fileId;
  if (!peer.store.pieceKeys().includes(`${key}:${piece}`)) return 'skipped: piece not stored';
  peer.store.dropPiece(key, piece);
  return peer.online ? '' : 'while offline';
}

/** Download, cancel and pause, as the person clicks them: on a file the page lists. */
function intent(st: RunState, op: Extract<Op, { kind: 'download' | 'download-twice' | 'cancel' | 'download-after-cancel' | 'pause' | 'pause-then-download' }>): string {
  const engine = st.peers[op.peer]!.engine;
  if (!engine) return 'skipped: offline';
  const fileId = st.contents[op.content]!.fileId;
  const view = engine.getState().files.find((f) => f.meta.id === fileId);
  if (!view) return 'skipped: not listed';
  if (op.kind === 'download' || op.kind === 'download-twice') {
    callDownload(st, op.peer, op.content);
    if (op.kind === 'download-twice') callDownload(st, op.peer, op.content);
    return `was ${view.status}`;
  }
  if (op.kind === 'pause' || op.kind === 'pause-then-download') return pause(st, op.peer, op.content, op.kind === 'pause-then-download');
  if (view.status !== 'downloading' && view.status !== 'manifest') return `skipped: ${view.status}, not running`;
  st.wanted.get(op.peer)?.delete(op.content);
  const cancelled = engine.cancel(fileId);
  cancelled.catch((e: unknown) => st.rejections.push(e));
  if (op.kind !== 'download-after-cancel') return '';
  // Download again as soon as the person can: the row may be gone by then (nobody offers the file any more).
  void cancelled.then(() => {
    if (engine !== st.peers[op.peer]!.engine) return;
    if (engine.getState().files.some((f) => f.meta.id === fileId)) callDownload(st, op.peer, op.content);
  });
  return '';
}

/**
 * Pause mid-way: the download is started if it is not running, and paused
 * once it has stored something (a moment later, as a person would click).
 * Pause keeps the pieces and ends the asked-for download (its promise says
 * false); Download on the paused file, two seconds later here or by a later
 * op, resumes it and must then finish like any other.
 */
function pause(st: RunState, i: number, c: number, downloadAgain: boolean): string {
  const peer = st.peers[i]!;
  const engine = peer.engine!;
  const fileId = st.contents[c]!.fileId;
  const viewOf = () => engine.getState().files.find((f) => f.meta.id === fileId);
  const status = viewOf()?.status;
  if (status === 'complete' || status === 'paused') return `skipped: ${status}`;
  if (status !== 'downloading' && status !== 'manifest') callDownload(st, i, c);
  const stop = engine.subscribe(() => {
    const v = viewOf();
    if (peer.engine !== engine || !v || v.status === 'complete') return stop();
    if (v.status !== 'downloading' || v.bytesDone === 0) return;
    stop();
    st.clock.setTimeout(() => {
      if (peer.engine !== engine || viewOf()?.status !== 'downloading') return;
      st.log.push(`t=${(st.clock.now() / 1000).toFixed(1)}s p${i} paused c${c} at ${viewOf()!.bytesDone} bytes`);
      st.wanted.get(i)?.delete(c);
      engine.pause(fileId);
      if (downloadAgain) st.clock.setTimeout(() => peer.engine === engine && callDownload(st, i, c), 2_000);
    }, 0);
  });
  return `was ${status}`;
}
