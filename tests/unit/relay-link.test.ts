import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_HELD, RelayLink } from '../../src/app/relay-link.ts';
import type { RoomGossip } from '../../src/app/room-gossip.ts';
import type { RoomPresence } from '../../src/app/room-presence.ts';
import { Notices } from '../../src/app/state.ts';
import type { PeerManager } from '../../src/net/peer-manager.ts';
import type { SignalClient, SignalHandlers } from '../../src/net/signal-client.ts';

/**
 * What the engine does with the relay's welcome: the whole room replaces what the peer
 * manager and gossip knew; a sample of a large room only adds, and forgets nobody.
 */
test('a complete welcome replaces the membership and forgets the gone; a sample only adds', () => {
  const here = new Set(['a', 'p', 's']);
  const forgotten: string[] = [];
  const presence = { here: () => [...here], absent: (p: string) => here.delete(p) };
  const welcomed: [string[], boolean | undefined][] = [];
  const keptOnly: string[][] = [];
  const peers = { welcome: (list: string[], complete?: boolean) => void welcomed.push([list, complete]), left: () => undefined };
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
    presence: presence as unknown as Pick<RoomPresence, 'absent' | 'here'>,
    forgetIfGone: (p) => void forgotten.push(p),
    sessionIds: () => ['s'],
    notices: new Notices(() => undefined),
    changed: () => undefined,
  });
  link.start();

  handlers!.onWelcome(['a', 'b'], 3);
  assert.deepEqual(welcomed, [[['a', 'b'], true]]);
  assert.deepEqual(keptOnly, [['a', 'b', 's']], 'origins neither listed nor linked are gone');
  assert.deepEqual([...here].sort(), ['a', 's'], 'p is here only by presence, and the whole room\'s list leaves it out: it left');

  handlers!.onWelcome(['c', 'd'], 200);
  assert.deepEqual(welcomed[1], [['c', 'd'], false]);
  assert.equal(keptOnly.length, 1, 'a sample says nothing of who left');
  assert.deepEqual([...here].sort(), ['a', 's'], 'nor does it end anyone\'s presence');

  handlers!.onPeerLeft('a');
  assert.deepEqual([...here], ['s'], 'the relay\'s word that a left ends its presence');
  assert.deepEqual(forgotten, ['a'], 'and what it said goes unless something else says it is here');
});

/** A RelayLink whose peer manager appears only when the test says (the engine still reading its bans). */
function earlyLink() {
  const calls: string[] = [];
  let manager: PeerManager | undefined;
  const peers = {
    welcome: (list: string[]) => void calls.push(`welcome ${list.join(',')}`),
    joined: (p: string) => void calls.push(`joined ${p}`),
    left: (p: string) => void calls.push(`left ${p}`),
    signal: (from: string, data: string) => void calls.push(`signal ${from} ${data}`),
  };
  let handlers: SignalHandlers | undefined;
  const link = new RelayLink({
    connect: (h) => {
      handlers = h;
      return { sendSignal: () => undefined, reconnect: () => undefined, close: () => undefined } satisfies SignalClient;
    },
    peers: () => manager,
    gossip: { keepOnly: () => false } as unknown as RoomGossip,
    presence: { here: () => [], absent: () => undefined } as unknown as Pick<RoomPresence, 'absent' | 'here'>,
    forgetIfGone: () => undefined,
    sessionIds: () => [],
    notices: new Notices(() => undefined),
    changed: () => undefined,
  });
  link.start();
  const ready = () => {
    manager = peers as unknown as PeerManager;
    link.peersReady();
  };
  return { link, calls, relay: () => handlers!, ready };
}

test('what the relay says before the peer manager exists is held, then acted on once, in order', () => {
  const { link, calls, relay, ready } = earlyLink();
  relay().onStatus('online');
  assert.equal(link.status, 'online', 'the status is not held: the person sees the relay answered');
  relay().onWelcome(['a', 'b'], 3);
  relay().onSignal('b', 'offer');
  relay().onPeerLeft('a'); // left mid-join: the replay must not bring a back
  relay().onPeerJoined('c');
  assert.deepEqual(calls, [], 'nobody is dialled or answered before the bans are read');
  ready();
  assert.deepEqual(calls, ['welcome a,b', 'signal b offer', 'left a', 'joined c']);
  relay().onSignal('c', 'answer');
  ready(); // a second call replays nothing again
  assert.deepEqual(calls.slice(4), ['signal c answer'], 'after that, straight through');
});

test('signals flooding in before the peer manager exists are capped; membership news is not dropped', () => {
  const { link, calls, relay, ready } = earlyLink();
  for (let i = 0; i < MAX_HELD + 10; i++) relay().onSignal('x', `s${i}`);
  relay().onPeerLeft('x');
  assert.equal(link.droppedEarly, 10);
  ready();
  assert.equal(calls.length, MAX_HELD + 1);
  assert.equal(calls.at(-1), 'left x', 'the leave came after the flood and is acted on after it');
});
