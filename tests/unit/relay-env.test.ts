/** The relay's settings from the environment (relay-env.ts): caps and REDIS_URL, with clear errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError, busFromEnv, readRedisUrl, readRelayLimits } from '../../signaling/relay-env.ts';

test('relay caps: unset keeps the defaults, whole numbers from 1 are taken, anything else is refused by name', () => {
  assert.deepEqual(readRelayLimits({}), {});
  assert.deepEqual(readRelayLimits({ MAX_CONNECTIONS: '20000', MAX_CONNECTIONS_PER_ADDRESS: '', MAX_IDENTITIES_PER_ADDRESS: '7' }),
    { maxConnections: 20000, maxIdentitiesPerAddress: 7 });
  for (const bad of ['0', '-1', '1.5', 'lots', '99999999']) {
    assert.throws(() => readRelayLimits({ MAX_CONNECTIONS: bad }), (e: Error) => e instanceof UsageError && e.message.startsWith('MAX_CONNECTIONS must'));
  }
});

test('REDIS_URL: redis:// or rediss:// only, and the error never repeats the URL (it may hold a password)', () => {
  assert.equal(readRedisUrl({}), null);
  assert.equal(readRedisUrl({ REDIS_URL: 'redis://:pw@10.0.0.5:6379' }), 'redis://:pw@10.0.0.5:6379');
  assert.equal(readRedisUrl({ REDIS_URL: 'rediss://cache.example.org' }), 'rediss://cache.example.org');
  for (const bad of ['http://secret@example.org', 'not a url secret', 'redis-secret']) {
    assert.throws(() => readRedisUrl({ REDIS_URL: bad }), (e: Error) => e instanceof UsageError && !e.message.includes('secret'));
  }
});

test('without REDIS_URL the relay is alone; a bad REDIS_PREFIX is refused before any connection', () => {
  const bus = busFromEnv({}, () => undefined);
  assert.deepEqual([...bus.remoteMembers('a'.repeat(64))], []);
  assert.throws(() => busFromEnv({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: 'has space' }, () => undefined), UsageError);
});
