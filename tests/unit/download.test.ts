import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Download, PROGRESS_INTERVAL_MS, type DownloadDeps } from '../../src/app/download.ts';
import { Library } from '../../src/app/library.ts';
import { sha256 } from '../../src/core/hash.ts';
import { buildManifest, pieceRange, pieceSizeFor, type FileMeta, type Manifest } from '../../src/core/manifest/manifest.ts';
import { Availability } from '../../src/core/swarm/availability.ts';
import { MANIFEST_PIECE, type WireMessage } from '../../src/core/wire/frames.ts';
import { createMemoryStore } from '../../src/storage/memory-store.ts';

/**
 * One Download driven message by message, with the peers scripted and the
 * availability record's sources faked (who announced the file, who is
 * linked): the orderings real networks produce only sometimes happen here
 * every time. What is checked is what a person relies on: the manifest comes
 * from someone who has the file, a peer that lies about it is struck and
 * another is asked, and the saved bytes hash to the shared ones.
 */
const P = 'peerPPPPPPPPPPPP';
const Q = 'peerQQQQQQQQQQQQ';
const R = 'peerRRRRRRRRRRRR';
const ROOM = 'room-topic';
const PIECES = 7;

interface Shared {
  bytes: Uint8Array;
  manifest: Manifest;
  meta: FileMeta;
}

async function sharedFile(): Promise<Shared> {
  const size = (PIECES - 1) * pieceSizeFor(0) + 1000;
  const bytes = new Uint8Array(randomBytes(size));
  const m = { size, pieceSize: pieceSizeFor(size) };
  const hashes = await Promise.all([...Array(PIECES)].map((_, i) => sha256(bytes.subarray(pieceRange(m, i).start, pieceRange(m, i).end))));
  const built = await buildManifest(size, hashes, sha256);
  assert.ok(built.ok);
  return { bytes, manifest: built.value, meta: { id: built.value.id, name: 'f.bin', size, mime: 'application/octet-stream' } };
}

/** A Download over a real Library (memory store) and a real Availability whose sources the test sets. */
async function setup(opts: { announcers?: string[]; linked?: string[] } = {}) {
  const file = await sharedFile();
  const announcers = new Set(opts.announcers ?? [P]);
  const linked = new Set(opts.linked ?? [P, Q, R]);
  const availability = new Availability({ announcers: (id) => (id === file.meta.id ? announcers : new Set()), linked: (p) => linked.has(p) });
  const library = new Library(createMemoryStore(), sha256, () => 0, ROOM, {
    pieceLost: () => assert.fail('no piece is lost'),
    persistFailed: (e) => assert.fail(e),
    readFailed: () => assert.fail('no read fails'),
  });
  const sent: { peer: string; m: WireMessage }[] = [];
  const struck: { peer: string; what: string }[] = [];
  const completed: string[] = [];
  const deps: DownloadDeps = {
    library, availability, sha256, now: () => 0, random: () => 0,
    openPeers: () => [...linked],
    send: (peer, m) => sent.push({ peer, m }),
    expect: () => undefined, cancel: () => undefined,
    misbehaved: (peer, what) => struck.push({ peer, what }),
    stored: () => undefined, changed: () => undefined,
    completed: () => completed.push(file.meta.id),
    failed: (message) => assert.fail(message),
  };
  const d = new Download(file.meta, deps);
  return { file, d, deps, sent, struck, completed, announcers, linked, availability, library };
}

const manifestAsks = (sent: { peer: string; m: WireMessage }[]) => sent.filter((s) => s.m.type === 'want-manifest').map((s) => s.peer);
const requestsTo = (sent: { peer: string; m: WireMessage }[], peer: string) =>
  sent.filter((s) => s.peer === peer && s.m.type === 'request').map((s) => (s.m as { piece: number }).piece);

/** Waits for the download's asynchronous steps (hashing, storage) to reach `check`. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.ok(check(), `timed out waiting for ${what}`);
}

/** `peer` answers WANT_MANIFEST with the file's real manifest, as one part. */
async function sendManifest(d: Download, peer: string, file: Shared): Promise<void> {
  d.onManifestPart(peer, 0, 1, file.meta.size, file.manifest.hashes);
  await until(() => d.status !== 'manifest', 'the manifest to be verified');
}

const pieceOf = (file: Shared, i: number) => file.bytes.slice(pieceRange(file.manifest, i).start, pieceRange(file.manifest, i).end);

/**
 * Plays the holders: answers every request sent from `sent[from]` on with the
 * piece (as `answer` makes it, the real bytes by default), until the download
 * stops asking.
 */
async function serve(
  d: Download, sent: { peer: string; m: WireMessage }[], file: Shared, from = 0, answer = (_peer: string, data: Uint8Array) => data,
): Promise<void> {
  let served = from;
  while (d.status === 'downloading') {
    const requests = sent.slice(served).filter((s) => s.m.type === 'request');
    served = sent.length;
    assert.ok(requests.length > 0, 'the download keeps asking while pieces are missing');
    for (const { peer, m } of requests) {
      const piece = (m as { piece: number }).piece;
      await d.onPiece(peer, piece, answer(peer, pieceOf(file, piece)));
    }
  }
}

test('the manifest is asked of a linked peer the availability record says holds the file', async () => {
  const { d, sent, announcers, linked, availability, file } = await setup({ announcers: [R], linked: [P, Q] });
  d.start(); // R announced it but has no link to us; P and Q are linked but hold nothing
  assert.deepEqual(manifestAsks(sent), [], 'nobody to ask yet');
  availability.setHave(Q, file.meta.id, 4); // Q got a piece: it has the manifest too
  d.peerUpdated(Q);
  assert.deepEqual(manifestAsks(sent), [Q]);
  d.peerUpdated(P); // already waiting on Q: no second ask
  assert.deepEqual(manifestAsks(sent), [Q]);
  linked.add(R);
  announcers.add(R);
  await sendManifest(d, Q, file);
  assert.equal(d.status, 'downloading');
  assert.ok(requestsTo(sent, Q).every((piece) => piece === 4), 'Q is asked only for what it has');
  assert.ok(requestsTo(sent, R).length > 0, 'R, an announcer now linked, is a source of every piece');
  assert.deepEqual(requestsTo(sent, P), [], 'P holds nothing');
});

test('manifest parts that do not fit the size they claim strike that peer, and another holder is asked', async () => {
  const { d, sent, struck, file } = await setup({ announcers: [P, Q, R] });
  d.start();
  const [first] = manifestAsks(sent);
  assert.ok(first);
  // Claims a size needing 8 pieces but sends 7 hashes.
  d.onManifestPart(first, 0, 1, file.meta.size + pieceSizeFor(0), file.manifest.hashes);
  assert.deepEqual(struck.map((s) => s.peer), [first]);
  assert.match(struck[0]!.what, /do not fit/);
  const second = manifestAsks(sent)[1];
  assert.ok(second && second !== first, `the next ask goes to someone else (${manifestAsks(sent)})`);
  // Claims more parts than its size allows.
  d.onManifestPart(second, 0, 2, file.meta.size, file.manifest.hashes);
  assert.deepEqual(struck.map((s) => s.peer), [first, second]);
  const third = manifestAsks(sent)[2];
  assert.ok(third && third !== first && third !== second);
  d.onManifestPart(first, 0, 1, file.meta.size, file.manifest.hashes); // a late answer from a peer given up on is ignored
  assert.equal(d.status, 'manifest');
  await sendManifest(d, third, file);
  assert.equal(d.status, 'downloading');
  assert.equal(struck.length, 2, 'the honest peer is not struck');
});

test('a size that fits its hashes but is not the one the file id commits to is caught by verification', async () => {
  const { d, sent, struck, file } = await setup({ announcers: [P, Q] });
  d.start();
  const [liar] = manifestAsks(sent);
  d.onManifestPart(liar!, 0, 1, file.meta.size - 1, file.manifest.hashes); // same piece count, one byte less
  await until(() => struck.length === 1, 'the manifest check');
  assert.equal(struck[0]!.peer, liar);
  assert.equal(d.status, 'manifest');
  const honest = manifestAsks(sent)[1]!;
  assert.notEqual(honest, liar);
  await sendManifest(d, honest, file);
  assert.equal(d.status, 'downloading');
});

test('a REJECT saying "I lack it" is recorded in the availability record; a busy one is not', async () => {
  const { d, sent, availability, file } = await setup({ announcers: [P, Q] });
  d.start();
  await sendManifest(d, manifestAsks(sent)[0]!, file);
  const id = file.meta.id;
  const [lacked, busy] = requestsTo(sent, P);
  assert.ok(lacked !== undefined && busy !== undefined, `P was asked for two pieces (${requestsTo(sent, P)})`);
  const refusedRequests = new Set(sent.filter((s) => s.peer === P && s.m.type === 'request').slice(0, 2));
  const rejectedAt = sent.length;
  d.onReject(P, lacked, true);
  assert.equal(availability.holds(P, id, lacked), false, 'P lacks it after all');
  assert.equal(availability.holds(Q, id, lacked), true);
  d.onReject(P, busy, false);
  assert.equal(availability.holds(P, id, busy), true, 'busy is not lacking: P may serve it later');
  // A manifest REJECT is not a piece: nothing is recorded for piece 0xffffffff.
  d.onReject(Q, MANIFEST_PIECE, true);
  assert.equal(availability.countHeld(Q, id, PIECES), PIECES);
  // Requests sent so far are answered, except the two P refused.
  const answeredHere = sent.length;
  for (const s of sent.slice(0, answeredHere)) {
    if (s.m.type !== 'request' || refusedRequests.has(s)) continue;
    await d.onPiece(s.peer, s.m.piece, pieceOf(file, s.m.piece));
  }
  await serve(d, sent, file, answeredHere);
  assert.equal(d.status, 'complete');
  const askedAfter = sent.slice(rejectedAt).filter((s) => s.m.type === 'request' && (s.m as { piece: number }).piece === lacked).map((s) => s.peer);
  assert.deepEqual(askedAfter, [Q], 'the lacked piece is fetched from Q, and never asked of P again');
});

test('pieces from several holders are verified and stored: the saved bytes hash to the shared ones; a corrupt piece is struck', async () => {
  const { d, sent, struck, completed, library, file } = await setup({ announcers: [P, Q] });
  d.start();
  await sendManifest(d, manifestAsks(sent)[0]!, file);
  let corrupted = false;
  await serve(d, sent, file, 0, (peer, data) => {
    if (peer === Q && !corrupted) {
      corrupted = true;
      data[0]! ^= 1;
    }
    return data;
  });
  assert.equal(d.status, 'complete');
  assert.deepEqual(completed, [file.meta.id]);
  assert.deepEqual(struck.map((s) => s.peer), [Q], 'one strike, for the one corrupt piece');
  assert.equal(d.stats.badPieces, 1);
  const saved = new Uint8Array(await (await library.assemble(file.meta.id)).arrayBuffer());
  assert.equal(createHash('sha256').update(saved).digest('hex'), createHash('sha256').update(file.bytes).digest('hex'));
  assert.ok(requestsTo(sent, P).length > 0 && requestsTo(sent, Q).length > 0, 'both holders served');
});

test('once onPiece resolves its bytes may be overwritten (the assembler reuses the buffer): what was stored stays whole', async () => {
  const { d, sent, library, file } = await setup();
  d.start();
  await sendManifest(d, manifestAsks(sent)[0]!, file);
  let served = 0;
  while (d.status === 'downloading') {
    const requests = sent.slice(served).filter((s) => s.m.type === 'request');
    served = sent.length;
    assert.ok(requests.length > 0, 'the download keeps asking while pieces are missing');
    // Every answer at once, as pieces arrive while earlier ones are hashed and wait for a batched write.
    await Promise.all(requests.map(async ({ peer, m }) => {
      const data = pieceOf(file, (m as { piece: number }).piece);
      await d.onPiece(peer, (m as { piece: number }).piece, data);
      data.fill(0xee); // the next piece's bytes land here
    }));
  }
  assert.equal(d.status, 'complete');
  const saved = new Uint8Array(await (await library.assemble(file.meta.id)).arrayBuffer());
  assert.equal(createHash('sha256').update(saved).digest('hex'), createHash('sha256').update(file.bytes).digest('hex'));
});

test('a player focus set while the manifest is awaited picks the first pieces there; a seek moves it, clearing it ends it', async () => {
  const { d, sent, file, library } = await setup({ announcers: [P], linked: [P] });
  d.setFocus(4 * file.manifest.pieceSize + 10); // the player asked before the manifest came
  d.start();
  await sendManifest(d, P, file);
  assert.deepEqual(requestsTo(sent, P), [4, 5], 'the playhead piece and the next, not rarest-first 0 and 1');
  const before = sent.length;
  await d.onPiece(P, 4, pieceOf(file, 4));
  await until(() => sent.length > before, 'the next request');
  d.setFocus(1 * file.manifest.pieceSize); // a seek backwards: the freed slot goes there
  assert.deepEqual(requestsTo(sent.slice(before), P), [6], 'one slot freed before the seek: the window went on');
  await d.onPiece(P, 5, pieceOf(file, 5));
  await until(() => requestsTo(sent.slice(before), P).length > 1, 'the request after the seek');
  assert.deepEqual(requestsTo(sent.slice(before), P).slice(1), [1]);
  d.setFocus(null);
  await serve(d, sent, file);
  assert.equal(d.status, 'complete');
  const saved = new Uint8Array(await (await library.assemble(file.meta.id)).arrayBuffer());
  assert.equal(createHash('sha256').update(saved).digest('hex'), createHash('sha256').update(file.bytes).digest('hex'));
});

test('stored pieces refresh the screen at most once per PROGRESS_INTERVAL_MS; completion is reported at once', async () => {
  const { d, deps, sent, file, completed, library } = await setup({ announcers: [P], linked: [P] });
  let now = 1_000;
  let refreshes = 0;
  deps.now = () => now;
  deps.changed = () => refreshes++;
  d.start();
  await sendManifest(d, P, file);
  const stored = () => library.get(file.meta.id)?.have.count ?? 0;
  const answer = async (piece: number) => {
    const before = stored();
    await d.onPiece(P, piece, pieceOf(file, piece));
    await until(() => stored() > before, `piece ${piece} to be stored`);
  };
  const [first, second] = requestsTo(sent, P);
  refreshes = 0;
  await answer(first!);
  assert.equal(refreshes, 1, 'the first stored piece shows');
  await answer(second!);
  assert.equal(refreshes, 1, 'a piece stored within the interval waits for the next refresh');
  now += PROGRESS_INTERVAL_MS;
  const third = requestsTo(sent, P).find((p) => p !== first && p !== second)!;
  await answer(third);
  assert.equal(refreshes, 2, 'once the interval has passed, the next stored piece shows');
  const before = refreshes;
  await serve(d, sent, file, 0, (_peer, data) => data);
  assert.equal(d.status, 'complete');
  assert.deepEqual(completed, [file.meta.id], 'completion is reported (and refreshes the screen in Downloads) without waiting');
  assert.equal(refreshes, before, 'no time passed: the remaining pieces did not refresh the screen one by one');
});
