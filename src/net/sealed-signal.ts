import type { RoomKeys } from '../core/crypto/room-keys.ts';
import type { SignalClient, SignalHandlers } from './signal-client.ts';

/**
 * Seals every signalling payload before it reaches the relay and opens every
 * payload that comes back, bound to (topic, sender, recipient): the relay
 * stamps the sender, so a message it re-addresses or re-attributes fails to
 * open. What fails is dropped before simple-peer ever sees it.
 *
 * Sealing is asynchronous, and an offer must not overtake its ICE candidates,
 * so each peer's messages go through their own promise chain, in order.
 */
export function sealSignals(
  keys: RoomKeys,
  self: string,
  connect: (h: SignalHandlers) => SignalClient,
): (h: SignalHandlers) => SignalClient {
  return (handlers) => {
    const inbound = new Map<string, Promise<void>>();
    const outbound = new Map<string, Promise<void>>();
    const context = (from: string, to: string) => `${keys.topic}|${from}|${to}`;
    const inOrder = (chains: Map<string, Promise<void>>, peer: string, step: () => Promise<void>) => {
      const next = (chains.get(peer) ?? Promise.resolve()).then(step);
      chains.set(peer, next);
      void next.finally(() => chains.get(peer) === next && chains.delete(peer));
    };

    const client = connect({
      ...handlers,
      onSignal(from, sealed) {
        inOrder(inbound, from, async () => {
          const data = await keys.open(context(from, self), sealed);
          if (data === null) return handlers.onError('unauthenticated', 'Ignored a connection attempt that did not carry this room\'s key.');
          handlers.onSignal(from, data);
        });
      },
      onPeerLeft(peer) {
        inbound.delete(peer);
        outbound.delete(peer);
        handlers.onPeerLeft(peer);
      },
    });
    return {
      sendSignal(to, data) {
        inOrder(outbound, to, async () => client.sendSignal(to, await keys.seal(context(self, to), data)));
      },
      close: () => client.close(),
    };
  };
}
