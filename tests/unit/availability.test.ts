import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeSources } from './helpers/fake-sources.ts';
import { Bitfield } from '../../src/core/bitfield.ts';
import { MAX_PIECES } from '../../src/core/manifest/manifest.ts';
import { Availability, MAX_FILES_PER_PEER } from '../../src/core/swarm/availability.ts';
import { mulberry32 } from './helpers/random.ts';

const F = 'f'.repeat(64);
const G = 'e'.repeat(64);
const A = 'peerAAAAAAAAAAAA';
const B = 'peerBBBBBBBBBBBB';
const C = 'peerCCCCCCCCCCCC';


function record(maxFiles?: number) {
  const sources = new FakeSources();
  return { sources, av: new Availability(sources, maxFiles) };
}

const bytesOf = (length: number, pieces: Iterable<number>): Uint8Array => {
  const b = new Bitfield(length);
  for (const p of pieces) b.set(p);
  return b.bytes;
};
const held = (av: Availability, peer: string, fileId: string, n: number): number[] =>
  [...Array(n).keys()].filter((i) => av.holds(peer, fileId, i));

describe('Availability', () => {
  test('a BITFIELD says which pieces a peer holds; the next one replaces it', () => {
    const { av } = record();
    av.setBitfield(A, F, bytesOf(12, [0, 9, 11]));
    assert.deepEqual(held(av, A, F, 12), [0, 9, 11]);
    assert.equal(av.countHeld(A, F, 12), 3);
    assert.equal(av.countHeld(A, F, 10), 2, 'only the first pieceCount pieces count');
    assert.deepEqual(held(av, A, G, 12), [], 'another file is another record');
    assert.deepEqual(held(av, B, F, 12), []);
    av.setBitfield(A, F, bytesOf(12, [1]));
    assert.deepEqual(held(av, A, F, 12), [1]);
    assert.deepEqual(av.peersWith(F), [A]);
  });

  test('the record keeps its own copy of the bits', () => {
    const { av } = record();
    const bits = bytesOf(8, [0]);
    av.setBitfield(A, F, bits);
    bits[0] = 0xff;
    assert.deepEqual(held(av, A, F, 8), [0]);
  });

  test('a HAVE adds one piece, with or without a BITFIELD before it', () => {
    const { av } = record();
    av.setHave(A, F, 5);
    assert.deepEqual(held(av, A, F, 16), [5]);
    assert.deepEqual(av.peersWith(F), [A]);
    av.setBitfield(B, F, bytesOf(16, [0]));
    av.setHave(B, F, 15);
    av.setHave(B, F, 15);
    assert.deepEqual(held(av, B, F, 16), [0, 15]);
  });

  test('a HAVE outside 0..MAX_PIECES is ignored, and creates nothing', () => {
    const { av } = record(1);
    for (const piece of [-1, MAX_PIECES, MAX_PIECES + 8, 2 ** 31]) av.setHave(A, F, piece);
    assert.equal(av.bitsOf(A, F), undefined);
    assert.deepEqual(av.peersWith(F), []);
    assert.equal(av.dropped, 0);
  });

  test('a refused piece is no longer held, until the peer says it has it again', () => {
    const { av } = record();
    av.setBitfield(A, F, bytesOf(8, [0, 1, 2]));
    av.setLacks(A, F, 1);
    assert.deepEqual(held(av, A, F, 8), [0, 2]);
    assert.deepEqual([...av.view(F, 8).counts()], [1, 0, 1, 0, 0, 0, 0, 0]);
    av.setHave(A, F, 1);
    assert.deepEqual(held(av, A, F, 8), [0, 1, 2], 'a HAVE is news: it holds it now');
    av.setLacks(A, F, 2);
    av.setBitfield(A, F, bytesOf(8, [2]));
    assert.deepEqual(held(av, A, F, 8), [2], 'so is a new BITFIELD');
  });

  test('an announced whole-file holder holds every piece, except those it refused', () => {
    const { sources, av } = record();
    sources.announce(F, A);
    assert.deepEqual(held(av, A, F, 10), [...Array(10).keys()]);
    assert.equal(av.bitsOf(A, F), undefined, 'nothing is copied from the catalogue');
    assert.deepEqual(av.peersWith(F), [A]);
    assert.deepEqual(av.peersWith(G), []);
    av.setLacks(A, F, 3);
    assert.equal(av.holds(A, F, 3), false);
    assert.equal(av.countHeld(A, F, 10), 9);
    const view = av.view(F, 10);
    assert.equal(view.holds(A, 3), false);
    assert.equal(view.holds(A, 9), true);
    assert.equal(view.holds(A, 10), false, 'a view ends at the file\'s piece count');
    assert.deepEqual([...view.counts()], [1, 1, 1, 0, 1, 1, 1, 1, 1, 1]);
    sources.announced.delete(F);
    assert.deepEqual(held(av, A, F, 10), [], 'read from the catalogue each time, never copied');
  });

  test('counts add announcers and BITFIELD holders, each peer once', () => {
    const { sources, av } = record();
    sources.announce(F, A);
    sources.announce(F, B);
    av.setBitfield(B, F, bytesOf(4, [0])); // an announcer that also sent a bitfield counts once
    av.setBitfield(C, F, bytesOf(4, [0, 3]));
    assert.deepEqual([...av.view(F, 4).counts()], [3, 2, 2, 3]);
    assert.deepEqual(av.view(F, 4).peers().sort(), [A, B, C]);
  });

  test('unlinked peers never hold, count or appear', () => {
    const { sources, av } = record();
    sources.announce(F, A);
    av.setBitfield(B, F, bytesOf(4, [0, 1, 2, 3]));
    av.setHave(C, F, 2);
    for (const p of [A, B, C]) sources.unlinked.add(p);
    for (const p of [A, B, C]) {
      assert.deepEqual(held(av, p, F, 4), [], p);
      assert.equal(av.countHeld(p, F, 4), 0);
    }
    assert.deepEqual(av.peersWith(F), []);
    assert.deepEqual(av.view(F, 4).peers(), []);
    assert.deepEqual([...av.view(F, 4).counts()], [0, 0, 0, 0]);
    sources.unlinked.delete(B);
    assert.deepEqual(av.peersWith(F), [B], 'what it said is kept while the link lives');
    assert.deepEqual([...av.view(F, 4).counts()], [1, 1, 1, 1]);
  });

  test('a peer whose bits are all zero holds nothing and is not listed', () => {
    const { av } = record();
    av.setBitfield(A, F, new Uint8Array(4));
    assert.deepEqual(av.peersWith(F), []);
    assert.deepEqual(av.bitsOf(A, F), new Uint8Array(MAX_PIECES / 8));
  });

  test('removePeer forgets everything the peer said, for every file', () => {
    const { sources, av } = record();
    sources.announce(G, A);
    av.setBitfield(A, F, bytesOf(8, [0, 1]));
    av.setHave(A, G, 3);
    av.setLacks(A, G, 4);
    av.setBitfield(B, F, bytesOf(8, [1]));
    av.removePeer(A);
    assert.equal(av.bitsOf(A, F), undefined);
    assert.equal(av.bitsOf(A, G), undefined);
    assert.deepEqual(held(av, A, F, 8), []);
    assert.equal(av.holds(A, G, 4), true, 'its refusal went too: only the announcement is left');
    assert.deepEqual(av.peersWith(F), [B]);
    assert.deepEqual([...av.view(F, 8).counts()], [0, 1, 0, 0, 0, 0, 0, 0]);
    av.removePeer(A);
    av.removePeer(C);
  });

  test('a peer naming more files than the cap: the extra ones are dropped and counted, never thrown', () => {
    const { av } = record(3);
    for (const file of ['1', '2', '3']) av.setBitfield(A, file, bytesOf(8, [0]));
    assert.equal(av.dropped, 0);
    av.setBitfield(A, '4', bytesOf(8, [0]));
    av.setHave(A, '5', 1);
    av.setLacks(A, '6', 1);
    assert.equal(av.dropped, 3);
    for (const file of ['4', '5', '6']) {
      assert.equal(av.bitsOf(A, file), undefined);
      assert.deepEqual(av.peersWith(file), []);
    }
    av.setHave(A, '3', 2);
    assert.deepEqual(held(av, A, '3', 8), [0, 2], 'files already known still update');
    assert.equal(av.dropped, 3);
    av.setBitfield(B, '4', bytesOf(8, [0]));
    assert.deepEqual(av.peersWith('4'), [B], 'the cap is per peer');
    av.removePeer(A);
    av.setBitfield(A, '4', bytesOf(8, [0]));
    assert.deepEqual(held(av, A, '4', 8), [0], 'a new link starts with room again');
  });

  test('the default cap is MAX_FILES_PER_PEER', () => {
    const { av } = record();
    for (let i = 0; i <= MAX_FILES_PER_PEER; i++) av.setHave(A, `file${i}`, 0);
    assert.equal(av.dropped, 1);
    assert.equal(av.holds(A, `file${MAX_FILES_PER_PEER - 1}`, 0), true);
    assert.equal(av.holds(A, `file${MAX_FILES_PER_PEER}`, 0), false);
  });

  test('holds() past MAX_PIECES is false, whatever the peer sent', () => {
    const { sources, av } = record();
    av.setBitfield(A, F, new Uint8Array(MAX_PIECES / 8 + 64).fill(0xff));
    sources.announce(F, B);
    assert.equal(av.bitsOf(A, F)!.length, MAX_PIECES / 8, 'bits past MAX_PIECES are not kept');
    for (const p of [A, B]) {
      assert.equal(av.holds(p, F, MAX_PIECES - 1), true);
      for (const piece of [MAX_PIECES, MAX_PIECES + 1, MAX_PIECES + 500, -1]) assert.equal(av.holds(p, F, piece), false, `${p} ${piece}`);
    }
    assert.equal(av.countHeld(A, F, MAX_PIECES + 100), MAX_PIECES);
    assert.equal(av.view(F, MAX_PIECES).counts().length, MAX_PIECES);
    assert.equal(av.view(F, MAX_PIECES).counts()[MAX_PIECES - 1], 2);
  });

  test('view.counts() equals a brute-force count over random bitfields, HAVEs, refusals, announcements and links', () => {
    const random = mulberry32(77);
    const peers = [...Array(12).keys()].map((i) => `peer${i}`);
    for (let round = 0; round < 40; round++) {
      const n = 1 + Math.floor(random() * 300);
      const { sources, av } = record();
      // The model: what each peer holds of F, kept independently of the record.
      const model = new Map<string, Set<number>>();
      const announcedTo = new Set<string>();
      for (const p of peers) {
        const roll = random();
        if (roll < 0.2) {
          sources.announce(F, p);
          announcedTo.add(p);
          model.set(p, new Set([...Array(n).keys()]));
        } else if (roll < 0.7) {
          const has = [...Array(n).keys()].filter(() => random() < 0.4);
          av.setBitfield(p, F, bytesOf(n, has));
          model.set(p, new Set(has));
        } else model.set(p, new Set());
        av.setBitfield(p, G, bytesOf(n, [...Array(n).keys()])); // noise in another file
      }
      for (let e = 0; e < 200; e++) {
        const p = peers[Math.floor(random() * peers.length)]!;
        const piece = Math.floor(random() * n);
        if (random() < 0.5) {
          av.setHave(p, F, piece);
          model.get(p)!.add(piece);
        } else {
          av.setLacks(p, F, piece);
          model.get(p)!.delete(piece);
        }
      }
      for (const p of peers) if (random() < 0.2) sources.unlinked.add(p);
      const gone = peers.filter(() => random() < 0.1);
      for (const p of gone) av.removePeer(p);
      for (const p of gone) model.set(p, announcedTo.has(p) ? new Set([...Array(n).keys()]) : new Set());

      const expected = new Array<number>(n).fill(0);
      for (const p of peers) if (!sources.unlinked.has(p)) for (const piece of model.get(p)!) expected[piece]!++;
      const view = av.view(F, n);
      assert.deepEqual([...view.counts()], expected, `round ${round}`);
      const expectedPeers = peers.filter((p) => !sources.unlinked.has(p) && (announcedTo.has(p) || model.get(p)!.size > 0)).sort();
      assert.deepEqual(view.peers().sort(), expectedPeers, `round ${round}: peers`);
      for (const p of peers) {
        const linkedHolds = sources.unlinked.has(p) ? [] : [...model.get(p)!].sort((x, y) => x - y);
        assert.deepEqual(held(av, p, F, n), linkedHolds, `round ${round}: ${p}`);
      }
    }
  });
});
