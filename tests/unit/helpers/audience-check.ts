import assert from 'node:assert/strict';
import type { EngineDeps } from '../../../src/app/engine.ts';
import type { MemoryNetwork } from './memory-net.ts';
import type { NodePeer } from './node-peer.ts';

/**
 * Checks that someone outside a file's audience never learned of it
 * (app/audience.ts): not in what their engine holds or shows, not in any
 * byte that reached them.
 */

/** Whether `haystack` holds `needle` anywhere. */
export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(Buffer.from(needle)) !== -1;
}

/** Nothing the peer's engine holds or shows names the file: not its state, catalogue, availability or counters. */
export function assertNeverLearned(peer: NodePeer, id: string, name: string): void {
  const everything = JSON.stringify({
    state: peer.engine.getState(), stats: peer.engine.stats(),
    catalogue: peer.engine.internals.catalogue.announcements(), holders: peer.engine.internals.availability.peersWith(id),
  });
  assert.ok(!everything.includes(id), `${peer.engine.getState().self.name}'s engine holds the id`);
  assert.ok(!everything.includes(name), `${peer.engine.getState().self.name}'s engine holds the name`);
}

/** Engine deps whose links record every frame the engine receives, on every link it ever opens, into `frames`. */
export function recordingFrames(net: MemoryNetwork, frames: Uint8Array[]): Partial<EngineDeps> {
  return {
    createConnection: (opts, h) => net.factory(opts, {
      ...h,
      onFrame: (bytes) => {
        frames.push(bytes);
        h.onFrame(bytes);
      },
    }),
  };
}
