/**
 * An in-memory stand-in for Redis pub/sub, for relay instances in one test process:
 * at-most-once delivery to whoever is subscribed and connected, like the real thing,
 * with switches to cut one broker off (an outage), bring it back (a reconnect, which
 * fires its onReady as node-redis's 'ready' does) or feed it bad data.
 */
import type { Broker } from '../../../signaling/cluster-bus.ts';

interface Member {
  channels: Set<string>;
  onMessage: (text: string) => void;
  readyFns: Array<() => void>;
  connected: boolean;
}

export interface MemoryHub {
  broker(): Broker & { cut(): void; restore(): void; inject(text: string): void };
}

export function memoryHub(): MemoryHub {
  const members = new Set<Member>();
  // Async like a network: a publisher never re-enters its own handlers mid-call.
  const deliver = (channel: string, text: string): void => {
    for (const m of members) {
      if (m.connected && m.channels.has(channel)) queueMicrotask(() => m.connected && m.onMessage(text));
    }
  };
  return {
    broker() {
      const me: Member = { channels: new Set(), onMessage: () => undefined, readyFns: [], connected: true };
      members.add(me);
      return {
        async publish(channel, text) {
          if (!me.connected) throw new Error('broker is disconnected');
          deliver(channel, text);
        },
        async subscribe(channels, onMessage) {
          for (const c of channels) me.channels.add(c);
          me.onMessage = onMessage;
          for (const fn of me.readyFns) fn();
        },
        onReady(fn) { me.readyFns.push(fn); },
        async close() { members.delete(me); },
        cut() { me.connected = false; },
        restore() {
          me.connected = true;
          for (const fn of me.readyFns) fn();
        },
        inject(text) { me.onMessage(text); },
      };
    },
  };
}
