/**
 * The room bus: what one relay instance needs to know about the members other relay
 * instances hold, and how it reaches them. rooms.ts keeps its own sockets and asks the
 * bus only about everyone else; it never knows whether there is anyone else.
 *
 * - localBus(): one process, no one else (the default; behaves exactly as a lone relay).
 * - createClusterBus() (cluster-bus.ts): instances joined through a Broker, e.g. Redis
 *   pub/sub (redis-broker.ts), when REDIS_URL is set.
 *
 * What crosses the bus is what the relay already sees: topic hashes, peer ids and the
 * opaque signal strings addressed to one peer. Never a key, a signature or an address.
 */

/** What a bus calls back into the rooms of this instance. */
export interface BusHandlers {
  /**
   * `id` entered `topic` on another instance (new, or a reconnect replacing an older socket).
   * `supersedes(t)`: whether that join is newer than a local one of `id` made at time t, so
   * the local socket must go. A total order (time, then instance), so that when both join at
   * once, exactly one of them stays.
   */
  remoteJoined(topic: string, id: string, supersedes: (localJoinedAt: number) => boolean): void;
  /** No other instance holds `id` in `topic` any more (it left, or its instance died). */
  remoteLeft(topic: string, id: string): void;
  /** A signal from another instance for the local member `to`; `from` was stamped there. */
  deliver(topic: string, from: string, to: string, data: string): void;
  /** Every (topic, id) this instance holds: re-announced after a (re)connect. */
  snapshot(): Array<[topic: string, id: string]>;
}

export interface RoomBus {
  /** Called once by the rooms that use this bus, before any other call. */
  attach(handlers: BusHandlers): void;
  /** Members of `topic` held by other instances (may include ids also held here, briefly). */
  remoteMembers(topic: string): Iterable<string>;
  /** A local socket entered `topic` as `id` at time `at` (ms, the relay's clock). */
  joined(topic: string, id: string, at: number): void;
  /** A local socket left `topic` (leave, close or replacement). */
  left(topic: string, id: string): void;
  /** Forwards a signal to the instance holding `to`; false when no other instance does. */
  signal(topic: string, from: string, to: string, data: string): boolean;
  /** Stops the bus; other instances drop this one's members at once. */
  close(): Promise<void>;
}

const NONE: readonly string[] = Object.freeze([]);

/** A relay alone: nobody else holds members, so nothing to announce or forward. */
export function localBus(): RoomBus {
  return {
    attach: () => undefined,
    remoteMembers: () => NONE,
    joined: () => undefined,
    left: () => undefined,
    signal: () => false,
    close: () => Promise.resolve(),
  };
}
