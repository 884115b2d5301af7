/**
 * The relay's settings from the environment, shared by `npm start` (start.ts) and the
 * relay load benchmark (tests/bench/relay-load.ts):
 *   MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS, MAX_IDENTITIES_PER_ADDRESS (limits.ts);
 *   REDIS_URL (e.g. redis://10.0.0.5:6379): share rooms with every relay instance
 *   using the same Redis (cluster-bus.ts); REDIS_PREFIX (default "meshdrop:") keeps
 *   deployments sharing one Redis apart.
 */
import { createClusterBus } from './cluster-bus.ts';
import type { RelayLimits } from './limits.ts';
import { createRedisBroker } from './redis-broker.ts';
import { localBus, type RoomBus } from './room-bus.ts';

/** A setting that cannot work: the message says which and why. */
export class UsageError extends Error {}

const LIMIT_VARS = {
  MAX_CONNECTIONS: 'maxConnections',
  MAX_CONNECTIONS_PER_ADDRESS: 'maxConnectionsPerAddress',
  MAX_IDENTITIES_PER_ADDRESS: 'maxIdentitiesPerAddress',
} as const;

/**
 * Relay caps an operator raises: users sharing one address (an office NAT, a test
 * machine), or a big machine. Unset keeps the relay's default.
 */
export function readRelayLimits(env: NodeJS.ProcessEnv): Partial<RelayLimits> {
  const limits: Partial<Record<keyof RelayLimits, number>> = {};
  for (const [name, key] of Object.entries(LIMIT_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1) throw new UsageError(`${name} must be a whole number from 1 up, got ${JSON.stringify(raw)}`);
    limits[key] = Number(raw);
  }
  return limits;
}

/** The URL is checked for shape only; it is never logged (it may carry a password). */
export function readRedisUrl(env: NodeJS.ProcessEnv): string | null {
  const raw = env.REDIS_URL;
  if (raw === undefined || raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError('REDIS_URL is not a URL (expected e.g. redis://127.0.0.1:6379)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UsageError('REDIS_URL must start with redis:// or rediss://');
  return raw;
}

/** localBus() without REDIS_URL; otherwise a bus to the other instances through Redis. */
export function busFromEnv(env: NodeJS.ProcessEnv, log: (event: Record<string, unknown>) => void): RoomBus {
  const url = readRedisUrl(env);
  if (url === null) return localBus();
  const prefix = env.REDIS_PREFIX || 'meshdrop:';
  if (!/^[\w:.-]{1,64}$/.test(prefix)) throw new UsageError('REDIS_PREFIX may hold letters, digits, _ : . - (at most 64)');
  return createClusterBus({ broker: createRedisBroker(url, log), prefix, log });
}
