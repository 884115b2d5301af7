/**
 * An in-memory stand-in for Redis pub/sub, for relay instances in one test process:
 * at-most-once delivery to whoever is subscribed and connected, like the real thing,
 * with switches to cut one broker off (an outage), bring it back (a reconnect, which
 * fires its onReady as node-redis's 'ready' does), feed it bad data, or hold what
 * arrives on one of its lanes (a backlog on that lane's connection) and let it go later.
 */
import type { Broker, Lane } from '../../../signaling/cluster-bus.ts';

interface Subscription {
  channels: Set<string>;
  onMessage: (text: string) => void;
  /** Held messages while the lane is backed up; null when it flows. */
  held: string[] | null;
}

interface Member {
  lanes: Map<Lane, Subscription>;
  readyFns: Array<() => void>;
  connected: boolean;
}

export type MemoryBroker = Broker & {
  cut(): void;
  restore(): void;
  inject(text: string): void;
  /** What arrives on `lane` waits, as behind a backlog on its connection. */
  hold(lane: Lane): void;
  /** The backlog clears: held messages arrive, in order. */
  release(lane: Lane): void;
};

export interface MemoryHub {
  broker(): MemoryBroker;
}

export function memoryHub(): MemoryHub {
  const members = new Set<Member>();
  const arrive = (m: Member, sub: Subscription, text: string): void => {
    if (!m.connected) return;
    if (sub.held) sub.held.push(text);
    else sub.onMessage(text);
  };
  // Async like a network: a publisher never re-enters its own handlers mid-call.
  const deliver = (channel: string, text: string): void => {
    for (const m of members) {
      if (!m.connected) continue;
      for (const sub of m.lanes.values()) if (sub.channels.has(channel)) queueMicrotask(() => arrive(m, sub, text));
    }
  };
  return {
    broker() {
      const me: Member = { lanes: new Map(), readyFns: [], connected: true };
      members.add(me);
      const lane = (name: Lane): Subscription => {
        let sub = me.lanes.get(name);
        if (!sub) me.lanes.set(name, (sub = { channels: new Set(), onMessage: () => undefined, held: null }));
        return sub;
      };
      return {
        async publish(channel, text) {
          if (!me.connected) throw new Error('broker is disconnected');
          deliver(channel, text);
        },
        async subscribe(channels, onMessage, name) {
          const sub = lane(name);
          for (const c of channels) sub.channels.add(c);
          sub.onMessage = onMessage;
          if (name === 'data') for (const fn of me.readyFns) fn();
        },
        onReady(fn) { me.readyFns.push(fn); },
        async close() { members.delete(me); },
        cut() { me.connected = false; },
        restore() {
          me.connected = true;
          for (const fn of me.readyFns) fn();
        },
        inject(text) { lane('data').onMessage(text); },
        hold(name) { lane(name).held ??= []; },
        release(name) {
          const sub = lane(name);
          const held = sub.held ?? [];
          sub.held = null;
          for (const text of held) sub.onMessage(text);
        },
      };
    },
  };
}
