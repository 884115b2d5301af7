import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PIECES_IN_FLIGHT, PIECES_IN_FLIGHT_PER_PEER, Uploader } from '../../src/app/uploader.ts';
import { MAX_QUEUED_PER_PEER } from '../../src/core/swarm/upload-queue.ts';
import { DATA_CHUNK, RejectReason, decodeFrame, type WireMessage } from '../../src/core/wire/frames.ts';
import { HIGH_WATER, type DataLink } from '../../src/net/link.ts';

/**
 * The Uploader over fake links and a fake piece reader: the test decides when
 * each storage read answers and when a full channel drains, so every
 * ordering is reproduced exactly.
 */
const FILE = 'ab'.repeat(32);
/** Four DATA frames: three full chunks and a short one. */
const PIECE_BYTES = 3 * DATA_CHUNK + 5;
const pieceData = (piece: number) => new Uint8Array(PIECE_BYTES).fill(piece + 1);

interface FakeLink extends DataLink {
  /** The test fills and drains the channel. */
  bufferedAmount: number;
  frames: WireMessage[];
  /** Fill the channel after every send, so the next frame waits for release(). */
  holdEachFrame: boolean;
  release(): void;
}

function fakeLink(): FakeLink {
  let waiters: (() => void)[] = [];
  const link: FakeLink = {
    frames: [], holdEachFrame: false, bufferedAmount: 0,
    send(frame) {
      // A copy, as RTCDataChannel.send takes one: the uploader reuses its frame buffer.
      const decoded = decodeFrame(frame.slice());
      assert.ok(decoded.ok, 'the uploader sends well-formed frames');
      link.frames.push(decoded.value);
      if (link.holdEachFrame) link.bufferedAmount = HIGH_WATER + 1;
    },
    drained: () => new Promise<void>((resolve) => waiters.push(resolve)),
    destroy: () => undefined,
    release() {
      link.bufferedAmount = 0;
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve();
    },
  };
  return link;
}

function setup(peers: string[]) {
  const links = new Map(peers.map((p) => [p, fakeLink()]));
  const reads: { peer?: string; fileId: string; piece: number; answer(data: Uint8Array | undefined): void }[] = [];
  const served: { peer: string; bytes: number }[] = [];
  const uploader = new Uploader({
    readPiece: (fileId, piece) => new Promise((answer) => reads.push({ fileId, piece, answer })),
    link: (peer) => links.get(peer),
    uploadsToUs: () => false,
    served: (peer, bytes) => served.push({ peer, bytes }),
  });
  const framesFor = (peer: string, type: WireMessage['type'], piece?: number) =>
    links.get(peer)!.frames.filter((f) => f.type === type && (piece === undefined || (f as { piece: number }).piece === piece));
  return { uploader, links, reads, served, framesFor };
}

/** Lets the uploader's promise chains run (everything here answers within microtasks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('a piece is sent as DATA frames covering it, then counted as served', async () => {
  const { uploader, reads, served, framesFor } = setup(['p']);
  assert.equal(uploader.request('p', FILE, 0), true);
  await settle();
  reads[0]!.answer(pieceData(0));
  await settle();
  const data = framesFor('p', 'data', 0) as Extract<WireMessage, { type: 'data' }>[];
  assert.deepEqual(data.map((f) => f.offset), [0, DATA_CHUNK, 2 * DATA_CHUNK, 3 * DATA_CHUNK]);
  assert.equal(data.reduce((n, f) => n + f.bytes.length, 0), PIECE_BYTES);
  assert.deepEqual(served, [{ peer: 'p', bytes: PIECE_BYTES }]);
  assert.equal(uploader.hasWork('p'), false);
});

test('pieces sent at once to two peers, both channels filling after each frame, each arrive with their own bytes', async () => {
  const { uploader, links, reads, served, framesFor } = setup(['a', 'b']);
  for (const l of links.values()) l.holdEachFrame = true;
  for (const peer of ['a', 'b']) for (let i = 0; i < PIECES_IN_FLIGHT_PER_PEER; i++) uploader.request(peer, FILE, peer === 'a' ? i : 10 + i);
  await settle();
  for (const r of reads) r.answer(pieceData(r.piece));
  for (let round = 0; round < 4 * PIECES_IN_FLIGHT_PER_PEER; round++) {
    await settle(); // every piece being served has written a frame or waits for its channel
    for (const l of links.values()) l.release();
  }
  await settle();
  assert.equal(served.length, 2 * PIECES_IN_FLIGHT_PER_PEER);
  for (const r of reads) {
    const peer = r.piece < 10 ? 'a' : 'b';
    const frames = framesFor(peer, 'data', r.piece) as Extract<WireMessage, { type: 'data' }>[];
    assert.equal(frames.length, 4);
    for (const f of frames) assert.ok(f.bytes.every((b) => b === r.piece + 1), `piece ${r.piece} at ${f.offset} holds its own bytes`);
  }
});

test('a cancelled queued request is never read nor sent', async () => {
  const { uploader, reads, framesFor } = setup(['p']);
  for (let i = 0; i <= PIECES_IN_FLIGHT_PER_PEER; i++) assert.ok(uploader.request('p', FILE, i));
  await settle();
  assert.equal(reads.length, PIECES_IN_FLIGHT_PER_PEER, 'the last one waits in the queue');
  uploader.cancel('p', FILE, PIECES_IN_FLIGHT_PER_PEER);
  for (const r of reads) r.answer(pieceData(r.piece));
  await settle();
  assert.deepEqual(reads.map((r) => r.piece), [...Array(PIECES_IN_FLIGHT_PER_PEER).keys()]);
  assert.deepEqual(framesFor('p', 'data', PIECES_IN_FLIGHT_PER_PEER), []);
  assert.equal(framesFor('p', 'data', 0).length, 4);
  assert.equal(uploader.hasWork('p'), false);
});

test('a cancel while the piece is being sent stops it at the next frame', async () => {
  const { uploader, links, reads, served, framesFor } = setup(['p']);
  const link = links.get('p')!;
  link.holdEachFrame = true;
  uploader.request('p', FILE, 7);
  await settle();
  reads[0]!.answer(pieceData(7));
  await settle();
  assert.equal(framesFor('p', 'data', 7).length, 1, 'the channel is full after the first frame');
  uploader.cancel('p', FILE, 7);
  for (let i = 0; i < 4; i++) {
    link.release();
    await settle();
  }
  const sent = framesFor('p', 'data', 7).length;
  assert.ok(sent < 4, `stopped early (${sent} of 4 frames)`);
  assert.ok(sent <= 2, 'at most the frame already waiting for the channel goes out');
  assert.deepEqual(served, [], 'an unfinished piece is not counted as served');
  assert.equal(uploader.hasWork('p'), false);
  uploader.request('p', FILE, 7);
  await settle();
  assert.equal(reads.length, 2, 'asked again later, the piece is served again');
});

test('requests beyond the per-peer queue limit are refused; other peers are not affected', async () => {
  const { uploader } = setup(['greedy', 'q']);
  const accepted = [...Array(PIECES_IN_FLIGHT_PER_PEER + MAX_QUEUED_PER_PEER + 5)].map((_, i) => uploader.request('greedy', FILE, i));
  // The first ones are taken off the queue at once (being read), so the queue holds MAX_QUEUED_PER_PEER more.
  assert.equal(accepted.filter(Boolean).length, PIECES_IN_FLIGHT_PER_PEER + MAX_QUEUED_PER_PEER);
  assert.deepEqual(accepted.slice(PIECES_IN_FLIGHT_PER_PEER + MAX_QUEUED_PER_PEER), [false, false, false, false, false]);
  assert.equal(uploader.queued, MAX_QUEUED_PER_PEER);
  assert.equal(uploader.request('q', FILE, 0), true);
});

test('two peers are served in turn: one asking first for many pieces does not starve the other', async () => {
  // With two peers the per-peer limit alone makes them alternate; the four-peer test below checks the rotation itself.
  const { uploader, reads } = setup(['a', 'b']);
  const owner = new Map<number, string>();
  for (let i = 0; i < 8; i++) {
    uploader.request('a', FILE, i);
    owner.set(i, 'a');
  }
  for (let i = 100; i < 108; i++) {
    uploader.request('b', FILE, i);
    owner.set(i, 'b');
  }
  await settle();
  // Storage answers one read at a time, oldest first; each answer frees a slot.
  for (let done = 0; done < reads.length; done++) {
    reads[done]!.answer(pieceData(0));
    await settle();
  }
  const order = reads.map((r) => owner.get(r.piece));
  assert.equal(order.length, 16);
  for (let n = 1; n <= order.length; n++) {
    const a = order.slice(0, n).filter((p) => p === 'a').length;
    assert.ok(Math.abs(a - (n - a)) <= PIECES_IN_FLIGHT_PER_PEER, `after ${n} reads: ${order.slice(0, n).join('')}`);
  }
});

test('round-robin when the total limit binds: every peer gets slots in turn, the last to ask too', async () => {
  const peers = ['a', 'b', 'c', 'd'];
  const { uploader, reads } = setup(peers);
  // Four peers at two pieces each would need 8 slots: more than PIECES_IN_FLIGHT, so the order decides.
  assert.ok(peers.length * PIECES_IN_FLIGHT_PER_PEER > PIECES_IN_FLIGHT);
  peers.forEach((p, k) => {
    for (let i = 0; i < 6; i++) uploader.request(p, FILE, k * 100 + i);
  });
  await settle();
  for (let done = 0; done < reads.length; done++) {
    reads[done]!.answer(pieceData(0));
    await settle();
  }
  const order = reads.map((r) => peers[Math.floor(r.piece / 100)]!);
  assert.equal(order.length, 24);
  for (const p of peers) {
    const at = order.flatMap((q, i) => (q === p ? [i] : []));
    assert.equal(at.length, 6);
    assert.ok(at[0]! < 2 * peers.length, `${p} starts early: ${order.join('')}`);
    const gaps = at.slice(1).map((x, i) => x - at[i]!);
    assert.ok(Math.max(...gaps) <= PIECES_IN_FLIGHT, `${p} is never passed over for long: ${order.join('')}`);
  }
});

test('removePeer drops its queue: nothing more is read for it, and its link being gone stops the send', async () => {
  const { uploader, links, reads, served, framesFor } = setup(['p', 'q']);
  for (let i = 0; i < 6; i++) uploader.request('p', FILE, i);
  await settle();
  assert.equal(reads.length, PIECES_IN_FLIGHT_PER_PEER);
  links.delete('p');
  uploader.removePeer('p');
  assert.equal(uploader.queued, 0);
  for (const r of reads) r.answer(pieceData(r.piece));
  await settle();
  assert.equal(reads.length, PIECES_IN_FLIGHT_PER_PEER, 'no queued piece of p is read');
  assert.deepEqual(served, []);
  assert.equal(uploader.hasWork('p'), false);
  uploader.request('q', FILE, 0);
  await settle();
  reads.at(-1)!.answer(pieceData(0));
  await settle();
  assert.equal(framesFor('q', 'data', 0).length, 4, 'the freed slots serve others');
});

test('a piece storage cannot give answers REJECT not-found', async () => {
  const { uploader, reads, served, framesFor } = setup(['p']);
  uploader.request('p', FILE, 3);
  await settle();
  reads[0]!.answer(undefined);
  await settle();
  assert.deepEqual(framesFor('p', 'reject'), [{ type: 'reject', fileId: FILE, piece: 3, reason: RejectReason.notFound }]);
  assert.deepEqual(framesFor('p', 'data'), []);
  assert.deepEqual(served, []);
});
