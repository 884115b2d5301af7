import { expect, test } from '@playwright/test';
import { DESKTOP, displayName, download, expectPeer, fileRow, joinRoom, newPage, randomFile, sha256, shareFile, startRoomAt } from './helpers.ts';
import { freePort, killGroup, startMeshdrop } from './servers.ts';
import { hasRedisServer, startRedis } from '../tools/redis-server.ts';

/**
 * Two meshdrop servers sharing rooms through a real redis-server (REDIS_URL): Alice opens
 * the room on one, Bob on the other; they meet through Redis and the file arrives intact.
 * Without redis-server (tests/e2e/ensure-redis.sh installs Debian's) the test skips, saying why.
 */
const KiB = 1024;

test.describe('relay instances joined through Redis', () => {
  test.skip(!hasRedisServer(), 'redis-server is not installed: run "sudo apt-get install -y redis-server" to run the Redis tests');

  test('two browsers on two relay instances meet and share a file intact', async ({ browser }) => {
    const redis = await startRedis();
    const [portA, portB] = [await freePort(), await freePort()];
    const servers = await Promise.all([portA, portB].map((port) => startMeshdrop(port, { REDIS_URL: redis.url })));
    try {
      const alice = await newPage(browser, DESKTOP);
      const room = await startRoomAt(alice.page, `http://127.0.0.1:${portA}`);
      const bob = await newPage(browser, DESKTOP);
      await joinRoom(bob.page, `http://127.0.0.1:${portB}/${room}`);
      await expectPeer(bob.page, await displayName(alice.page));
      await expectPeer(alice.page, await displayName(bob.page));

      const original = randomFile(700 * KiB);
      await shareFile(alice.page, 'across-instances.bin', original);
      await expect(fileRow(bob.page, 'across-instances.bin')).toBeVisible();
      const saved = await download(bob.page, 'across-instances.bin');
      expect(sha256(saved.bytes)).toBe(sha256(original));
      for (const p of [alice, bob]) await p.context.close();
    } finally {
      for (const s of servers) killGroup(s);
      await redis.stop();
    }
  });
});
