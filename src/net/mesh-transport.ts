import type { RelayStatus, SignalClient, SignalHandlers } from './signal-client.ts';

/**
 * Below the seal, the choice of transport for signalling wires: the relay
 * while it is online, otherwise the mesh (other members forward them; see
 * core/mesh/signal-route.ts and app/mesh-signals.ts). Wires the mesh delivers
 * go up the same path as the relay's, so sealSignals opens and replay-checks
 * both alike. The relay is still needed to meet people; members already linked
 * keep making new links to each other while it is away.
 */
export interface MeshPort {
  /** Sends a sealed wire to room member `to` through our neighbours (dropped if we have none). */
  send(to: string, wire: string): void;
  /** Where the wires the mesh delivers to us go (one receiver: the relay connector's). */
  onWire(fn: (from: string, wire: string) => void): void;
}

/** What the engine calls to reach the room: a relay client, given the mesh to fall back on. */
export type RelayConnector = (handlers: SignalHandlers, mesh?: MeshPort) => SignalClient;

/** Wraps a relay client so its wires take the mesh whenever the relay is not online. */
export function viaMesh(connect: (h: SignalHandlers) => SignalClient): RelayConnector {
  return (handlers, mesh) => {
    if (!mesh) return connect(handlers);
    let status: RelayStatus = 'connecting';
    const client = connect({
      ...handlers,
      onStatus(s) {
        status = s;
        handlers.onStatus(s);
      },
    });
    let closed = false;
    mesh.onWire((from, wire) => closed || handlers.onSignal(from, wire));
    return {
      sendSignal(to, wire) {
        if (closed) return;
        if (status === 'online') client.sendSignal(to, wire);
        else mesh.send(to, wire);
      },
      reconnect: () => client.reconnect(),
      close() {
        closed = true;
        client.close();
      },
    };
  };
}
