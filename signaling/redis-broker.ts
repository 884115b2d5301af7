/**
 * The Broker of cluster-bus.ts on Redis pub/sub with @redis/client: each lane (data,
 * beat) has one connection to publish and one to subscribe (a subscribed connection can
 * do nothing else), so heartbeats never wait behind a backlog of signals.
 *
 * All reconnect on their own (backing off to 2 s). The offline queue is off: a publish
 * while Redis is away fails at once instead of being replayed late and out of order;
 * the bus repairs with a full 'hello' once the data lane's subscriber is back, which
 * node-redis signals with 'ready' after it has re-subscribed.
 *
 * Logs name the state (down / up), never the URL: it may hold a password.
 */
import { createClient } from '@redis/client';
import type { Broker, Lane } from './cluster-bus.ts';
import { errorText } from './relay-support.ts';

/** Backoff between reconnect attempts: quick at first, then every 2 s. */
const reconnectDelay = (retries: number): number => Math.min(50 * 2 ** retries, 2_000);


export function createRedisBroker(url: string, log: (event: Record<string, unknown>) => void): Broker {
  const first = newClient(url);
  const lanes: Record<Lane, { pub: Client; sub: Client }> = {
    data: { pub: first, sub: first.duplicate() },
    beat: { pub: first.duplicate(), sub: first.duplicate() },
  };
  const readyFns: Array<() => void> = [];
  let subscribed = false;

  for (const [lane, pair] of Object.entries(lanes)) {
    for (const [role, client] of Object.entries(pair)) watch(client, `${lane}-${role}`, log);
  }
  lanes.data.sub.on('ready', () => {
    if (subscribed) for (const fn of readyFns) fn();
  });
  const all = Object.values(lanes).flatMap((pair) => [pair.pub, pair.sub]);
  let connecting: Promise<unknown> | null = null;
  const connectAll = () => (connecting ??= Promise.all(all.map((c) => c.connect())));

  return {
    async publish(channel, text, lane) {
      await lanes[lane].pub.publish(channel, text);
    },
    async subscribe(channels, onMessage, lane) {
      await connectAll();
      await lanes[lane].sub.subscribe(channels, (message: string) => onMessage(message));
      if (lane !== 'data') return;
      subscribed = true;
      for (const fn of readyFns) fn();
    },
    onReady(fn) {
      readyFns.push(fn);
    },
    async close() {
      const results = await Promise.allSettled(all.map((c) => c.close()));
      for (const r of results) if (r.status === 'rejected') log({ event: 'redis-close-error', error: errorText(r.reason) });
    },
  };
}

const newClient = (url: string) => createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: reconnectDelay } });
type Client = ReturnType<typeof newClient>;

/** node-redis emits 'error' on every failed attempt while Redis is away: log the changes only. */
function watch(client: Client, connection: string, log: (event: Record<string, unknown>) => void): void {
  let down = false;
  client.on('error', (err: unknown) => {
    if (!down) log({ event: 'redis-down', connection, error: errorText(err) });
    down = true;
  });
  client.on('ready', () => {
    if (down) log({ event: 'redis-up', connection });
    down = false;
  });
}
