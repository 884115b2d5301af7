/**
 * Relay instances joined through a real redis-server: the Redis broker, a relay process
 * killed for real, and Redis itself restarting. Skips (saying why) without redis-server.
 * The bus logic in depth is in relay-cluster.test.ts, over an in-memory broker.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import { createClusterBus } from '../../signaling/cluster-bus.ts';
import { RELAY_PATH } from '../../signaling/protocol.ts';
import { createRedisBroker } from '../../signaling/redis-broker.ts';
import { createRelay } from '../../signaling/relay.ts';
import { openClient, sleep, until } from './helpers/relay-client.ts';
import { NO_REDIS, hasRedisServer, startRedis, type RedisServer } from '../tools/redis-server.ts';

const T = 'c'.repeat(64);
const HEARTBEAT_MS = 100;
const LIVENESS_MS = 700;
const skip = hasRedisServer() ? false : NO_REDIS;

async function redis(t: TestContext): Promise<RedisServer> {
  const server = await startRedis();
  t.after(() => server.stop());
  return server;
}

async function instance(t: TestContext, url: string) {
  const events: Record<string, unknown>[] = [];
  const log = (e: Record<string, unknown>): void => { events.push(e); };
  const bus = createClusterBus({ broker: createRedisBroker(url, log), heartbeatMs: HEARTBEAT_MS, livenessMs: LIVENESS_MS, log });
  const relay = createRelay({ port: 0, host: '127.0.0.1', log, bus });
  t.after(() => relay.close());
  await relay.ready;
  await bus.ready;
  const wsUrl = `ws://127.0.0.1:${relay.address().port}${RELAY_PATH}`;
  return { relay, bus, events, connect: () => openClient(t, wsUrl) };
}

/** A relay in its own process, to be killed with SIGKILL. */
async function relayProcess(t: TestContext, url: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/unit/helpers/relay-process.ts'], {
    env: { ...process.env, REDIS_URL: url, CLUSTER_HEARTBEAT_MS: String(HEARTBEAT_MS), CLUSTER_LIVENESS_MS: String(LIVENESS_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => { child.kill('SIGKILL'); });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const m = /"event":"listening","port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`relay process exited with ${code}`)));
  });
  return { child, connect: () => openClient(t, `ws://127.0.0.1:${port}${RELAY_PATH}`) };
}

describe('relay instances through a real Redis', { skip }, () => {
  test('two people on two instances meet and signal', { timeout: 20_000 }, async (t) => {
    const server = await redis(t);
    const one = await instance(t, server.url);
    const two = await instance(t, server.url);
    await until(() => one.bus.instances().length === 1 && two.bus.instances().length === 1, 'the instances to meet');
    const [a, b] = [await one.connect(), await two.connect()];
    await a.join(T);
    await sleep(50);
    assert.deepEqual((await b.join(T)).peers, [a.id]);
    assert.equal((await a.next('peer-joined')).peer, b.id);
    b.send({ type: 'signal', topic: T, to: a.id, data: 'offer' });
    assert.deepEqual(await a.next('signal'), { type: 'signal', topic: T, from: b.id, data: 'offer' });
  });

  test('a killed relay process loses its own members; the survivors keep theirs', { timeout: 30_000 }, async (t) => {
    const server = await redis(t);
    const one = await instance(t, server.url);
    const two = await instance(t, server.url);
    const doomed = await relayProcess(t, server.url);
    await until(() => one.bus.instances().length === 2, 'three instances to meet');
    const [a, b, x] = [await one.connect(), await two.connect(), await doomed.connect()];
    for (const c of [a, b, x]) {
      await c.join(T);
      await sleep(50);
    }
    assert.deepEqual((await b.join(T)).peers.sort(), [a.id, x.id].sort());

    doomed.child.kill('SIGKILL');
    assert.equal((await a.next('peer-left', LIVENESS_MS * 5)).peer, x.id);
    assert.equal((await b.next('peer-left', LIVENESS_MS * 5)).peer, x.id);
    a.send({ type: 'signal', topic: T, to: b.id, data: 'still-here' });
    assert.equal((await b.next('signal')).from, a.id);
    const late = await two.connect();
    assert.deepEqual((await late.join(T)).peers.sort(), [a.id, b.id].sort());
  });

  test('after Redis restarts, room state is re-synchronised', { timeout: 30_000 }, async (t) => {
    let server = await redis(t);
    const one = await instance(t, server.url);
    const two = await instance(t, server.url);
    await until(() => one.bus.instances().length === 1, 'the instances to meet');
    const [a, gone, b] = [await one.connect(), await one.connect(), await two.connect()];
    await a.join(T);
    await gone.join(T);
    await sleep(50);
    await b.join(T);

    await server.stop();
    gone.ws.close(); // missed by two
    const c = await one.connect();
    await c.join(T); // missed by two
    await sleep(LIVENESS_MS * 2);
    assert.ok(one.events.some((e) => e.event === 'redis-down'));
    server = await startRedis(server.port);
    t.after(() => server.stop());

    await until(() => one.events.some((e) => e.event === 'redis-up'), 'the relays to reconnect');
    const fresh = await two.connect();
    await until(() => two.bus.instances().length === 1, 'two to hear one again');
    await sleep(200);
    assert.deepEqual((await fresh.join(T)).peers.sort(), [a.id, c.id, b.id].sort(), 'two sees one as it is now');
    const seen = b.inbox.filter((m) => m.type === 'peer-joined').map((m) => (m as { peer: string }).peer);
    assert.ok(seen.includes(c.id), 'b hears of the member who joined during the outage');
    assert.ok(!seen.includes(gone.id));
    c.send({ type: 'signal', topic: T, to: b.id, data: 'across' });
    assert.equal((await b.next('signal')).from, c.id);
  });
});
