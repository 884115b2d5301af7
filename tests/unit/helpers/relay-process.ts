/**
 * A relay instance in a process of its own, joined to others through REDIS_URL, for
 * tests that kill it for real (SIGKILL: no bye, no closing handshake). Prints
 * "listening <port>" once it accepts sockets. Liveness timings from CLUSTER_HEARTBEAT_MS
 * and CLUSTER_LIVENESS_MS.
 */
import { createClusterBus } from '../../../signaling/cluster-bus.ts';
import { createRedisBroker } from '../../../signaling/redis-broker.ts';
import { createRelay } from '../../../signaling/relay.ts';

const log = (event: Record<string, unknown>): void => { process.stderr.write(`${JSON.stringify(event)}\n`); };
const bus = createClusterBus({
  broker: createRedisBroker(process.env.REDIS_URL!, log),
  heartbeatMs: Number(process.env.CLUSTER_HEARTBEAT_MS),
  livenessMs: Number(process.env.CLUSTER_LIVENESS_MS),
  log,
});
const relay = createRelay({ port: 0, host: '127.0.0.1', log, bus });
await relay.ready;
await bus.ready;
process.stdout.write(`listening ${relay.address().port}\n`);
