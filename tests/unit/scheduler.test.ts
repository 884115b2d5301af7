import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeSources } from './helpers/fake-sources.ts';
import { Bitfield } from '../../src/core/bitfield.ts';
import { RateMeter } from '../../src/core/rate.ts';
import { Availability } from '../../src/core/swarm/availability.ts';
import {
  ENDGAME_AFTER_MS, MAX_PIPELINE, MIN_PIPELINE, PIPELINE_SECONDS, PieceScheduler, STALL_MS, STALL_PENALTY_MS,
} from '../../src/core/swarm/scheduler.ts';
import { MAX_QUEUED_PER_PEER, UploadQueue, type UploadJob } from '../../src/core/swarm/upload-queue.ts';
import { mulberry32 } from './helpers/random.ts';


const PIECE = 256 * 1024;
const FILE = 'f'.repeat(64);
const A = 'peerAAAAAAAAAAAA';
const B = 'peerBBBBBBBBBBBB';
const C = 'peerCCCCCCCCCCCC';

function bits(length: number, pieces: Iterable<number>): Bitfield {
  const b = new Bitfield(length);
  for (const p of pieces) b.set(p);
  return b;
}

const range = (n: number): number[] => [...Array(n).keys()];
const sorted = (xs: readonly number[]): number[] => [...xs].sort((x, y) => x - y);


/**
 * A scheduler wired as download.ts wires it: `have` is the library's live
 * bitfield (set here only on store) and who holds what lives in an Availability.
 */
function scheduler(pieceCount: number, have: Iterable<number> = [], seed = 1) {
  const sources = new FakeSources();
  const availability = new Availability(sources);
  const stored = bits(pieceCount, have);
  const s = new PieceScheduler(pieceCount, PIECE, stored, availability.view(FILE, pieceCount), mulberry32(seed));
  return {
    s, sources, availability, have: stored,
    /** The link opened and the peer sent its BITFIELD. */
    join(peer: string, holds: Bitfield | Iterable<number>, now = 0): void {
      availability.setBitfield(peer, FILE, (holds instanceof Bitfield ? holds : bits(pieceCount, holds)).bytes);
      s.addPeer(peer, now);
    },
    /** A catalogue announcement of the whole file, no BITFIELD. */
    announce(peer: string): void {
      sources.announced.set(FILE, new Set([...sources.announcers(FILE), peer]));
    },
    /** The link closed: the engine forgets the peer everywhere. */
    leave(peer: string): number[] {
      sources.unlinked.add(peer);
      availability.removePeer(peer);
      return s.removePeer(peer);
    },
    /** Download.onPiece then store(): verified, stored (the library sets the bit), settled. Returns the endgame cancels. */
    store(peer: string, piece: number): string[] {
      const cancels = s.completed(peer, piece);
      stored.set(piece);
      s.settled(piece);
      return cancels;
    },
  };
}

describe('Bitfield', () => {
  test('get, set, clear, count and complete', () => {
    const b = new Bitfield(10);
    assert.equal(b.count, 0);
    assert.equal(b.complete, false);
    assert.equal(b.set(3), true);
    assert.equal(b.set(3), false, 'already set');
    assert.equal(b.get(3), true);
    assert.equal(b.get(4), false);
    assert.equal(b.count, 1);
    b.clear(3);
    b.clear(3);
    assert.equal(b.get(3), false);
    assert.equal(b.count, 0);
    for (const i of range(10)) b.set(i);
    assert.equal(b.complete, true);
    assert.equal(Bitfield.full(10).complete, true);
    assert.equal(Bitfield.full(10).count, 10);
  });

  test('bits are most significant first, as in BitTorrent', () => {
    const b = bits(12, [0, 9, 11]);
    assert.deepEqual([...b.bytes], [0b1000_0000, 0b0101_0000]);
  });

  test('out-of-range indexes read as unset and cannot be set', () => {
    const b = new Bitfield(10);
    for (const i of [-1, 10, 16, 1000]) {
      assert.equal(b.set(i), false, `set(${i})`);
      assert.equal(b.get(i), false, `get(${i})`);
    }
    assert.equal(b.count, 0);
    assert.deepEqual([...b.bytes], [0, 0]);
  });

  test('spare bits in a peer-supplied byte array are ignored', () => {
    const b = new Bitfield(10, Uint8Array.from([0xff, 0xff]));
    assert.equal(b.count, 10);
    assert.equal(b.complete, true);
    assert.deepEqual([...b.bytes], [0xff, 0b1100_0000]);
    assert.equal(b.get(10), false);
    assert.equal(b.get(15), false);
  });

  test('extra or missing bytes from a peer neither count nor throw', () => {
    assert.equal(new Bitfield(10, Uint8Array.from([0xff, 0xff, 0xff, 0xff])).count, 10);
    assert.equal(new Bitfield(16, Uint8Array.from([0xff])).count, 8);
    assert.equal(new Bitfield(16, new Uint8Array(0)).count, 0);
    assert.equal(new Bitfield(16, Uint8Array.from([0xff, 0xff])).complete, true);
    assert.equal(new Bitfield(0, Uint8Array.from([0xff])).count, 0);
  });

  test('copies the bytes it is given', () => {
    const source = Uint8Array.from([0x80]);
    const b = new Bitfield(8, source);
    source[0] = 0xff;
    assert.equal(b.count, 1);
    assert.equal(b.get(1), false);
  });
});

describe('PieceScheduler', () => {
  test('requests the rarest piece first', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const w = scheduler(4, [], seed);
      w.join(A, Bitfield.full(4));
      w.join(B, [1, 2, 3]);
      w.join(C, [1, 2, 3]);
      const picks = w.s.fill(A, 0);
      assert.equal(picks.length, MIN_PIPELINE);
      assert.equal(picks[0], 0, `seed ${seed}: piece 0 (1 holder) before pieces held by 3`);
    }
  });

  test('rarity counts announced whole-file holders, and only linked ones', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const w = scheduler(4, [], seed);
      w.announce(A); // no BITFIELD: the catalogue says A shares the whole file
      w.announce(B);
      w.join(C, [0]);
      assert.deepEqual([...w.availability.view(FILE, 4).counts()], [3, 2, 2, 2]);
      w.sources.unlinked.add(B);
      assert.deepEqual([...w.availability.view(FILE, 4).counts()], [2, 1, 1, 1], 'an announcer without a link counts for nothing');
      w.sources.unlinked.delete(B);
      // Piece 0 is held by three, the others by the two announcers: A is asked for those first.
      const picks = w.s.fill(A, 0);
      assert.equal(picks.length, MIN_PIPELINE);
      assert.ok(!picks.includes(0), `seed ${seed}: ${picks} includes the most common piece`);
      assert.deepEqual(w.s.fill(C, 0), [0], 'C holds only piece 0');
    }
  });

  test('never requests a piece the peer lacks or that we already have', () => {
    const random = mulberry32(5);
    for (let round = 0; round < 50; round++) {
      const n = 1 + Math.floor(random() * 60);
      const have = range(n).filter(() => random() < 0.3);
      const w = scheduler(n, have, round);
      const peers = [A, B, C].map((id) => ({ id, has: range(n).filter(() => random() < 0.5) }));
      for (const p of peers) w.join(p.id, p.has);
      for (let i = 0; i < 5; i++) {
        for (const p of peers) {
          for (const piece of w.s.fill(p.id, 0)) {
            assert.ok(p.has.includes(piece), `round ${round}: ${p.id} asked for ${piece} it lacks`);
            assert.ok(!have.includes(piece), `round ${round}: asked for ${piece} we have`);
          }
        }
      }
    }
  });

  test('asks a peer with nothing we need for nothing', () => {
    const w = scheduler(4, [0, 1]);
    w.join(A, [0, 1]);
    assert.deepEqual(w.s.fill(A, 0), []);
    w.availability.setHave(A, FILE, 3);
    assert.deepEqual(w.s.fill(A, 0), [3]);
    assert.deepEqual(w.s.fill('unknown-peer', 0), []);
  });

  test('a piece lost from storage (its bit cleared) is requested again', () => {
    const w = scheduler(4, range(4));
    w.join(A, Bitfield.full(4));
    assert.equal(w.s.done, true);
    assert.deepEqual(w.s.fill(A, 0), []);
    w.have.clear(2); // the library found it missing
    assert.equal(w.s.done, false);
    assert.deepEqual(w.s.fill(A, 0), [2]);
    assert.deepEqual(w.store(A, 2), []);
    assert.equal(w.s.done, true);
    assert.deepEqual(w.s.outstanding(A), []);
  });

  test('a piece being stored (completed, not settled) is never requested again', () => {
    const w = scheduler(3);
    w.join(A, Bitfield.full(3));
    w.join(B, Bitfield.full(3));
    const [piece] = w.s.fill(A, 0);
    assert.deepEqual(w.s.completed(A, piece!), []);
    assert.equal(w.s.isArriving(piece!), true);
    assert.equal(w.have.get(piece!), false, 'the scheduler never sets our bits');
    assert.equal(w.s.done, false);
    // Neither as a fresh request nor as an endgame duplicate, however long storage takes.
    let asked = 0;
    for (const now of [0, ENDGAME_AFTER_MS, 10 * ENDGAME_AFTER_MS]) {
      for (const p of [A, B, C]) {
        const picks = w.s.fill(p, now);
        asked += picks.length;
        assert.ok(!picks.includes(piece!), `${p} asked for the arriving piece at ${now}`);
      }
    }
    assert.ok(asked >= 2, 'the other pieces were asked for, duplicates included');
    w.have.set(piece!);
    w.s.settled(piece!);
    assert.equal(w.s.isArriving(piece!), false);
    assert.ok(!w.s.fill(C, 20 * ENDGAME_AFTER_MS).includes(piece!));
  });

  test('a piece whose store failed (settled without its bit) is requestable again', () => {
    const w = scheduler(2);
    w.join(A, Bitfield.full(2));
    assert.deepEqual(sorted(w.s.fill(A, 0)), [0, 1]);
    w.s.completed(A, 0);
    assert.deepEqual(w.s.fill(A, 0), [], 'arriving');
    w.s.settled(0); // storage answered "not stored"
    assert.deepEqual(w.s.fill(A, 0), [0]);
  });

  test('the pipeline starts at MIN_PIPELINE and grows with the measured rate', () => {
    const { s, join } = scheduler(100);
    join(A, Bitfield.full(100));
    assert.equal(s.fill(A, 0).length, MIN_PIPELINE);
    assert.deepEqual(s.fill(A, 0), [], 'the pipeline is full');
    // 8 pieces a second: half a second of pipeline is 4 more pieces.
    s.progress(A, 8 * PIECE, 1000);
    assert.equal(s.peer(A)!.rate, 8 * PIECE);
    assert.equal(s.fill(A, 1000).length, (8 * PIECE * PIPELINE_SECONDS) / PIECE);
    assert.equal(s.outstanding(A).length, MIN_PIPELINE + 4);
  });

  test('rate samples need at least 250 ms and are smoothed', () => {
    const { s, join } = scheduler(100);
    join(A, Bitfield.full(100));
    s.progress(A, PIECE, 100);
    assert.equal(s.peer(A)!.rate, 0, 'too soon for a sample');
    s.progress(A, PIECE, 250);
    assert.equal(s.peer(A)!.rate, 8 * PIECE, 'two pieces in 250 ms');
    s.progress(A, 0, 1250);
    assert.ok(s.peer(A)!.rate < 8 * PIECE && s.peer(A)!.rate > 0, 'a silent second lowers but does not zero the rate');
  });

  test('the pipeline never exceeds MAX_PIPELINE', () => {
    const { s, join } = scheduler(1000);
    join(A, Bitfield.full(1000));
    s.progress(A, 10_000 * PIECE, 1000);
    assert.equal(s.fill(A, 1000).length, MAX_PIPELINE);
    assert.equal(s.outstanding(A).length, MAX_PIPELINE);
  });

  test('addPeer only starts tracking: calling it again keeps the peer\'s state', () => {
    const { s, join } = scheduler(100);
    join(A, Bitfield.full(100));
    s.progress(A, 8 * PIECE, 1000);
    assert.equal(s.fill(A, 1000).length, MIN_PIPELINE + 4);
    s.addPeer(A, 2000);
    assert.equal(s.peer(A)!.rate, 8 * PIECE);
    assert.equal(s.outstanding(A).length, MIN_PIPELINE + 4);
  });

  test('removePeer releases its outstanding pieces to other peers', () => {
    const w = scheduler(4, [2, 3]);
    w.join(A, [0, 1]);
    w.join(B, [0, 1]);
    assert.deepEqual(sorted(w.s.fill(A, 0)), [0, 1]);
    assert.deepEqual(sorted(w.leave(A)), [0, 1]);
    assert.deepEqual(w.s.peerIds(), [B]);
    assert.deepEqual(sorted(w.s.fill(B, 0)), [0, 1]);
    assert.deepEqual(w.store(B, 0), [], 'A no longer counts as requested');
    assert.deepEqual(w.leave(A), [], 'removing twice is harmless');
  });

  test('a peer gone from the availability record lowers rarity, so rarity follows who is left', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const w = scheduler(3, [], seed);
      w.join(A, [0, 1]);
      w.join(B, [0]);
      w.join(C, [1, 2]);
      w.leave(C); // piece 1 is now held by A alone, piece 0 still by A and B
      const [first] = w.s.fill(A, 0);
      assert.equal(first, 1, `seed ${seed}`);
    }
  });

  test('a refusal recorded as lacking stops asking that peer for that piece', () => {
    const w = scheduler(2);
    w.join(A, Bitfield.full(2));
    w.join(B, Bitfield.full(2));
    assert.deepEqual(sorted(w.s.fill(A, 0)), [0, 1]);
    // Download.onReject: the record learns A lacks it, the scheduler drops the request.
    w.availability.setLacks(A, FILE, 0);
    w.s.failed(A, 0);
    assert.equal(w.availability.holds(A, FILE, 0), false);
    assert.deepEqual(w.s.outstanding(A), [1]);
    assert.deepEqual(w.s.fill(A, 0), [], 'A is not asked for piece 0 again');
    assert.deepEqual(w.s.fill(B, 0), [0], 'B takes piece 0');
    assert.deepEqual(w.s.fill(B, ENDGAME_AFTER_MS), [1], 'then duplicates piece 1 in endgame');
  });

  test('a refusal from an announced whole-file holder also stops asking it for that piece', () => {
    const w = scheduler(2);
    w.announce(A);
    assert.deepEqual(sorted(w.s.fill(A, 0)), [0, 1]);
    w.availability.setLacks(A, FILE, 1);
    w.s.failed(A, 1);
    assert.deepEqual(w.s.fill(A, ENDGAME_AFTER_MS), []);
    assert.deepEqual([...w.availability.view(FILE, 2).counts()], [1, 0]);
  });

  test('failed(peer, piece) alone lets the piece be asked again', () => {
    const { s, join } = scheduler(2);
    join(A, Bitfield.full(2));
    s.fill(A, 0);
    s.failed(A, 1);
    assert.deepEqual(s.outstanding(A), [0]);
    assert.deepEqual(s.fill(A, 0), [1]);
  });

  test('tick releases a stalled peer\'s pieces and penalises it while others can serve', () => {
    const { s, join } = scheduler(20);
    join(A, Bitfield.full(20));
    join(B, Bitfield.full(20));
    const aPieces = s.fill(A, 0);
    s.fill(B, 0);
    s.progress(B, 1000, STALL_MS - 1);
    assert.deepEqual(s.tick(STALL_MS - 1), [], 'not yet');
    const released = s.tick(STALL_MS);
    assert.deepEqual(released.map((r) => ({ peer: r.peer, pieces: sorted(r.pieces) })), [{ peer: A, pieces: sorted(aPieces) }]);
    assert.deepEqual(s.outstanding(A), []);
    assert.equal(s.peer(A)!.rate, 0);
    assert.deepEqual(s.fill(A, STALL_MS + 1), [], 'penalised while B can serve');
    assert.deepEqual(s.fill(A, STALL_MS + STALL_PENALTY_MS - 1), []);
    assert.equal(s.fill(A, STALL_MS + STALL_PENALTY_MS).length, MIN_PIPELINE, 'the penalty ends');
  });

  test('a penalised peer still gets requests when nobody else can serve', () => {
    const { s, join } = scheduler(20);
    join(A, Bitfield.full(20));
    s.fill(A, 0);
    assert.equal(s.tick(STALL_MS).length, 1);
    assert.equal(s.fill(A, STALL_MS + 1).length, MIN_PIPELINE);
  });

  test('a penalised peer gets requests when the others only hold what we have or is arriving', () => {
    const w = scheduler(4, [0]);
    w.join(A, Bitfield.full(4));
    w.join(B, [0, 1]);
    assert.deepEqual(sorted(w.s.fill(B, 0)), [1]);
    w.s.completed(B, 1); // arriving: B has nothing left for us
    w.s.fill(A, 0);
    assert.equal(w.s.tick(STALL_MS).length, 1);
    assert.equal(w.s.fill(A, STALL_MS + 1).length, MIN_PIPELINE);
  });

  test('a released piece goes to the next peer that fills', () => {
    const w = scheduler(2);
    w.join(A, Bitfield.full(2));
    assert.deepEqual(sorted(w.s.fill(A, 0)), [0, 1]);
    w.s.tick(STALL_MS);
    w.join(B, Bitfield.full(2), STALL_MS);
    assert.deepEqual(sorted(w.s.fill(B, STALL_MS)), [0, 1]);
    assert.deepEqual(w.store(B, 0), []);
  });

  test('requests just sent to a peer that was idle are not a stall', () => {
    const w = scheduler(4);
    w.join(A, new Bitfield(4)); // a fellow downloader: nothing to offer yet
    w.join(B, Bitfield.full(4));
    const now = 60_000;
    w.availability.setHave(A, FILE, 3); // it announces a piece a minute later
    assert.deepEqual(w.s.fill(A, now), [3]);
    assert.deepEqual(w.s.tick(now + 1), [], 'A had 1 ms to answer, not STALL_MS');
    assert.deepEqual(w.s.outstanding(A), [3]);
  });

  test('endgame waits until every missing piece is requested', () => {
    const { s, join } = scheduler(3);
    join(A, Bitfield.full(3));
    join(B, Bitfield.full(3));
    const aPieces = s.fill(A, 0);
    const [unrequested] = range(3).filter((p) => !aPieces.includes(p));
    assert.deepEqual(s.fill(B, ENDGAME_AFTER_MS), [unrequested], 'no duplicate while a piece is unrequested');
    assert.deepEqual(s.fill(B, ENDGAME_AFTER_MS - 1), [], 'nor for a request younger than ENDGAME_AFTER_MS');
    const [duplicate] = s.fill(B, ENDGAME_AFTER_MS);
    assert.ok(aPieces.includes(duplicate!), 'then B duplicates one of A\'s');
  });

  test('endgame: an idle peer duplicates requests and completion cancels the other copy', () => {
    const w = scheduler(2);
    const { s } = w;
    w.join(A, Bitfield.full(2));
    w.join(B, Bitfield.full(2));
    assert.deepEqual(sorted(s.fill(A, 0)), [0, 1]);
    assert.deepEqual(s.fill(B, 0), [], 'a fresh request is not duplicated at once');
    assert.deepEqual(sorted(s.fill(B, ENDGAME_AFTER_MS)), [0, 1]);
    w.join(C, Bitfield.full(2));
    assert.deepEqual(s.fill(C, 2 * ENDGAME_AFTER_MS), [], 'at most one duplicate per piece');
    assert.deepEqual(s.completed(A, 0), [B], 'cancel B\'s copy of piece 0');
    assert.deepEqual(s.outstanding(B), [1]);
    assert.deepEqual(s.fill(C, 3 * ENDGAME_AFTER_MS), [], 'piece 0 is arriving, piece 1 already has a duplicate');
    w.have.set(0);
    s.settled(0);
    assert.deepEqual(w.store(B, 1), [A]);
    assert.deepEqual(s.outstanding(A), []);
    assert.equal(s.done, true);
    assert.deepEqual(s.fill(A, 0), []);
  });

  test('endgame adds at most two duplicates per fill', () => {
    const { s, join } = scheduler(10);
    for (const p of [A, B]) {
      join(p, Bitfield.full(10));
      s.progress(p, 1000 * PIECE, 1000);
    }
    assert.equal(s.fill(A, 1000).length, 10);
    assert.equal(s.fill(B, 1000 + ENDGAME_AFTER_MS).length, 2);
    assert.equal(s.fill(B, 1000 + ENDGAME_AFTER_MS).length, 2);
  });

  test('simulation: 200 pieces from 4 peers of different speeds, stored a round later, complete each piece once', () => {
    const N = 200;
    const random = mulberry32(2024);
    const peers = [A, B, C, 'peerDDDDDDDDDDDD'];
    const holdings = peers.map(() => new Set<number>());
    for (let piece = 0; piece < N; piece++) {
      holdings[Math.floor(random() * peers.length)]!.add(piece); // the union is complete
      for (const h of holdings) if (random() < 0.4) h.add(piece);
    }
    const w = scheduler(N, [], 2024);
    const { s } = w;
    peers.forEach((p, i) => w.join(p, holdings[i]!));
    const completions = new Array<number>(N).fill(0);
    let storing: number[] = [];
    let cancels = 0;
    let round = 0;
    for (; !s.done && round < 5000; round++) {
      const now = round * 100;
      // Storage answers for last round's pieces: the library sets their bits, then the download settles them.
      for (const piece of storing) {
        w.have.set(piece);
        s.settled(piece);
      }
      storing = [];
      peers.forEach((p, i) => {
        for (const piece of s.fill(p, now)) assert.ok(holdings[i]!.has(piece), `round ${round}: ${p} lacks ${piece}`);
      });
      // Peer i delivers one piece every i + 1 rounds.
      peers.forEach((p, i) => {
        if (round % (i + 1) !== 0) return;
        const [piece] = s.outstanding(p);
        if (piece === undefined) return;
        assert.equal(w.have.get(piece), false, `round ${round}: ${piece} requested after it was stored`);
        assert.equal(s.isArriving(piece), false, `round ${round}: ${piece} requested while it was being stored`);
        s.progress(p, PIECE, now);
        for (const other of s.completed(p, piece)) {
          assert.ok(!s.outstanding(other).includes(piece), 'a cancelled copy is no longer outstanding');
          cancels++;
        }
        storing.push(piece);
        completions[piece]!++;
      });
      for (const piece of storing) assert.equal(s.isArriving(piece), true);
    }
    assert.equal(s.done, true, `not done after ${round} rounds`);
    assert.ok(completions.every((n) => n === 1), 'every piece completed exactly once');
    assert.ok(cancels < N / 4, `endgame duplicates stay rare (${cancels})`);
    for (const p of peers) assert.deepEqual(s.outstanding(p), []);
  });
});

describe('UploadQueue', () => {
  const FILE = 'f'.repeat(64);
  const job = (peer: string, piece: number, fileId = FILE): UploadJob => ({ peer, fileId, piece });
  const never = (_peer: string): boolean => false;
  const drain = (q: UploadQueue, isBusy = never, uploads = never): UploadJob[] => {
    const out: UploadJob[] = [];
    for (let j = q.next(isBusy, uploads); j; j = q.next(isBusy, uploads)) out.push(j);
    return out;
  };

  test('alternates between two peers with many queued jobs, each in FIFO order', () => {
    const q = new UploadQueue();
    for (let i = 0; i < 10; i++) q.enqueue(job(A, i));
    for (let i = 0; i < 10; i++) q.enqueue(job(B, 100 + i));
    const served = drain(q);
    assert.deepEqual(served.map((j) => j.peer), range(20).map((i) => (i % 2 === 0 ? A : B)));
    assert.deepEqual(served.filter((j) => j.peer === A).map((j) => j.piece), range(10));
    assert.equal(q.size, 0);
    assert.equal(q.next(never, never), undefined);
  });

  test('a peer that runs dry drops out of the rotation', () => {
    const q = new UploadQueue();
    q.enqueue(job(A, 0));
    for (let i = 0; i < 3; i++) q.enqueue(job(B, i));
    q.enqueue(job(C, 0));
    assert.deepEqual(drain(q).map((j) => j.peer), [A, B, C, B, B]);
  });

  test('busy peers are skipped, not dropped', () => {
    const q = new UploadQueue();
    for (let i = 0; i < 3; i++) q.enqueue(job(A, i));
    q.enqueue(job(B, 0));
    const aBusy = (p: string) => p === A;
    assert.deepEqual(q.next(aBusy, never), job(B, 0));
    assert.equal(q.next(aBusy, never), undefined);
    assert.equal(q.size, 3);
    assert.deepEqual(q.next(never, never), job(A, 0));
  });

  test('peers that upload to us go first', () => {
    const q = new UploadQueue();
    for (const p of [A, B, C]) for (let i = 0; i < 2; i++) q.enqueue(job(p, i));
    const cUploads = (p: string) => p === C;
    assert.deepEqual(drain(q, never, cUploads).map((j) => j.peer), [C, C, A, B, A, B]);
  });

  test('duplicate requests are queued once; the same piece of another file is distinct', () => {
    const q = new UploadQueue();
    assert.equal(q.enqueue(job(A, 1)), true);
    assert.equal(q.enqueue(job(A, 1)), true);
    assert.equal(q.enqueue(job(A, 1, 'e'.repeat(64))), true);
    assert.equal(q.size, 2);
  });

  test('cancel removes one queued job', () => {
    const q = new UploadQueue();
    for (let i = 0; i < 3; i++) q.enqueue(job(A, i));
    q.cancel(A, FILE, 1);
    q.cancel(A, FILE, 99);
    q.cancel(B, FILE, 0);
    assert.equal(q.size, 2);
    assert.deepEqual(drain(q).map((j) => j.piece), [0, 2]);
  });

  test('removePeer forgets everything it asked for', () => {
    const q = new UploadQueue();
    for (let i = 0; i < 3; i++) q.enqueue(job(A, i));
    q.enqueue(job(B, 0));
    q.removePeer(A);
    assert.equal(q.size, 1);
    assert.deepEqual(drain(q), [job(B, 0)]);
    q.removePeer(C);
  });

  test('refuses a peer\'s requests beyond MAX_QUEUED_PER_PEER', () => {
    const q = new UploadQueue();
    for (let i = 0; i < MAX_QUEUED_PER_PEER; i++) assert.equal(q.enqueue(job(A, i)), true);
    assert.equal(q.enqueue(job(A, MAX_QUEUED_PER_PEER)), false);
    assert.equal(q.size, MAX_QUEUED_PER_PEER);
    assert.equal(q.enqueue(job(B, 0)), true, 'other peers are not affected');
    q.next(never, never);
    assert.equal(q.enqueue(job(A, MAX_QUEUED_PER_PEER)), true, 'room again once one is served');
  });
});

describe('RateMeter', () => {
  test('is zero with no samples', () => {
    assert.equal(new RateMeter().rate(0), 0);
  });

  test('bytes per second over the window, never over less than a second', () => {
    const m = new RateMeter(3000);
    m.add(1000, 0);
    assert.equal(m.rate(0), 1000, 'a lone sample is spread over one second');
    m.add(1000, 1000);
    m.add(1000, 2000);
    assert.equal(m.rate(2000), 1500);
    assert.equal(m.rate(3000), 1000);
  });

  test('forgets samples older than the window', () => {
    const m = new RateMeter(3000);
    m.add(1000, 0);
    m.add(1000, 1000);
    m.add(1000, 2000);
    assert.equal(m.rate(3500), (2000 * 1000) / 2500, 'the sample at 0 has left the window');
    assert.equal(m.rate(4500), (1000 * 1000) / 2500, 'only the sample at 2000 remains');
    assert.equal(m.rate(10_000), 0);
  });

  test('honours a custom window', () => {
    const m = new RateMeter(500);
    m.add(500, 0);
    assert.equal(m.rate(400), 500);
    assert.equal(m.rate(501), 0);
  });
});
