import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { deriveRoomKeys } from '../../src/core/crypto/room-keys.ts';
import type { PeerConnectionFactory } from '../../src/net/link.ts';
import { createMemoryStore } from '../../src/storage/memory-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { createMemoryNetwork, type MemoryNetwork } from './helpers/memory-net.ts';
import { fileOf, testRelay, until, type NodePeer } from './helpers/node-peer.ts';

/**
 * Joining a room fast without giving anything up: a newcomer joins the relay
 * while it still reads what it remembers of the room's people (its bans), but
 * dials and answers nobody before that read is done; its own stored files load
 * after it is linked. Each test holds one storage read open to put the events
 * in a chosen order (no timing).
 */
const relay = testRelay();

interface Gate {
  store: Store;
  open(): void;
}

/** A memory store whose reads of what `held` names wait until open(). */
function gatedStore(held: (what: 'pref' | 'files', key?: string) => boolean, base: Store = createMemoryStore()): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const wait = async (what: 'pref' | 'files', key?: string) => {
    if (held(what, key)) await opened;
  };
  const store: Store = {
    ...base,
    getPref: async (key) => (await wait('pref', key), base.getPref(key)),
    listFiles: async () => (await wait('files'), base.listFiles()),
  };
  return { store, open };
}

/** The reads PeerMarks.load makes: bans in this room, verified marks. */
const marksRead = (what: 'pref' | 'files', key?: string) => what === 'pref' && (key!.startsWith('bans:') || key === 'verified');

/** A connection factory that counts the links this engine makes (dialled or answered). */
function counted(net: MemoryNetwork): { factory: PeerConnectionFactory; made: () => number } {
  let made = 0;
  return {
    factory: (opts, handlers) => {
      made++;
      return net.factory(opts, handlers);
    },
    made: () => made,
  };
}

const linkedTo = (p: NodePeer, other: NodePeer) => p.engine.getState().peers.some((x) => x.id === other.id && x.link === 'open' && x.name !== null);
const sees = (p: NodePeer, name: string) => p.engine.getState().files.some((f) => f.meta.name === name);
/** Lets the relay's messages in flight arrive (sockets on this machine): turns of the event loop, not a timing. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
};

async function holder(net: MemoryNetwork, room: string, file = 'shared.txt'): Promise<NodePeer> {
  const p = await relay.start(net, { name: 'Holder', room });
  await p.engine.ready;
  await p.engine.share([fileOf(new Uint8Array(randomBytes(1000)), file)]);
  return p;
}

/** A newcomer on `gate`'s store, welcomed by the relay while the gated read is still held, the relay's other news in too. */
async function welcomed(net: MemoryNetwork, room: string, gate: Gate, createConnection?: PeerConnectionFactory): Promise<NodePeer> {
  const p = await relay.start(net, { name: 'Bob', room, store: gate.store, deps: createConnection ? { createConnection } : {} });
  await until(p.engine, () => p.engine.getState().relay === 'online', 'the relay to welcome the newcomer');
  await settle(); // a holder's offer, if it dials, reaches the newcomer's relay link too
  return p;
}

/** A holder, and a newcomer welcomed while its bans are still being read, its links counted. */
async function heldJoin(room: string) {
  const net = createMemoryNetwork();
  const alice = await holder(net, room);
  const gate = gatedStore(marksRead);
  const links = counted(net);
  const bob = await welcomed(net, room, gate, links.factory);
  return { net, alice, gate, links, bob };
}

describe('joining: the order of relay, storage and links', () => {
  test('the relay is joined while the bans are read; nobody is linked before they are', { timeout: 20_000 }, async () => {
    const { alice, gate, links, bob } = await heldJoin('join-a');
    assert.equal(links.made(), 0, 'no link dialled or answered before the bans are read');
    assert.equal(bob.engine.timeline().dial, undefined);
    gate.open();
    await until(bob.engine, () => linkedTo(bob, alice) && sees(bob, 'shared.txt'), 'Bob to link the holder and see its file');
    await settle(); // the catalogue's step is marked once its handling is done, just after the change it makes
    const t = bob.engine.timeline();
    assert.ok(t.welcome! <= t.storage! && t.storage! <= t.dial! && t.dial! <= t['link-open']!, `steps in order: ${JSON.stringify(t)}`);
    assert.ok(t['hello-ok']! <= t.catalogue!, `the catalogue is taken in only after the HELLO proved who sent it: ${JSON.stringify(t)}`);
  });

  test('a peer banned in this room stays unlinked though the relay answers before the bans are read', { timeout: 20_000 }, async () => {
    const net = createMemoryNetwork();
    const banned = await holder(net, 'join-b', 'from-banned.txt');
    const carol = await holder(net, 'join-b', 'from-carol.txt');
    const { topic } = await deriveRoomKeys({ secret: 'join-b', named: false }, (n) => new Uint8Array(randomBytes(n)));
    const base = createMemoryStore();
    await base.setPref(`bans:${topic}`, JSON.stringify([banned.id]));
    const gate = gatedStore(marksRead, base);
    const bob = await welcomed(net, 'join-b', gate);
    gate.open();
    await until(bob.engine, () => linkedTo(bob, carol) && sees(bob, 'from-carol.txt'), 'Bob to link Carol');
    await settle();
    assert.equal(bob.engine.internals.sessions.has(banned.id), false, 'no session with the banned peer');
    assert.equal(bob.engine.internals.peers()?.linkState(banned.id), undefined, 'nor a link being made');
  });

  test('the room\'s files show and a peer is linked before the newcomer\'s own library has loaded', { timeout: 20_000 }, async () => {
    const net = createMemoryNetwork();
    const alice = await holder(net, 'join-c');
    const gate = gatedStore((what) => what === 'files');
    const bob = await relay.start(net, { name: 'Bob', room: 'join-c', store: gate.store });
    await until(bob.engine, () => linkedTo(bob, alice) && sees(bob, 'shared.txt'), 'Bob to link and see the file');
    assert.equal(bob.engine.timeline().library, undefined, 'the library is still loading');
    gate.open();
    await bob.engine.ready;
    assert.ok(bob.engine.timeline().library !== undefined);
  });

  test('a peer leaving while the newcomer reads its bans is not dialled afterwards', { timeout: 20_000 }, async () => {
    const net = createMemoryNetwork();
    const leaving = await holder(net, 'join-d', 'leaving.txt');
    const staying = await holder(net, 'join-d', 'staying.txt');
    const gate = gatedStore(marksRead);
    const bob = await welcomed(net, 'join-d', gate);
    leaving.engine.close();
    await until(staying.engine, () => staying.engine.internals.peers()?.present().has(leaving.id) === false, 'the relay to say the peer left');
    await settle();
    gate.open();
    await until(bob.engine, () => linkedTo(bob, staying), 'Bob to link the one who stayed');
    assert.equal(bob.engine.internals.peers()?.present().has(leaving.id), false, 'the leave, held after the welcome, was applied after it');
    assert.equal(bob.engine.internals.sessions.has(leaving.id), false);
  });

  test('a page closed while reading its bans (a reload mid-join) acts on nothing the relay said', { timeout: 20_000 }, async () => {
    const { net, alice, gate, links, bob } = await heldJoin('join-e');
    bob.engine.close();
    gate.open();
    await bob.engine.ready;
    await settle();
    assert.equal(links.made(), 0, 'the closed engine dialled and answered nobody');
    assert.equal(bob.engine.internals.peers(), undefined, 'and made no peer manager');
    // The page comes back with the same identity and storage: it joins as usual.
    const again = await relay.start(net, { name: 'Bob', room: 'join-e', store: gate.store });
    await until(again.engine, () => linkedTo(again, alice) && sees(again, 'shared.txt'), 'the reloaded page to join');
  });
});
