import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { READ_AHEAD, readHashed } from '../../src/app/file-import.ts';

/** A file of `pieces` pieces of 4 bytes whose reads finish in reverse order, counting how many run at once. */
function slowFile(pieces: number, failAt = -1) {
  const bytes = Uint8Array.from({ length: pieces * 4 }, (_, i) => i % 251);
  let running = 0;
  const seen = { most: 0, reads: 0 };
  const file = {
    size: bytes.length,
    slice: (start: number, end: number) => ({
      arrayBuffer: async () => {
        running++;
        seen.reads++;
        seen.most = Math.max(seen.most, running);
        // Later pieces answer sooner: the order out must still be the file's.
        await new Promise((r) => setTimeout(r, (pieces - start / 4) * 2));
        running--;
        if (start / 4 === failAt) throw new Error(`disk error at piece ${failAt}`);
        return bytes.slice(start, end).buffer;
      },
    }),
  } as unknown as Blob;
  return { file, bytes, seen };
}

const sha256 = async (d: Uint8Array) => new Uint8Array(createHash('sha256').update(d).digest());
const shape = (pieces: number) => ({ size: pieces * 4, pieceSize: 4, pieceCount: pieces });

test('readHashed yields every piece in order with its hash, reading READ_AHEAD at once', async () => {
  const { file, bytes, seen } = slowFile(10);
  let index = 0;
  for await (const { data, hash } of readHashed(file, shape(10), sha256)) {
    assert.deepEqual(data, bytes.slice(index * 4, index * 4 + 4));
    assert.deepEqual(hash, await sha256(data));
    index++;
  }
  assert.equal(index, 10);
  assert.equal(seen.most, READ_AHEAD, 'reads overlap, up to READ_AHEAD');
});

test('a failed read is thrown when its piece is taken, after the pieces before it', async () => {
  const { file } = slowFile(8, 5);
  const got: number[] = [];
  await assert.rejects(async () => {
    for await (const { data } of readHashed(file, shape(8), sha256)) got.push(data[0]! / 4);
  }, /disk error at piece 5/);
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
});

test('stopping early leaves no unhandled rejection from pieces read ahead', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const { file, seen } = slowFile(8, 2);
    for await (const _ of readHashed(file, shape(8), sha256)) break; // withdrawn after the first piece
    await new Promise((r) => setTimeout(r, 50)); // let the pieces read ahead (one of them failing) settle
    assert.ok(seen.reads <= READ_AHEAD, 'nothing is read after the import stopped');
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
