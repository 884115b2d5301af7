import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storageText } from '../../src/ui/StorageMeter.tsx';

test('the storage meter says how much is used of what the browser allows', () => {
  assert.equal(storageText({ usage: 120 * 2 ** 20, quota: 10 * 2 ** 30 }), 'Storage: 120 MiB used of 10 GiB');
  assert.equal(storageText({ usage: 0, quota: 512 * 2 ** 20 }), 'Storage: 0 B used of 512 MiB');
});

test('no meter when the browser cannot tell', () => {
  assert.equal(storageText(null), null);
  assert.equal(storageText({ usage: 0, quota: 0 }), null);
  assert.equal(storageText({ usage: 0, quota: Number.NaN }), null);
});
