/**
 * One relay instance of the relay load benchmark (relay-load.ts forks it, with
 * --expose-gc): the real createRelay, configured from the environment as `npm start`
 * is (MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS, MAX_IDENTITIES_PER_ADDRESS,
 * REDIS_URL), without the static app. Logs are counted, not printed: ten thousand
 * connect lines would be the benchmark.
 *
 * Parent -> this: { cmd: 'mem' } (after a full GC), { cmd: 'close' }
 * This -> parent: { ev: 'ready', port }, { ev: 'mem', rss, heapUsed, external, cpu (µs), connections, stats, logged, lastErrors }
 */
import { createRelay } from '../../signaling/relay.ts';
import { busFromEnv, readRelayLimits } from '../../signaling/relay-env.ts';

const logged: Record<string, number> = {};
/** The last error text per event name (error texts name no peer, topic or address). */
const lastErrors: Record<string, string> = {};
const log = (event: Record<string, unknown>): void => {
  const name = String(event.event);
  logged[name] = (logged[name] ?? 0) + 1;
  if (typeof event.error === 'string') lastErrors[name] = event.error;
};
const bus = busFromEnv(process.env, log);
const relay = createRelay({ port: 0, host: '127.0.0.1', log, limits: readRelayLimits(process.env), bus, statsLogMs: 0 });
await relay.ready;

function memory(): Record<string, unknown> {
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  const { user, system } = process.cpuUsage();
  return { rss, heapUsed, external, arrayBuffers, cpu: user + system, connections: relay.stats().connections, stats: relay.stats() };
}

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'mem') process.send!({ ev: 'mem', ...memory(), logged, lastErrors });
  else if (msg.cmd === 'close') relay.close().then(() => process.exit(0), () => process.exit(1));
});
process.send!({ ev: 'ready', port: relay.address().port });
