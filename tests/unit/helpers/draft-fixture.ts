import { createHash, randomBytes } from 'node:crypto';
import { createMemoryStore, type MemoryStore } from '../../../src/storage/memory-store.ts';
import type { MemoryConn, MemoryNetwork } from './memory-net.ts';
import { until, type NodePeer, type testRelay } from './node-peer.ts';

/**
 * For draft tests: a sharer's store whose writes we hold back, so the test
 * decides how far an import has got when a friend acts (pieces stored; the
 * final record that ends the draft).
 */
export interface GatedStore extends MemoryStore {
  /** Pieces that may be stored in all; more wait. */
  allow(pieces: number): void;
  /** Hold (or let through) the record write that makes a draft final. */
  holdFinal(held: boolean): void;
  stored(): number;
}

export function gatedStore(pieces = Infinity): GatedStore {
  const store = createMemoryStore();
  let limit = pieces;
  let finalHeld = false;
  let stored = 0;
  let wake: (() => void)[] = [];
  const changed = () => {
    const w = wake;
    wake = [];
    w.forEach((fn) => fn());
  };
  const wait = async (ready: () => boolean) => {
    while (!ready()) await new Promise<void>((r) => wake.push(r));
  };
  return {
    ...store,
    async putPieces(fileId, entries) {
      for (const entry of entries) {
        await wait(() => stored < limit);
        stored++;
        await store.putPieces(fileId, [entry]);
      }
    },
    async putFile(record) {
      // A final record that keeps its pieces under a draft id is the draft's end.
      if (record.storeKey !== undefined) await wait(() => !finalHeld);
      return store.putFile(record);
    },
    allow(n) {
      limit = n;
      changed();
    },
    holdFinal(held) {
      finalHeld = held;
      changed();
    },
    stored: () => stored,
  };
}

export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const bytesOf = (n: number) => new Uint8Array(randomBytes(n));
export const openPeers = (p: NodePeer) => p.engine.getState().peers.filter((x) => x.link === 'open' && x.name !== null);
export const rowNamed = (p: NodePeer, name: string) => p.engine.getState().files.find((f) => f.meta.name === name);
export const linkBetween = (from: NodePeer, to: NodePeer) => from.engine.internals.sessions.get(to.id)!.link as unknown as MemoryConn;
/** Held pieces of a file, whatever its id is now. */
export const held = (p: NodePeer, id: string) => p.engine.internals.library.get(id)?.have.count ?? 0;

/** Alice (gated store) and Bob, linked, in a room of their own. */
export async function draftPair(relay: ReturnType<typeof testRelay>, net: MemoryNetwork, room: string, gate: GatedStore, bobStore?: MemoryStore) {
  const alice = await relay.start(net, { name: 'Alice', room, store: gate });
  const bob = await relay.start(net, { name: 'Bob', room, store: bobStore });
  await until(alice.engine, () => openPeers(alice).length === 1, 'Alice to link to Bob');
  await until(bob.engine, () => openPeers(bob).length === 1, 'Bob to link to Alice');
  return { alice, bob };
}

/** Waits for `name`'s draft row at `p` and returns its draft id. */
export async function draftRow(p: NodePeer, name: string): Promise<string> {
  await until(p.engine, () => rowNamed(p, name)?.preparing ?? false, `${name} listed as a draft`);
  return rowNamed(p, name)!.meta.id;
}
