import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecordCache } from '../../src/storage/record-cache.ts';
import { runKey } from '../../src/storage/runs.ts';

/** The records read last (src/storage/record-cache.ts), as the browser's store uses them to serve a run's pieces. */
const run = (file: string, first: number, count: number) => runKey(file, { first, count });

test('a kept record answers for its own pieces only, one-piece records from before runs too', () => {
  const c = new RecordCache<string>();
  c.keep('f', run('f', 16, 16), 'run 16..31', c.since());
  assert.equal(c.holding('f', 16)?.value, 'run 16..31');
  assert.equal(c.holding('f', 31)?.value, 'run 16..31');
  assert.equal(c.holding('f', 15), undefined);
  assert.equal(c.holding('f', 32), undefined);
  assert.equal(c.holding('g', 20), undefined, 'another file is not answered from it');
  c.keep('f', ['f', 40], 'piece 40', c.since());
  assert.equal(c.holding('f', 40)?.value, 'piece 40');
  assert.equal(c.holding('f', 20)?.value, 'run 16..31', 'several records of one file are kept: two peers fetching at two places');
});

test('a write or deletion forgets the file; a read under way meanwhile keeps nothing', () => {
  const c = new RecordCache<string>();
  c.keep('f', run('f', 0, 8), 'old', c.since());
  c.keep('g', run('g', 0, 8), 'other file', c.since());
  const since = c.since(); // a read of f starts, and finds the record a repair is about to replace
  c.forget('f'); // the repair's write
  assert.equal(c.holding('f', 3), undefined);
  c.keep('f', run('f', 0, 8), 'old', since);
  assert.equal(c.holding('f', 3), undefined, 'what the read found may be gone: not kept');
  assert.equal(c.holding('g', 3)?.value, 'other file', 'other files keep theirs');
  c.keep('f', run('f', 0, 8), 'new', c.since());
  assert.equal(c.holding('f', 3)?.value, 'new');
});

test('at most `records` records are kept; the one used longest ago goes first', async () => {
  const c = new RecordCache<number>(2);
  c.keep('a', run('a', 0, 4), 1, c.since());
  c.keep('b', run('b', 0, 4), 2, c.since());
  await c.read('a', 2, async () => assert.fail('kept: not read again')); // a used again: now the latest
  c.keep('c', run('c', 0, 4), 3, c.since());
  assert.equal(c.holding('b', 0), undefined, 'b, used longest ago, went');
  assert.equal(c.holding('a', 1)?.value, 1);
  assert.equal(c.holding('c', 1)?.value, 3);
});

test('hits count the pieces asked of a kept record after the one that read it', async () => {
  const c = new RecordCache<string>();
  const store = async () => ({ key: run('f', 0, 4), value: 'run 0' });
  assert.equal((await c.read('f', 0, store))?.hits, 0);
  assert.equal((await c.read('f', 1, store))?.hits, 1);
  assert.equal((await c.read('f', 2, store))?.hits, 2);
  const since = c.since();
  c.forget('f');
  const late = await c.read('f', 3, async () => {
    c.forget('f'); // a write lands while this read is under way
    return store();
  });
  assert.equal(late?.value, 'run 0', 'the read still answers');
  assert.equal(c.holding('f', 3), undefined, 'but keeps nothing');
  assert.notEqual(c.since(), since);
});

test('read() asks the store only for a piece the kept record does not hold', async () => {
  const c = new RecordCache<string>();
  const asked: number[] = [];
  const store = (index: number) => async () => {
    asked.push(index);
    const first = index - (index % 4);
    return index < 12 ? { key: run('f', first, 4), value: `run ${first}` } : undefined;
  };
  const values = [];
  for (const i of [0, 1, 2, 3, 4, 5, 12, 13]) values.push((await c.read('f', i, store(i)))?.value);
  assert.deepEqual(values, ['run 0', 'run 0', 'run 0', 'run 0', 'run 4', 'run 4', undefined, undefined]);
  assert.deepEqual(asked, [0, 4, 12, 13], 'one read per record; a piece no record holds is asked for each time');
});
