/**
 * A RoomBus over a Broker (Redis pub/sub in production, an in-memory hub in tests):
 * relay instances that share rooms. Each instance mirrors which other instance holds
 * which (topic, peer id); joins and leaves are broadcast, signals go to the one instance
 * that holds the target. Messages are described in cluster-wire.ts.
 *
 * Repair, because pub/sub delivers at most once and only while connected:
 * - each instance says 'hb' every heartbeat; one not heard for `livenessMs` is taken
 *   for dead (a killed process, a lost network) and its members leave everyone's rooms.
 *   Heartbeats take their own lane (their own Redis connections): on the shared one they
 *   queue behind a backlog of signals, and a busy instance would be taken for a dead one,
 *   its members dropped from every room at the worst moment. Everything else shares the
 *   data lane, whose order matters (a join before the signals that follow it);
 * - whenever the broker (re)connects, the instance broadcasts 'hello' with everything it
 *   holds, and every other instance answers with its own 'state': both views are then
 *   replaced wholesale, whatever was missed in between;
 * - a message from an instance we hold nothing for (it came back after we dropped it)
 *   makes us 'ask' it for its state.
 *
 * A peer id may be held by two instances for a moment (it reconnected to another one
 * before its old socket was evicted): holders are kept as a set per (topic, id), the
 * newest last, so that signals go to the newest and a peer-left is only reported when
 * no instance holds it any more.
 */
import { randomBytes } from 'node:crypto';
import { errorText } from './relay-support.ts';
import { MAX_BATCH, encodeBusBatch, parseBusBatch, type BusMessage, type Members } from './cluster-wire.ts';
import type { BusHandlers, RoomBus } from './room-bus.ts';

/**
 * A lane is one publishing and one subscribing connection: messages keep their order
 * within a lane, and a backlog in one lane never delays the other.
 */
export type Lane = 'data' | 'beat';

/** Publish/subscribe with reconnection: the seam between the bus and Redis. */
export interface Broker {
  publish(channel: string, text: string, lane: Lane): Promise<void>;
  /** Subscribes once per lane; the broker keeps the subscriptions across reconnects. */
  subscribe(channels: string[], onMessage: (text: string) => void, lane: Lane): Promise<void>;
  /** `fn` runs each time the data lane's subscriptions are live: after the first connect and after every reconnect. */
  onReady(fn: () => void): void;
  close(): Promise<void>;
}

export interface ClusterOptions {
  broker: Broker;
  /** Channel name prefix, so several deployments can share one Redis. */
  prefix?: string;
  instanceId?: string;
  now?: () => number;
  heartbeatMs?: number;
  /** An instance not heard for this long is taken for dead. */
  livenessMs?: number;
  log?: (event: Record<string, unknown>) => void;
}

export const CLUSTER_HEARTBEAT_MS = 2_000;
export const CLUSTER_LIVENESS_MS = 10_000;

export interface ClusterBus extends RoomBus {
  readonly instanceId: string;
  /** Resolves once subscribed (or rejects if the first subscription failed). */
  readonly ready: Promise<void>;
  /** Instances currently heard from (tests and stats). */
  instances(): string[];
}

interface Remote { seen: number; held: Set<string> }

const entryKey = (topic: string, id: string): string => `${topic} ${id}`;

export function createClusterBus(opts: ClusterOptions): ClusterBus {
  const { broker, now = Date.now, log = () => undefined } = opts;
  const prefix = opts.prefix ?? 'meshdrop:';
  const self = opts.instanceId ?? randomBytes(9).toString('base64url');
  const roomsChannel = `${prefix}rooms`;
  const beatChannel = `${prefix}hb`;
  const inbox = (instance: string): string => `${prefix}i:${instance}`;
  const holders = new Map<string, Map<string, Set<string>>>(); // topic -> id -> instances, newest last
  const remotes = new Map<string, Remote>();
  let handlers: BusHandlers | null = null;
  let helloPending = true;
  let failing = false;
  let ready: Promise<void> = Promise.resolve();

  /**
   * Queues `m` for `channel`; what one turn of the event loop queued goes out as one
   * batch per channel. Under load that is one PUBLISH per few hundred signals instead of
   * one each, which is what keeps Redis and the subscribers ahead of the traffic.
   */
  const outbox = new Map<string, BusMessage[]>();
  function publish(channel: string, m: BusMessage): void {
    if (outbox.size === 0) setImmediate(flush);
    let queue = outbox.get(channel);
    if (!queue) outbox.set(channel, (queue = []));
    queue.push(m);
  }

  function flush(): void {
    for (const [channel, queue] of outbox) {
      for (let i = 0; i < queue.length; i += MAX_BATCH) send(channel, queue.slice(i, i + MAX_BATCH));
    }
    outbox.clear();
  }

  function send(channel: string, batch: BusMessage[]): void {
    broker.publish(channel, encodeBusBatch(batch), 'data').then(
      () => {
        if (failing) log({ event: 'bus-publish-recovered' });
        failing = false;
        if (batch.some((m) => m.t === 'hello')) helloPending = false;
      },
      (err: unknown) => {
        // Whatever did not go out is repaired by the next hello, once the broker is back.
        helloPending = true;
        if (!failing) log({ event: 'bus-publish-failed', error: errorText(err) });
        failing = true;
      },
    );
  }

  function snapshot(): Members {
    const out: Members = Object.create(null) as Members;
    for (const [topic, id] of handlers?.snapshot() ?? []) (out[topic] ??= []).push(id);
    return out;
  }

  /** `at`: the join's time, for a join message; a snapshot's entries have none and evict nothing. */
  function add(instance: string, remote: Remote, topic: string, id: string, at: number | null): void {
    let ids = holders.get(topic);
    if (!ids) holders.set(topic, (ids = new Map()));
    let set = ids.get(id);
    const fresh = !set || set.size === 0;
    if (!set) ids.set(id, (set = new Set()));
    set.delete(instance); // re-added below: newest holder last
    set.add(instance);
    remote.held.add(entryKey(topic, id));
    const supersedes = (localAt: number): boolean => at !== null && (localAt < at || (localAt === at && self < instance));
    if (at !== null || fresh) handlers?.remoteJoined(topic, id, supersedes);
  }

  function remove(instance: string, remote: Remote, topic: string, id: string): void {
    remote.held.delete(entryKey(topic, id));
    const ids = holders.get(topic);
    const set = ids?.get(id);
    if (!ids || !set?.delete(instance) || set.size > 0) return;
    ids.delete(id);
    if (ids.size === 0) holders.delete(topic);
    handlers?.remoteLeft(topic, id);
  }

  function forEachEntry(keys: Iterable<string>, fn: (topic: string, id: string) => void): void {
    for (const key of [...keys]) {
      const space = key.indexOf(' ');
      fn(key.slice(0, space), key.slice(space + 1));
    }
  }

  /** `instance` holds exactly `rooms` now: report the differences only. */
  function replace(instance: string, remote: Remote, rooms: Members): void {
    const next = new Set<string>();
    for (const [topic, ids] of Object.entries(rooms)) for (const id of ids) next.add(entryKey(topic, id));
    forEachEntry([...remote.held].filter((k) => !next.has(k)), (topic, id) => remove(instance, remote, topic, id));
    forEachEntry([...next].filter((k) => !remote.held.has(k)), (topic, id) => add(instance, remote, topic, id, null));
  }

  function drop(instance: string): void {
    const remote = remotes.get(instance);
    if (!remote) return;
    forEachEntry(remote.held, (topic, id) => remove(instance, remote, topic, id));
    remotes.delete(instance);
  }

  function onBusMessage(m: BusMessage): void {
    if (m.i === self) return; // our own broadcasts come back to us
    if (m.t === 'bye') return drop(m.i);
    let remote = remotes.get(m.i);
    const known = remote !== undefined;
    if (!remote) remotes.set(m.i, (remote = { seen: 0, held: new Set() }));
    remote.seen = now();
    if (m.t === 'hello' || m.t === 'state') replace(m.i, remote, m.rooms);
    else if (m.t === 'join') add(m.i, remote, m.topic, m.id, m.at);
    else if (m.t === 'leave') remove(m.i, remote, m.topic, m.id);
    else if (m.t === 'signal') handlers?.deliver(m.topic, m.from, m.to, m.data);
    if (m.t === 'hello' || m.t === 'ask') publish(inbox(m.i), { t: 'state', i: self, rooms: snapshot() });
    else if (!known && m.t !== 'state') publish(inbox(m.i), { t: 'ask', i: self });
  }

  /** Bad data from the broker is logged and dropped; a bug of ours here must not end the process. */
  function onText(text: string): void {
    const batch = parseBusBatch(text);
    if (!batch.ok) return log({ event: 'bus-bad-message', error: batch.error });
    for (const parsed of batch.value) {
      if (!parsed.ok) {
        log({ event: 'bus-bad-message', error: parsed.error });
        continue;
      }
      try {
        onBusMessage(parsed.value);
      } catch (err) {
        log({ event: 'bus-handler-error', error: errorText(err) });
      }
    }
  }

  function sendHello(): void {
    publish(roomsChannel, { t: 'hello', i: self, rooms: snapshot() });
  }

  /** Straight out on the beat lane, never queued behind the data lane's batches. */
  function beat(): void {
    broker.publish(beatChannel, encodeBusBatch([{ t: 'hb', i: self }]), 'beat').catch((err: unknown) => {
      if (!failing) log({ event: 'bus-beat-failed', error: errorText(err) });
    });
  }

  function tick(): void {
    if (helloPending) sendHello();
    beat();
    const livenessMs = opts.livenessMs ?? CLUSTER_LIVENESS_MS;
    for (const [instance, remote] of [...remotes]) {
      if (now() - remote.seen <= livenessMs) continue;
      log({ event: 'instance-lost', members: remote.held.size });
      drop(instance);
    }
  }

  const timer = setInterval(tick, opts.heartbeatMs ?? CLUSTER_HEARTBEAT_MS);
  timer.unref();

  function newestHolder(topic: string, id: string): string | undefined {
    const set = holders.get(topic)?.get(id);
    let last: string | undefined;
    for (const instance of set ?? []) last = instance;
    return last;
  }

  return {
    instanceId: self,
    get ready() { return ready; },
    instances: () => [...remotes.keys()],
    attach(h) {
      handlers = h;
      broker.onReady(() => { helloPending = true; sendHello(); });
      ready = Promise.all([
        broker.subscribe([roomsChannel, inbox(self)], onText, 'data'),
        broker.subscribe([beatChannel], onText, 'beat'),
      ]).then(() => undefined);
      ready.catch((err: unknown) => log({ event: 'bus-subscribe-failed', error: errorText(err) }));
    },
    remoteMembers: (topic) => holders.get(topic)?.keys() ?? [],
    joined: (topic, id, at) => publish(roomsChannel, { t: 'join', i: self, topic, id, at }),
    left: (topic, id) => publish(roomsChannel, { t: 'leave', i: self, topic, id }),
    signal(topic, from, to, data) {
      const holder = newestHolder(topic, to);
      if (holder === undefined) return false;
      publish(inbox(holder), { t: 'signal', i: self, topic, from, to, data });
      return true;
    },
    async close() {
      clearInterval(timer);
      flush(); // the last leaves first
      // Without the bye (broker down) the others drop our members after livenessMs instead.
      await broker.publish(roomsChannel, encodeBusBatch([{ t: 'bye', i: self }]), 'data')
        .catch((err: unknown) => log({ event: 'bus-bye-failed', error: errorText(err) }));
      await broker.close();
    },
  };
}
