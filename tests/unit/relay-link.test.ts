import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RelayLink } from '../../src/app/relay-link.ts';
import type { RoomGossip } from '../../src/app/room-gossip.ts';
import { Notices } from '../../src/app/state.ts';
import type { PeerManager } from '../../src/net/peer-manager.ts';
import type { SignalClient, SignalHandlers } from '../../src/net/signal-client.ts';

/**
 * What the engine does with the relay's welcome: the whole room replaces what the peer
 * manager and gossip knew; a sample of a large room only adds, and forgets nobody.
 */
test('a complete welcome replaces the membership and forgets the gone; a sample only adds', () => {
  const welcomed: [string[], boolean | undefined][] = [];
  const keptOnly: string[][] = [];
  const peers = { welcome: (list: string[], complete?: boolean) => void welcomed.push([list, complete]) };
  const gossip = {
    keepOnly(present: ReadonlySet<string>) {
      keptOnly.push([...present].sort());
      return false;
    },
  };
  let handlers: SignalHandlers | undefined;
  const link = new RelayLink({
    connect: (h) => {
      handlers = h;
      return { sendSignal: () => undefined, reconnect: () => undefined, close: () => undefined } satisfies SignalClient;
    },
    peers: () => peers as unknown as PeerManager,
    gossip: gossip as unknown as RoomGossip,
    sessionIds: () => ['s'],
    notices: new Notices(() => undefined),
    changed: () => undefined,
  });
  link.start();

  handlers!.onWelcome(['a', 'b'], 3);
  assert.deepEqual(welcomed, [[['a', 'b'], true]]);
  assert.deepEqual(keptOnly, [['a', 'b', 's']], 'origins neither listed nor linked are gone');

  handlers!.onWelcome(['c', 'd'], 200);
  assert.deepEqual(welcomed[1], [['c', 'd'], false]);
  assert.equal(keptOnly.length, 1, 'a sample says nothing of who left');
});
