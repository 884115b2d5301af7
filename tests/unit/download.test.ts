import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Download, type DownloadDeps } from '../../src/app/download.ts';
import { Library } from '../../src/app/library.ts';
import { Bitfield } from '../../src/core/bitfield.ts';
import { sha256 } from '../../src/core/hash.ts';
import { buildManifest, pieceRange, pieceSizeFor } from '../../src/core/manifest/manifest.ts';
import type { WireMessage } from '../../src/core/wire/frames.ts';
import { createMemoryStore } from '../../src/storage/memory-store.ts';

/**
 * One Download driven message by message, with the peers scripted: the
 * orderings that real networks produce only sometimes happen here every time.
 */
const P = 'peerPPPPPPPPPPPP';

async function setup() {
  const size = 6 * pieceSizeFor(0) + 1000; // 7 pieces
  const bytes = new Uint8Array(randomBytes(size));
  const m = { size, pieceSize: pieceSizeFor(size) };
  const hashes = await Promise.all([...Array(7)].map((_, i) => sha256(bytes.subarray(pieceRange(m, i).start, pieceRange(m, i).end))));
  const built = await buildManifest(size, hashes, sha256);
  assert.ok(built.ok);
  const manifest = built.value;
  const meta = { id: manifest.id, name: 'f.bin', size, mime: 'application/octet-stream' };
  const sent: { peer: string; m: WireMessage }[] = [];
  let now = 0;
  const library = new Library(createMemoryStore(), sha256, () => now, () => undefined, () => undefined);
  const deps: DownloadDeps = {
    library, sha256, now: () => now, random: () => 0.5,
    fullHolders: () => [], openPeers: () => [P],
    send: (peer, msg) => sent.push({ peer, m: msg }),
    expect: () => undefined, cancel: () => undefined, misbehaved: () => undefined,
    stored: () => undefined, changed: () => undefined, completed: () => undefined,
  };
  return { meta, manifest, sent, deps };
}

const requests = (sent: { m: WireMessage }[]) => sent.filter((s) => s.m.type === 'request').map((s) => (s.m as { piece: number }).piece);

test('a HAVE that arrives before our manifest still makes that peer a source of the piece', async () => {
  const { meta, manifest, sent, deps } = await setup();
  const d = new Download(meta, deps);
  d.start();
  d.onBitfield(P, new Bitfield(7).bytes); // P starts with nothing...
  d.onHave(P, 3); // ...then gets piece 3 while our manifest is still on its way
  const ask = sent.find((s) => s.m.type === 'want-manifest');
  assert.equal(ask?.peer, P, 'P holds a piece, so it can give us the manifest');
  d.onManifestPart(P, 0, 1, manifest.hashes);
  await new Promise((resolve) => setTimeout(resolve, 20)); // the manifest's hash check
  assert.equal(d.status, 'downloading');
  assert.deepEqual(requests(sent), [3], 'piece 3 is requested from P');
});

test('an "I hold it all" announcement from a peer we already know makes it a source of every piece', async () => {
  const { meta, manifest, sent, deps } = await setup();
  const d = new Download(meta, { ...deps, fullHolders: () => [P] });
  d.start();
  d.onManifestPart(P, 0, 1, manifest.hashes);
  await new Promise((resolve) => setTimeout(resolve, 20));
  d.onBitfield(P, new Bitfield(7).bytes); // it had nothing when it told us
  assert.deepEqual(requests(sent), []);
  d.onHolder(P); // it finished, and announced it, with no HAVE reaching us
  assert.equal(requests(sent).length, 2, 'requests go out at once (pipeline of 2)');
});
