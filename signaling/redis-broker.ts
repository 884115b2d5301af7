/**
 * The Broker of cluster-bus.ts on Redis pub/sub with @redis/client: one connection to
 * publish, one to subscribe (a subscribed connection can do nothing else).
 *
 * Both reconnect on their own (backing off to 2 s). The offline queue is off: a publish
 * while Redis is away fails at once instead of being replayed late and out of order;
 * the bus repairs with a full 'hello' once the subscriber is back, which node-redis
 * signals with 'ready' after it has re-subscribed.
 *
 * Logs name the state (down / up), never the URL: it may hold a password.
 */
import { createClient } from '@redis/client';
import type { Broker } from './cluster-bus.ts';
import { errorText } from './relay-support.ts';

/** Backoff between reconnect attempts: quick at first, then every 2 s. */
const reconnectDelay = (retries: number): number => Math.min(50 * 2 ** retries, 2_000);

export function createRedisBroker(url: string, log: (event: Record<string, unknown>) => void): Broker {
  const pub = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: reconnectDelay } });
  const sub = pub.duplicate();
  const readyFns: Array<() => void> = [];
  let subscribed = false;
  const down = { pub: false, sub: false };

  for (const [name, client] of [['pub', pub], ['sub', sub]] as const) {
    // node-redis emits 'error' on every failed attempt while Redis is away: log the change only.
    client.on('error', (err: unknown) => {
      if (!down[name]) log({ event: 'redis-down', connection: name, error: errorText(err) });
      down[name] = true;
    });
    client.on('ready', () => {
      if (down[name]) log({ event: 'redis-up', connection: name });
      down[name] = false;
    });
  }
  sub.on('ready', () => {
    if (subscribed) for (const fn of readyFns) fn();
  });

  return {
    async publish(channel, text) {
      await pub.publish(channel, text);
    },
    async subscribe(channels, onMessage) {
      await Promise.all([pub.connect(), sub.connect()]);
      await sub.subscribe(channels, (message: string) => onMessage(message));
      subscribed = true;
      for (const fn of readyFns) fn();
    },
    onReady(fn) {
      readyFns.push(fn);
    },
    async close() {
      const results = await Promise.allSettled([pub.close(), sub.close()]);
      for (const r of results) if (r.status === 'rejected') log({ event: 'redis-close-error', error: errorText(r.reason) });
    },
  };
}
