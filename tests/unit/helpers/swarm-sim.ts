import { createHash } from 'node:crypto';
import { MAX_UNSTORED } from '../../../src/app/download.ts';
import { PIECES_IN_FLIGHT, PIECES_IN_FLIGHT_PER_PEER } from '../../../src/app/uploader.ts';
import { Bitfield } from '../../../src/core/bitfield.ts';
import { Availability } from '../../../src/core/swarm/availability.ts';
import { PieceScheduler } from '../../../src/core/swarm/scheduler.ts';
import { UploadQueue } from '../../../src/core/swarm/upload-queue.ts';
import { mulberry32 } from './random.ts';

/**
 * A deterministic discrete-event swarm: virtual milliseconds, one event queue,
 * no timers. The real PieceScheduler, Availability, UploadQueue and Bitfield
 * make every decision; this file only plays the network and storage, and
 * drives them the way src/app/download.ts, session.ts, engine.ts and
 * uploader.ts do: BITFIELD/HAVE into the receiver's Availability, fill after
 * each event, progress per chunk, completed() then a later store that sets
 * the live `have` bit and settles, tick every second, removePeer on close,
 * endgame cancels.
 */
const FILE = 'sim-file';
const TICK_MS = 1_000; // the engine's tick
const MAX_STRIKES = 3; // the engine's bad pieces before a ban
const UPLOADS_TO_US_MS = 10_000; // the engine's "sent us data recently"
const NOBODY = new Set<string>(); // no catalogue here: every holder says what it holds in BITFIELD/HAVE

/** When a behaviour starts: a virtual time, a share of the swarm's progress, or once others hold every piece. */
export type Trigger = { atMs: number } | { atProgress: number } | { whenOthersHoldAll: true };

export interface PeerSpec {
  id: string;
  /** Upload capacity in bytes per second, shared by everyone this peer serves. */
  upBps: number;
  /** One-way access latency; a link's delay is the sum of both ends'. */
  latencyMs: number;
  /** Pieces held at the start; a peer that lacks any downloads the rest. */
  holds?: 'all' | readonly number[];
  joinsAtMs?: number;
  leaves?: Trigger;
  /** Stops sending and answering but stays connected: only stall detection helps. */
  stalls?: Trigger;
  /** Flips a bit in every piece it sends. */
  corrupt?: boolean;
}

export interface SimOptions {
  peers: PeerSpec[];
  /** The file; chunkSize is the DATA frame, so progress() is per chunk as the app's is per 64 KiB frame. */
  pieceCount?: number; pieceSize?: number; chunkSize?: number;
  seed?: number;
  /** A run that cannot finish ends here with `finished: false` instead of hanging. */
  maxTimeMs?: number; maxEvents?: number;
  /** How long storage takes to write a verified piece (the library's storePiece); 0 still answers after queued events. */
  storeMs?: number;
}

export interface PeerResult {
  id: string; downloader: boolean; upBps: number; finishedAtMs: number | null;
  /** SHA-256 of the concatenated pieces equals the original file's. */
  exact: boolean;
  /** duplicatePieces: whole pieces that arrived when already held (as download.ts counts them). */
  piecesReceived: number; duplicatePieces: number;
  /** Received and thrown away: cancelled endgame copies, late data, duplicates. */
  wastedBytes: number;
  badPieces: number; badFrom: Record<string, number>; banned: string[];
  /** Stored pieces that differ from the original bytes (not hashes): must stay 0. */
  unverifiedStored: number;
  /** Data the app's Session would ban the sender for: unrequested (and not cancelled), or a chunk twice. */
  protocolErrors: number;
  /** Requests for a piece already stored or verified and being stored: must stay 0. */
  requestsForHeld: number;
  /** Requests scheduler.tick() released, by the peer they were stuck at. */
  releasedByTick: Record<string, number>;
  outstandingAtEnd: Record<string, number>;
  requests: { atMs: number; peer: string; piece: number }[];
  uploadedBytes: number;
}

/** coverage: pieces held by at least one other online peer at that moment. */
export interface SimLogEntry {
  atMs: number; peer: string; what: 'joined' | 'left' | 'stalled'; swarmProgress: number; coverage: number; finishedDownloaders: number;
}

export interface SimResult {
  finished: boolean; timeMs: number; events: number; pieceCount: number; pieceSize: number; peers: PeerResult[]; log: SimLogEntry[];
}

type Msg =
  | { type: 'bitfield'; bits: Uint8Array }
  | { type: 'have' | 'request' | 'cancel'; piece: number }
  | { type: 'data'; piece: number; offset: number; bytes: Uint8Array };

interface Job { to: string; piece: number; offset: number }

interface Peer {
  spec: PeerSpec;
  state: 'waiting' | 'online' | 'stalled' | 'gone';
  /** The library's live bitfield: set only once a piece is stored; the scheduler reads it. */
  have: Bitfield;
  pieces: (Uint8Array | undefined)[];
  /** What every linked peer told us it holds (engine.ts's one record). */
  availability: Availability;
  sched: PieceScheduler | null;
  /** Verified pieces not yet stored (Download.unstored). */
  unstored: number;
  queue: UploadQueue;
  /** Pieces being written, a chunk each in turn, so the uplink is shared. */
  sending: Job[];
  uplinkBusy: boolean;
  links: Map<string, { open: boolean; delayMs: number }>;
  /** remote -> piece -> chunks so far (the PieceAssembler); a cancel drops the entry. */
  assembling: Map<string, Map<number, { buf: Uint8Array | null; offsets: Set<number> }>>;
  /** `${remote}:${piece}` cancelled and not asked again: Session ignores their late data. */
  cancelled: Set<string>;
  strikes: Map<string, number>;
  lastDataFrom: Map<string, number>;
  r: PeerResult;
}

/** Sorted by time descending, so pop() is the earliest; equal times run in insertion order. */
class EventQueue {
  private items: { at: number; run: () => void }[] = [];
  push(at: number, run: () => void): void {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid]!.at > at) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, { at, run });
  }
  pop = () => this.items.pop();
}

const sha256 = (...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

/** Seeded bytes, piece hashes and the whole file's hash, made once per shape: scenarios reuse them. */
interface SimFile { pieces: Uint8Array[]; hashes: string[]; sha256: string }
const files = new Map<string, SimFile>();
function fileFor(seed: number, pieceCount: number, pieceSize: number) {
  const key = `${seed}:${pieceCount}:${pieceSize}`;
  if (!files.has(key)) {
    const random = mulberry32(seed);
    const words = new Uint32Array((pieceCount * pieceSize) / 4);
    for (let i = 0; i < words.length; i++) words[i] = random() * 2 ** 32;
    const bytes = new Uint8Array(words.buffer);
    const pieces = Array.from({ length: pieceCount }, (_, i) => bytes.subarray(i * pieceSize, (i + 1) * pieceSize));
    files.set(key, { pieces, hashes: pieces.map((p) => sha256(p)), sha256: sha256(...pieces) });
  }
  return files.get(key)!;
}

export function runSwarm(opts: SimOptions): SimResult {
  return new Swarm(opts).run();
}

class Swarm {
  private readonly n: number;
  private readonly size: number;
  private readonly chunk: number;
  private readonly file: SimFile;
  private readonly peers: Peer[];
  private readonly byId = new Map<string, Peer>();
  private readonly queue = new EventQueue();
  private readonly log: SimLogEntry[] = [];
  private now = 0;
  private events = 0;

  constructor(private readonly opts: SimOptions) {
    const seed = opts.seed ?? 1;
    this.n = opts.pieceCount ?? 160;
    this.size = opts.pieceSize ?? 16 * 1024;
    this.chunk = opts.chunkSize ?? 4 * 1024;
    this.file = fileFor(seed, this.n, this.size);
    this.peers = opts.peers.map((spec, i) => this.makePeer(spec, mulberry32(seed * 1000 + i)));
    for (const p of this.peers) this.byId.set(p.spec.id, p);
  }

  run(): SimResult {
    for (const p of this.peers) {
      if (p.spec.joinsAtMs === undefined) this.join(p);
      else this.queue.push(p.spec.joinsAtMs, () => this.join(p));
      if (p.spec.leaves && 'atMs' in p.spec.leaves) this.queue.push(p.spec.leaves.atMs, () => this.setState(p, 'gone'));
      if (p.spec.stalls && 'atMs' in p.spec.stalls) this.queue.push(p.spec.stalls.atMs, () => this.setState(p, 'stalled'));
    }
    this.queue.push(TICK_MS, () => this.tick());
    while (!this.allDone()) {
      const e = this.queue.pop();
      if (!e || e.at > (this.opts.maxTimeMs ?? 600_000) || this.events >= (this.opts.maxEvents ?? 500_000)) break;
      this.now = e.at;
      this.events++;
      e.run();
    }
    return this.result();
  }

  private makePeer(spec: PeerSpec, random: () => number): Peer {
    const have = spec.holds === 'all' ? Bitfield.full(this.n) : new Bitfield(this.n);
    for (const i of spec.holds === 'all' ? [] : (spec.holds ?? [])) have.set(i);
    const links: Peer['links'] = new Map();
    const availability = new Availability({ announcers: () => NOBODY, linked: (peer) => links.get(peer)?.open === true });
    // As in download.ts: the scheduler reads the library's bitfield and the availability record, and copies neither.
    const sched = have.complete ? null : new PieceScheduler(this.n, this.size, have, availability.view(FILE, this.n), random);
    return {
      spec, state: 'waiting', have, pieces: this.file.pieces.map((piece, i) => (have.get(i) ? piece : undefined)),
      availability, sched, unstored: 0, queue: new UploadQueue(), sending: [], uplinkBusy: false, links, assembling: new Map(),
      strikes: new Map(), lastDataFrom: new Map(), cancelled: new Set(),
      r: {
        id: spec.id, downloader: sched !== null, upBps: spec.upBps, finishedAtMs: null, exact: false, piecesReceived: 0,
        duplicatePieces: 0, wastedBytes: 0, badPieces: 0, badFrom: {}, unverifiedStored: 0, protocolErrors: 0, requestsForHeld: 0, banned: [],
        releasedByTick: {}, outstandingAtEnd: {}, requests: [], uploadedBytes: 0,
      },
    };
  }

  private allDone(): boolean {
    return this.peers.every((p) => !p.sched || p.r.finishedAtMs !== null || p.state === 'gone' || p.state === 'stalled');
  }

  private join(p: Peer): void {
    p.state = 'online';
    this.record(p, 'joined');
    for (const q of this.peers) {
      if (q === p || q.state === 'waiting' || q.state === 'gone' || q.r.banned.includes(p.spec.id)) continue;
      const link = { open: true, delayMs: p.spec.latencyMs + q.spec.latencyMs };
      p.links.set(q.spec.id, link);
      q.links.set(p.spec.id, link);
      // Both sides say what they hold, if anything (engine.ts's onPeerOpen; a seeder sends its full bitfield).
      if (p.have.count > 0) this.send(p, q, { type: 'bitfield', bits: p.have.bytes.slice() });
      if (q.have.count > 0) this.send(q, p, { type: 'bitfield', bits: q.have.bytes.slice() });
    }
  }

  /** Leaving closes every link; stalling closes none, so nobody gets a close to react to. */
  private setState(p: Peer, state: 'gone' | 'stalled'): void {
    if (p.state !== 'online') return;
    p.state = state;
    this.record(p, state === 'gone' ? 'left' : 'stalled');
    if (state === 'gone') for (const id of [...p.links.keys()]) this.disconnect(p, this.byId.get(id)!);
  }

  private disconnect(a: Peer, b: Peer): void {
    a.links.get(b.spec.id)!.open = false;
    this.closeSide(a, b.spec.id);
    this.closeSide(b, a.spec.id);
  }

  /** The engine's onPeerClose: availability and uploader forget the peer, then download.peerGone (removePeer, fillAll). */
  private closeSide(p: Peer, remote: string): void {
    p.links.delete(remote);
    p.availability.removePeer(remote);
    p.queue.removePeer(remote);
    p.sending = p.sending.filter((j) => j.to !== remote);
    p.assembling.delete(remote);
    p.sched?.removePeer(remote);
    this.fillAll(p);
  }

  private send(from: Peer, to: Peer, m: Msg): void {
    const link = from.links.get(to.spec.id);
    // A closed link loses what was in flight; a stalled peer hears nothing.
    if (link) this.queue.push(this.now + link.delayMs, () => link.open && to.state === 'online' && this.receive(to, from, m));
  }

  private receive(p: Peer, from: Peer, m: Msg): void {
    const id = from.spec.id;
    if (m.type === 'data') return this.onData(p, from, m.piece, m.offset, m.bytes);
    if (m.type === 'cancel') return p.queue.cancel(id, FILE, m.piece); // a piece being written still goes out, as in Uploader
    if (m.type === 'request') {
      // Peers only ask for what was advertised and nobody drops pieces, so no REJECT; nor a flood (pipelines <= 24).
      p.queue.enqueue({ peer: id, fileId: FILE, piece: m.piece });
      return this.pump(p);
    }
    // Session: recorded whether or not we download the file, then Download.peerUpdated.
    if (m.type === 'bitfield') p.availability.setBitfield(id, FILE, m.bits);
    else p.availability.setHave(id, FILE, m.piece);
    this.fill(p, id);
  }

  /** Uploader.pump: take jobs round-robin (UploadQueue.next) while there is room in flight. */
  private pump(p: Peer): void {
    const inFlightTo = (peer: string) => p.sending.filter((j) => j.to === peer).length;
    while (p.sending.length < PIECES_IN_FLIGHT) {
      const job = p.queue.next(
        (peer) => inFlightTo(peer) >= PIECES_IN_FLIGHT_PER_PEER,
        (peer) => this.now - (p.lastDataFrom.get(peer) ?? -Infinity) < UPLOADS_TO_US_MS,
      );
      if (!job) break;
      p.sending.push({ to: job.peer, piece: job.piece, offset: 0 });
    }
    if (!p.uplinkBusy) this.sendChunk(p);
  }

  /** One chunk of the first job on the wire, taking chunk/bandwidth; then that job goes to the back. */
  private sendChunk(p: Peer): void {
    const job = p.sending[0];
    if (!job) return;
    let bytes = p.pieces[job.piece]!.subarray(job.offset, job.offset + this.chunk);
    if (p.spec.corrupt && job.offset === 0) {
      bytes = bytes.slice(); // corrupt a copy, never the sender's stored piece
      bytes[0]! ^= 0x01;
    }
    p.uplinkBusy = true;
    this.queue.push(this.now + (bytes.length * 1000) / p.spec.upBps, () => {
      p.uplinkBusy = false;
      if (p.state !== 'online') return; // left or stalled mid-piece
      const at = p.sending.indexOf(job);
      if (at >= 0) { // else the peer it was for has gone
        p.sending.splice(at, 1);
        this.send(p, this.byId.get(job.to)!, { type: 'data', piece: job.piece, offset: job.offset, bytes });
        p.r.uploadedBytes += bytes.length;
        job.offset += bytes.length;
        if (job.offset < this.size) p.sending.push(job);
      }
      this.pump(p);
    });
  }

  private downloading(p: Peer): boolean {
    return p.sched !== null && p.r.finishedAtMs === null && p.state === 'online';
  }

  /** Download.fill: nothing while storage is behind, nor to a peer without an open link. */
  private fill(p: Peer, remote: string): void {
    if (!this.downloading(p) || p.unstored >= MAX_UNSTORED || !p.links.get(remote)?.open) return;
    for (const piece of p.sched!.fill(remote, this.now)) {
      if (p.have.get(piece) || p.sched!.isArriving(piece)) p.r.requestsForHeld++;
      if (!p.assembling.has(remote)) p.assembling.set(remote, new Map());
      p.assembling.get(remote)!.set(piece, { buf: null, offsets: new Set() });
      p.cancelled.delete(`${remote}:${piece}`);
      p.r.requests.push({ atMs: this.now, peer: remote, piece });
      this.send(p, this.byId.get(remote)!, { type: 'request', piece });
    }
  }

  /** Download.fillAll: every linked peer the availability record lists for the file. */
  private fillAll(p: Peer): void {
    if (!p.sched) return;
    for (const id of p.availability.peersWith(FILE)) this.fill(p, id);
  }

  /** Session.cancel: tell the peer, and ignore what of the piece is still on the way. */
  private cancel(p: Peer, remote: string, piece: number): void {
    p.assembling.get(remote)?.delete(piece);
    p.cancelled.add(`${remote}:${piece}`);
    this.send(p, this.byId.get(remote)!, { type: 'cancel', piece });
  }

  private onData(p: Peer, from: Peer, piece: number, offset: number, bytes: Uint8Array): void {
    const id = from.spec.id;
    const asm = p.assembling.get(id)?.get(piece);
    const unwanted = asm ? asm.offsets.has(offset) : !p.cancelled.has(`${id}:${piece}`);
    if (unwanted) p.r.protocolErrors++; // the app would ban `from` here (ERR_CHUNK / ERR_UNSOLICITED)
    if (!asm || unwanted || !this.downloading(p)) {
      p.r.wastedBytes += bytes.length; // dropped without crediting progress, as Session.onData does
      return;
    }
    p.lastDataFrom.set(id, this.now);
    asm.buf ??= new Uint8Array(this.size);
    asm.buf.set(bytes, offset);
    asm.offsets.add(offset);
    p.sched!.progress(id, bytes.length, this.now);
    if (asm.offsets.size < Math.ceil(this.size / this.chunk)) return;
    p.assembling.get(id)!.delete(piece);
    this.onPiece(p, from, piece, asm.buf);
  }

  /** Download.onPiece: a duplicate, a bad piece (strike), or verified, then stored and announced. */
  private onPiece(p: Peer, from: Peer, piece: number, data: Uint8Array): void {
    const s = p.sched!;
    const id = from.spec.id;
    p.r.piecesReceived++;
    if (p.have.get(piece) || s.isArriving(piece)) {
      p.r.duplicatePieces++;
      p.r.wastedBytes += data.length;
      s.failed(id, piece);
      return this.fill(p, id);
    }
    if (sha256(data) !== this.file.hashes[piece]) {
      p.r.badPieces++;
      p.r.badFrom[id] = (p.r.badFrom[id] ?? 0) + 1;
      s.failed(id, piece);
      this.strike(p, from);
      return this.fillAll(p);
    }
    for (const other of s.completed(id, piece)) this.cancel(p, other, piece);
    p.unstored++;
    this.fillAll(p);
    this.queue.push(this.now + (this.opts.storeMs ?? 0), () => this.stored(p, piece, data));
  }

  /** Download.store once storage answers: the library sets the bit, the scheduler settles, the room hears a HAVE. */
  private stored(p: Peer, piece: number, data: Uint8Array): void {
    if (!Buffer.from(data).equals(this.file.pieces[piece]!)) p.r.unverifiedStored++;
    p.have.set(piece);
    p.pieces[piece] = data;
    p.sched!.settled(piece);
    p.unstored--;
    if (this.downloading(p)) {
      for (const remote of p.links.keys()) this.send(p, this.byId.get(remote)!, { type: 'have', piece });
      if (p.have.complete) p.r.finishedAtMs = this.now;
    }
    this.checkTriggers();
    if (p.unstored === MAX_UNSTORED - 1) this.fillAll(p); // storage caught up: resume requesting
  }

  private strike(p: Peer, from: Peer): void {
    const strikes = (p.strikes.get(from.spec.id) ?? 0) + 1;
    p.strikes.set(from.spec.id, strikes);
    if (strikes < MAX_STRIKES) return;
    p.r.banned.push(from.spec.id);
    this.disconnect(p, from);
  }

  /** The engine's tick: keep-alives from peers that owe us pieces, then Download.tick (release, cancel, refill). */
  private tick(): void {
    for (const p of this.peers.filter((q) => this.downloading(q))) {
      for (const q of this.peers) {
        const owes = q.state === 'online' && (q.queue.has(p.spec.id) || q.sending.some((j) => j.to === p.spec.id));
        if (owes && q.links.get(p.spec.id)?.open) p.sched!.heard(q.spec.id, this.now);
      }
      for (const { peer, pieces } of p.sched!.tick(this.now)) {
        p.r.releasedByTick[peer] = (p.r.releasedByTick[peer] ?? 0) + pieces.length;
        for (const piece of pieces) this.cancel(p, peer, piece);
      }
      this.fillAll(p);
    }
    this.queue.push(this.now + TICK_MS, () => this.tick());
  }

  /** Progress-based triggers only change when a piece is stored, so that is when they are checked. */
  private checkTriggers(): void {
    for (const p of this.peers) {
      const { leaves, stalls } = p.spec;
      if (leaves && this.fired(p, leaves)) this.setState(p, 'gone');
      else if (stalls && this.fired(p, stalls)) this.setState(p, 'stalled');
    }
  }

  private fired(p: Peer, t: Trigger): boolean {
    if (p.state !== 'online') return false;
    if ('atProgress' in t) return this.swarmProgress() >= t.atProgress;
    return 'whenOthersHoldAll' in t && this.coverageWithout(p) === this.n;
  }

  /** Share of all downloaders' pieces held so far. */
  private swarmProgress(): number {
    const downloaders = this.peers.filter((p) => p.sched);
    return downloaders.reduce((sum, p) => sum + p.have.count, 0) / (downloaders.length * this.n);
  }

  private coverageWithout(p: Peer): number {
    const others = this.peers.filter((q) => q !== p && q.state === 'online');
    let covered = 0;
    for (let i = 0; i < this.n; i++) if (others.some((q) => q.have.get(i))) covered++;
    return covered;
  }

  private record(p: Peer, what: SimLogEntry['what']): void {
    const finishedDownloaders = this.peers.filter((q) => q.sched && q.r.finishedAtMs !== null).length;
    this.log.push({ atMs: this.now, peer: p.spec.id, what, swarmProgress: this.swarmProgress(), coverage: this.coverageWithout(p), finishedDownloaders });
  }

  private result(): SimResult {
    for (const p of this.peers) {
      p.r.exact = p.have.complete && sha256(...p.pieces.map((x) => x!)) === this.file.sha256;
      for (const id of p.sched?.peerIds() ?? []) p.r.outstandingAtEnd[id] = p.sched!.outstanding(id).length;
    }
    const { n: pieceCount, size: pieceSize, now: timeMs, events, log } = this;
    return { finished: this.allDone(), timeMs, events, pieceCount, pieceSize, peers: this.peers.map((p) => p.r), log };
  }
}

/** A table of the run, for t.diagnostic. Speeds in kB/s (1000), volumes in KiB. */
export function summary(res: SimResult): string {
  const kib = (b: number) => (b / 1024).toFixed(0);
  const secs = (ms: number) => (ms / 1000).toFixed(2);
  const cols = ['peer', 'up kB/s', 'done s', 'exact', 'recv', 'dup', 'wasted pcs', 'bad', 'banned', 'released', 'sent KiB'];
  const rows = res.peers.map((p) => [
    p.id, (p.upBps / 1000).toFixed(0), p.downloader ? (p.finishedAtMs === null ? '-' : secs(p.finishedAtMs)) : 'seed',
    p.downloader ? String(p.exact) : '', String(p.piecesReceived), String(p.duplicatePieces), (p.wastedBytes / res.pieceSize).toFixed(1),
    String(p.badPieces), p.banned.join(',') || '-', String(Object.values(p.releasedByTick).reduce((a, b) => a + b, 0)), kib(p.uploadedBytes),
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
  const head = `finished=${res.finished} t=${secs(res.timeMs)}s events=${res.events} pieces=${res.pieceCount}x${kib(res.pieceSize)}KiB`;
  const log = res.log.filter((e) => e.atMs > 0).map((e) =>
    `  ${secs(e.atMs)}s ${e.peer} ${e.what}: progress ${(e.swarmProgress * 100).toFixed(0)}%, others hold ${e.coverage}/${res.pieceCount}, ${e.finishedDownloaders} done`);
  return [head, line(cols), ...rows.map(line), ...log].join('\n');
}
