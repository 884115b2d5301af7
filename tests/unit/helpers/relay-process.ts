/**
 * A relay in its own process, for tests that must see it survive (or die) for real.
 *
 *   node --expose-gc --import tsx tests/unit/helpers/relay-process.ts '<RelayOptions JSON>'
 *
 * Listens on 127.0.0.1, port 0, with the options given (limits, allowedOrigins,
 * statsLogMs). The first stdout line is {"event":"listening","port":N}; after it come
 * the relay's own JSON log lines. Over IPC it answers {type:'stats'} with
 * {type:'stats', stats}, and {type:'measure'} with {type:'measure', memory, stats}
 * after two full GCs when run with --expose-gc (so poll with 'stats', not 'measure').
 * It exits when its parent disconnects, so a crashed test leaves no relay behind.
 * With REDIS_URL it is one of several instances sharing rooms through Redis, with the
 * liveness timings CLUSTER_HEARTBEAT_MS and CLUSTER_LIVENESS_MS (relay-redis.test.ts).
 */
import { createClusterBus } from '../../../signaling/cluster-bus.ts';
import { createRedisBroker } from '../../../signaling/redis-broker.ts';
import { createRelay, type RelayOptions } from '../../../signaling/relay.ts';
import { logJson } from '../../../signaling/relay-support.ts';

type Options = Pick<RelayOptions, 'limits' | 'allowedOrigins' | 'statsLogMs' | 'heartbeatMs'>;

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const { REDIS_URL, CLUSTER_HEARTBEAT_MS, CLUSTER_LIVENESS_MS } = process.env;
const bus = REDIS_URL ? createClusterBus({
  broker: createRedisBroker(REDIS_URL, logJson), heartbeatMs: Number(CLUSTER_HEARTBEAT_MS), livenessMs: Number(CLUSTER_LIVENESS_MS), log: logJson,
}) : undefined;
const relay = createRelay({ ...options, port: 0, host: '127.0.0.1', bus });
await relay.ready;
await bus?.ready;
process.stdout.write(`${JSON.stringify({ event: 'listening', port: relay.address().port })}\n`);

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (msg: { type?: string }) => {
  if (msg.type === 'stats') process.send?.({ type: 'stats', stats: relay.stats() });
  if (msg.type !== 'measure') return;
  gc?.();
  gc?.(); // a second pass collects what the first one's finalisers released
  process.send?.({ type: 'measure', memory: process.memoryUsage(), stats: relay.stats() });
});
process.on('disconnect', () => {
  void relay.close().finally(() => process.exit(0));
});
