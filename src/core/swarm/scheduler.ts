import type { Bitfield } from '../bitfield.ts';
import type { PieceView } from './availability.ts';

/**
 * Decides which piece to request from which peer, for one file. Pure: the
 * caller reports events (piece arrived, stored, failed, progress, tick) and
 * asks `fill(peer)` for requests to send. It keeps no copy of who holds what:
 * `have` is the library's own bitfield of our stored pieces (a piece lost from
 * storage is simply missing again) and `view` reads the availability record.
 * Its own facts are only the requests in flight and each peer's pace.
 *
 * - Rarest first with random tie-breaks (BitTorrent), so rare pieces spread,
 *   but a tie is broken per run of `runPieces` aligned pieces, not per piece:
 *   the pieces of one run go together and in order (as BitTorrent fetches a
 *   piece's blocks, rarest first between pieces), so a download stores
 *   consecutive pieces, which the store keeps as one record
 *   (src/storage/runs.ts: one IndexedDB blob file per run, not per piece).
 *   A file has at least MIN_RUNS runs (a small file's runs are short, down to
 *   one piece), or downloaders of one seeder would fetch the same runs at once
 *   and have little to trade (tests/unit/swarm-sim.test.ts: with 4 runs of 8
 *   in a 32-piece file, 5 downloaders took 1.4x as long).
 * - A per-peer pipeline that grows with that peer's measured rate, so a fast
 *   peer is kept busy and a slow one is not handed the whole file.
 * - Stall detection from our own clock, separating "gone" from "slow". ICE
 *   takes ~16 s to notice a vanished peer; we do not wait for it:
 *   - not heard from at all (no frame, not even a keep-alive) for STALL_MS
 *     while it has our requests: it is gone or stuck; its requests go to
 *     others and it is deprioritised while anyone else has what we lack;
 *   - heard from but no data for SNUB_MS: it is alive but not serving us
 *     (BitTorrent's snubbing); its requests go to others too.
 *   A slow but honest peer shared by many downloaders keeps sending
 *   keep-alives, so it keeps its requests; endgame covers the tail.
 * - Endgame: when every missing piece is already requested, idle peers may
 *   duplicate requests that have been outstanding for ENDGAME_AFTER_MS (once
 *   each); the first copy wins, the other is cancelled. Waiting a moment keeps
 *   a small file, all of it requested at once, from being fetched twice.
 * - Playhead first (setFocus): while a player reads the file, the missing
 *   pieces of a window of FOCUS_WINDOW_BYTES from the byte it reads go first,
 *   in order, so playback starts and resumes soon; the rest stays rarest first,
 *   so the swarm keeps spreading rare pieces. Seeking moves the focus; clearing
 *   it restores plain rarest first.
 */
export const MIN_PIPELINE = 2;
export const MAX_PIPELINE = 24;
/** Pipeline depth covers this much time at the peer's measured rate. */
export const PIPELINE_SECONDS = 0.5;
export const STALL_MS = 8_000;
export const SNUB_MS = 60_000;
/** How long a stalled peer gets no fresh requests while others can serve. */
export const STALL_PENALTY_MS = 30_000;
export const ENDGAME_AFTER_MS = 1_000;
/**
 * How far ahead of the playhead pieces are fetched in order: ~3 s of a
 * 12 Mbit/s video, enough to cover a fast peer's pipeline twice over, small
 * enough that the rest of the swarm still gets rarest first.
 */
export const FOCUS_WINDOW_BYTES = 4 * 1024 * 1024;
/** The longest picking run: PieceWriter's GATHER, written as one record of 4 MiB. */
export const RUN_PIECES = 16;
/** Runs per file at least, so downloaders starting at random runs rarely start at the same one. */
export const MIN_RUNS = 32;
/** Weight of the newest sample in the rate average. */
const RATE_ALPHA = 0.3;

export interface PeerState {
  outstanding: Set<number>;
  /** Bytes per second, smoothed. */
  rate: number;
  lastProgress: number;
  /** Last frame of any kind from this peer. */
  lastHeard: number;
  lastSample: number;
  bytesSinceSample: number;
  penalisedUntil: number;
}

export interface Released {
  peer: string;
  pieces: number[];
}

export class PieceScheduler {
  private peers = new Map<string, PeerState>();
  /** Verified and being stored: neither to request again nor yet in `have`. */
  private arriving = new Set<number>();
  /** piece -> peers it is requested from (more than one only in endgame). */
  private requested = new Map<number, Set<string>>();
  /** piece -> when it was first requested (of its current requests). */
  private requestedAt = new Map<number, number>();
  /** First piece of the playhead window, or null when nobody is playing the file. */
  private focusPiece: number | null = null;
  /** Each run's random tie-break in [0, 1), drawn when first needed. */
  private runTies = new Map<number, number>();
  /**
   * Every piece in picking order (by rank), and the rarity counts and focus it
   * was sorted for. A fill walks it from the front instead of ranking and
   * sorting every missing piece again: the order changes only when rarity
   * does (the view's counts are a new array then) or the focus moves. A file
   * of one-piece runs (under MIN_RUNS * 2 pieces) is sorted on every fill, as
   * before runs, so each fill draws fresh random ties: small files are where
   * the swarm simulation's downloaders trade most, and their few pieces cost
   * little to sort.
   */
  private order: Uint32Array | null = null;
  private orderCounts: Uint16Array | null = null;
  private orderFocus: number | null = null;
  /** Pieces per picking run for this file. */
  readonly runPieces: number;
  /** Pieces in the playhead window. */
  private readonly focusWindow: number;

  constructor(
    readonly pieceCount: number,
    readonly pieceSize: number,
    /** The library's bitfield of stored pieces: read here, written only by the library. */
    readonly have: Bitfield,
    private readonly view: PieceView,
    private readonly random: () => number,
  ) {
    this.runPieces = Math.min(RUN_PIECES, Math.max(1, Math.floor(pieceCount / MIN_RUNS)));
    this.focusWindow = Math.max(2, Math.ceil(FOCUS_WINDOW_BYTES / pieceSize));
  }

  get done(): boolean {
    return this.have.complete;
  }

  /** Whether we hold the piece or it is verified and on its way to storage. */
  private haveOrArriving(piece: number): boolean {
    return this.have.get(piece) || this.arriving.has(piece);
  }

  /** A player reads from `byteOffset` (null: none). Requests in flight stay: withdrawing them wastes what is on its way. */
  setFocus(byteOffset: number | null): void {
    if (byteOffset === null || !Number.isFinite(byteOffset)) this.focusPiece = null;
    else this.focusPiece = Math.min(this.pieceCount - 1, Math.max(0, Math.floor(byteOffset / this.pieceSize)));
  }

  get focus(): number | null {
    return this.focusPiece;
  }

  peerIds(): string[] {
    return [...this.peers.keys()];
  }

  peer(id: string): Readonly<PeerState> | undefined {
    return this.peers.get(id);
  }

  /** Starts tracking requests to `peer` (done by fill() too). */
  addPeer(peer: string, now: number): PeerState {
    const existing = this.peers.get(peer);
    if (existing) return existing;
    const state: PeerState = {
      outstanding: new Set(),
      rate: 0,
      lastProgress: now,
      lastHeard: now,
      lastSample: now,
      bytesSinceSample: 0,
      penalisedUntil: 0,
    };
    this.peers.set(peer, state);
    return state;
  }

  /** The peer is gone; its outstanding pieces become requestable again. */
  removePeer(peer: string): number[] {
    const state = this.peers.get(peer);
    if (!state) return [];
    const released = [...state.outstanding];
    for (const piece of released) this.unrequest(peer, piece);
    this.peers.delete(peer);
    return released;
  }

  /** Requests to send to `peer` now, to keep its pipeline full. */
  fill(peer: string, now: number): number[] {
    const state = this.addPeer(peer, now);
    if (state.penalisedUntil > now && this.othersCanServe(peer, now)) return [];
    const room = this.pipelineDepth(state) - state.outstanding.size;
    if (room <= 0) return [];
    const picks = this.pickRarest(peer, state, room, now, false);
    if (picks.length < room) picks.push(...this.pickRarest(peer, state, Math.min(room - picks.length, 2), now, true));
    if (state.outstanding.size === 0 && picks.length > 0) {
      // The stall clocks and the rate sample start now: time spent idle is not the peer's slowness.
      state.lastProgress = now;
      state.lastHeard = now;
      state.lastSample = now;
      state.bytesSinceSample = 0;
    }
    for (const piece of picks) this.request(peer, piece, now);
    return picks;
  }

  /** Any frame from `peer`, keep-alives included: it is still there. */
  heard(peer: string, now: number): void {
    const state = this.peers.get(peer);
    if (state) state.lastHeard = now;
  }

  /** Data arrived from `peer` (any chunk): it is alive and serving, and it feeds the rate estimate. */
  progress(peer: string, bytes: number, now: number): void {
    const state = this.peers.get(peer);
    if (!state) return;
    state.lastProgress = now;
    state.lastHeard = now;
    state.bytesSinceSample += bytes;
    const elapsed = now - state.lastSample;
    if (elapsed >= 250) {
      const sample = (state.bytesSinceSample * 1000) / elapsed;
      state.rate = state.rate === 0 ? sample : state.rate * (1 - RATE_ALPHA) + sample * RATE_ALPHA;
      state.lastSample = now;
      state.bytesSinceSample = 0;
    }
  }

  /**
   * A verified piece arrived and goes to storage. Returns peers whose duplicate
   * requests (endgame) should be cancelled. Call settled() once storage has answered.
   */
  completed(peer: string, piece: number): string[] {
    this.arriving.add(piece);
    const others = [...(this.requested.get(piece) ?? [])].filter((p) => p !== peer);
    for (const p of [...(this.requested.get(piece) ?? [])]) this.unrequest(p, piece);
    return others;
  }

  /** The piece reached storage (the library has set its bit) or could not: either way it is no longer arriving. */
  settled(piece: number): void {
    this.arriving.delete(piece);
  }

  /** Whether a piece is verified and waiting for storage. */
  isArriving(piece: number): boolean {
    return this.arriving.has(piece);
  }

  /** The piece failed verification or the peer refused it: ask someone else (the caller records a refusal). */
  failed(peer: string, piece: number): void {
    this.unrequest(peer, piece);
  }

  /** Releases the requests of peers gone silent (STALL_MS) or not serving us (SNUB_MS). */
  tick(now: number): Released[] {
    const released: Released[] = [];
    for (const [peer, state] of this.peers) {
      if (state.outstanding.size === 0) continue;
      const silent = now - state.lastHeard >= STALL_MS;
      if (!silent && now - state.lastProgress < SNUB_MS) continue;
      const pieces = [...state.outstanding];
      for (const piece of pieces) this.unrequest(peer, piece);
      state.rate = 0;
      state.penalisedUntil = now + STALL_PENALTY_MS;
      state.lastProgress = now;
      state.lastHeard = now;
      released.push({ peer, pieces });
    }
    return released;
  }

  outstanding(peer: string): readonly number[] {
    return [...(this.peers.get(peer)?.outstanding ?? [])];
  }

  private pipelineDepth(state: PeerState): number {
    const byRate = MIN_PIPELINE + Math.floor((state.rate * PIPELINE_SECONDS) / this.pieceSize);
    return Math.min(MAX_PIPELINE, byRate);
  }

  /** Whether an unpenalised peer other than `peer` holds a piece we still lack. */
  private othersCanServe(peer: string, now: number): boolean {
    for (const id of this.view.peers()) {
      if (id === peer || (this.peers.get(id)?.penalisedUntil ?? 0) > now) continue;
      for (let i = 0; i < this.pieceCount; i++) if (!this.haveOrArriving(i) && this.view.holds(id, i)) return true;
    }
    return false;
  }

  /**
   * Up to `count` pieces the peer has and we lack, rarest first. Normally only
   * unrequested pieces; in endgame, pieces requested from others but not this peer.
   */
  private pickRarest(peer: string, state: PeerState, count: number, now: number, endgame: boolean): number[] {
    if (count <= 0) return [];
    const counts = this.view.counts();
    const picks: number[] = [];
    // Cheap checks first: most pieces walked past are held already.
    for (const i of this.pickingOrder(counts)) {
      if (this.haveOrArriving(i) || state.outstanding.has(i)) continue;
      const requesters = this.requested.get(i)?.size ?? 0;
      if (!endgame && requesters > 0) continue;
      if (endgame && (requesters !== 1 || now - this.requestedAt.get(i)! < ENDGAME_AFTER_MS)) continue;
      if (!this.view.holds(peer, i)) continue;
      picks.push(i);
      if (picks.length === count) break;
    }
    if (endgame && picks.length > 0 && this.hasUnrequestedMissing(counts)) return [];
    return picks;
  }

  /**
   * All pieces by rank, ties in index order. Sorting every missing piece on
   * each fill built ~1,000 objects per stored piece of a 256 MiB file
   * (BENCHMARKS.md, "store"); this sorts only when rarity or the focus changes.
   */
  private pickingOrder(counts: Uint16Array): Uint32Array {
    const kept = this.runPieces > 1 && this.orderCounts === counts && this.orderFocus === this.focusPiece;
    if (kept && this.order) return this.order;
    const ranks = new Float64Array(this.pieceCount);
    for (let i = 0; i < this.pieceCount; i++) ranks[i] = this.rank(i, counts[i]!);
    const order = new Uint32Array(this.pieceCount);
    for (let i = 0; i < this.pieceCount; i++) order[i] = i;
    order.sort((a, b) => ranks[a]! - ranks[b]! || a - b);
    [this.order, this.orderCounts, this.orderFocus] = [order, counts, this.focusPiece];
    return order;
  }

  /**
   * Lower goes first: the playhead window (at least two pieces) below every
   * rarity (counts are at most 65535), nearest first; then rarest, ties by
   * run at random and in order within a run (2^-40 a piece: below any gap
   * between two runs' draws but the rarest).
   */
  private rank(piece: number, count: number): number {
    const ahead = this.focusPiece === null ? -1 : piece - this.focusPiece;
    if (ahead >= 0 && ahead < this.focusWindow) return ahead - this.focusWindow - 0x10000;
    if (this.runPieces === 1) return count + this.random(); // a fresh draw each time, as before runs
    return count + this.runTie(Math.floor(piece / this.runPieces)) * 0.5 + (piece % this.runPieces) * 2 ** -40;
  }

  private runTie(run: number): number {
    let tie = this.runTies.get(run);
    if (tie === undefined) this.runTies.set(run, (tie = this.random()));
    return tie;
  }

  /** Endgame only starts once nothing missing is left unrequested. */
  private hasUnrequestedMissing(counts: Uint16Array): boolean {
    for (let i = 0; i < this.pieceCount; i++) {
      if (!this.haveOrArriving(i) && !this.requested.has(i) && counts[i]! > 0) return true;
    }
    return false;
  }

  private request(peer: string, piece: number, now: number): void {
    this.peers.get(peer)?.outstanding.add(piece);
    const set = this.requested.get(piece) ?? new Set<string>();
    if (set.size === 0) this.requestedAt.set(piece, now);
    set.add(peer);
    this.requested.set(piece, set);
  }

  private unrequest(peer: string, piece: number): void {
    this.peers.get(peer)?.outstanding.delete(piece);
    const set = this.requested.get(piece);
    if (!set) return;
    set.delete(peer);
    if (set.size > 0) return;
    this.requested.delete(piece);
    this.requestedAt.delete(piece);
  }
}
