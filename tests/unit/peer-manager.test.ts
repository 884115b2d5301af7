import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LinkHandlers, PeerConnection, PeerConnectionFactory } from '../../src/net/link.ts';
import { encodeEnvelope } from '../../src/net/signal-envelope.ts';
import { inertConnection } from './helpers/fake-links.ts';
import { CONNECT_TIMEOUT_MS, LOST_GIVE_UP_MS, MAX_RETRIES, STABLE_LINK_MS, createPeerManager, type PeerManager } from '../../src/net/peer-manager.ts';

/**
 * The peer manager driven by hand: a fake connection factory records every
 * connection made and lets the test open it or make it fail; the clock is a
 * variable. Peer ids are one letter so who initiates (the lower id) is plain:
 * we are 'm', so we dial 'y' and 'z' and wait for offers from 'a' and 'b'.
 */
const SELF = 'm';
/** A signal from the dialling side of a peer's mesh link, in the peer managers' envelope. */
const offer = (data: string): string => encodeEnvelope({ kind: 'rtc', purpose: 'mesh', dial: true, data });

interface FakeConn {
  initiator: boolean;
  handlers: LinkHandlers;
  conn: PeerConnection;
  signals: string[];
  destroyed: { code: string; detail?: string }[];
  restarts: number;
  /** The peer this connection is for, learned from the signal it sends out. */
  peer: string;
}

function setup(opts: { banned?: string[] } = {}) {
  let clock = 1_000;
  const conns: FakeConn[] = [];
  const sentSignals: { to: string; data: string }[] = [];
  const closes: { peer: string; code: string }[] = [];
  const opened: string[] = [];
  const factory: PeerConnectionFactory = ({ initiator }, handlers) => {
    let closed = false;
    const fake: FakeConn = {
      initiator, handlers, signals: [], destroyed: [], restarts: 0, peer: '',
      conn: inertConnection({
        signal: (data) => fake.signals.push(data),
        restartIce: () => void fake.restarts++,
        destroy: (code, detail) => {
          fake.destroyed.push({ code, detail });
          if (closed) return;
          closed = true;
          handlers.onClose(code, detail);
        },
      }),
    };
    conns.push(fake);
    // Every connection says hello at once, so the test learns which peer it is for.
    handlers.onSignal(`probe-${conns.length}`);
    fake.peer = sentSignals.at(-1)!.to;
    return fake.conn;
  };
  const pm: PeerManager = createPeerManager(
    {
      self: SELF, banned: opts.banned, createConnection: factory, now: () => clock,
      sendSignal: (to, data) => sentSignals.push({ to, data }),
    },
    {
      onOpen: (peer) => opened.push(peer),
      onFrame: () => undefined,
      onClose: (peer, code) => closes.push({ peer, code }),
      onPresence: () => undefined,
    },
  );
  const to = (peer: string) => conns.filter((c) => c.peer === peer);
  const latest = (peer: string) => to(peer).at(-1)!;
  /** The link failing by itself (ICE failure): a close the manager did not ask for. */
  const fail = (c: FakeConn) => c.conn.destroy('ERR_ICE');
  const setClock = (t: number) => (clock = t);
  return { pm, conns, to, latest, fail, closes, opened, setClock };
}

test('only the side with the lower id dials', () => {
  const { pm, conns, to } = setup();
  pm.welcome(['a', 'b', 'y', 'z', SELF]);
  assert.deepEqual(conns.map((c) => c.peer).sort(), ['y', 'z']);
  assert.ok(conns.every((c) => c.initiator));
  assert.equal(to('a').length, 0);
  assert.equal(pm.linkState('y'), 'connecting');
  assert.equal(pm.linkState('a'), undefined);
  pm.joined('n');
  assert.equal(to('n').length, 1);
  pm.joined('c');
  assert.equal(to('c').length, 0, 'c has the lower id: it offers, we answer');
});

test('a welcome replaces the membership: a missing peer is gone, its attempt stops, its open link stays', () => {
  const { pm, latest, closes } = setup();
  pm.welcome(['y', 'z']);
  latest('z').handlers.onOpen();
  assert.equal(pm.linkState('z'), 'open');
  pm.welcome(['a']);
  assert.deepEqual([...pm.present()], ['a']);
  assert.deepEqual(latest('y').destroyed.map((d) => d.code), ['ERR_PEER_LEFT']);
  assert.equal(pm.linkState('y'), undefined);
  assert.deepEqual(latest('z').destroyed, [], 'presence is not proof: the open link is not closed');
  assert.equal(pm.linkState('z'), 'open');
  assert.deepEqual(closes, [{ peer: 'y', code: 'ERR_PEER_LEFT' }]);
});

test('a sampled welcome (a large room) only adds; a complete one drops who is gone', () => {
  const { pm, to, latest } = setup();
  pm.welcome(['y', 'z', 'a'], true);
  latest('z').handlers.onOpen();
  pm.welcome(['n', 'b'], false); // drawn without y, z or a: they are not gone for that
  assert.deepEqual([...pm.present()].sort(), ['a', 'b', 'n', 'y', 'z']);
  assert.deepEqual(latest('y').destroyed, [], 'the attempt to y goes on');
  assert.equal(to('n').length, 1, 'a newly drawn peer is dialled');
  pm.welcome(['n', 'z'], true);
  assert.deepEqual([...pm.present()].sort(), ['n', 'z']);
  assert.deepEqual(latest('y').destroyed.map((d) => d.code), ['ERR_PEER_LEFT']);
  assert.equal(pm.linkState('z'), 'open');
});

test('left() stops an attempt but never closes an open link, and the attempt is not retried', () => {
  const { pm, to, latest } = setup();
  pm.welcome(['y', 'z']);
  latest('z').handlers.onOpen();
  pm.left('z');
  pm.left('y');
  assert.deepEqual(latest('z').destroyed, []);
  assert.equal(pm.linkState('z'), 'open');
  assert.deepEqual(latest('y').destroyed.map((d) => d.code), ['ERR_PEER_LEFT']);
  assert.equal(to('y').length, 1, 'a peer that left is not dialled again');
  assert.ok(!pm.present().has('y') && !pm.present().has('z'));
});

test('a banned peer is dropped with the ban code and never dialled again', () => {
  const { pm, to, latest } = setup();
  pm.welcome(['y', 'z']);
  latest('z').handlers.onOpen();
  pm.ban('z', 'ERR_BAD_PIECE', 'hash mismatch');
  pm.ban('y', 'ERR_BAD_FRAME');
  assert.deepEqual(latest('z').destroyed, [{ code: 'ERR_BAD_PIECE', detail: 'hash mismatch' }]);
  assert.deepEqual(latest('y').destroyed.map((d) => d.code), ['ERR_BAD_FRAME']);
  assert.ok(pm.isBanned('z') && pm.isBanned('y'));
  pm.joined('z');
  pm.welcome(['y', 'z']);
  assert.equal(to('z').length, 1);
  assert.equal(to('y').length, 1);
});

test('bans passed at creation (remembered for the room) hold: no dial, no answer', () => {
  const { pm, conns } = setup({ banned: ['z', 'a'] });
  assert.ok(pm.isBanned('z'));
  pm.welcome(['a', 'z', 'y']);
  assert.deepEqual(conns.map((c) => c.peer), ['y']);
  pm.signal('a', offer('offer'));
  pm.joined('z');
  assert.deepEqual(conns.map((c) => c.peer), ['y']);
});

test('a blocked peer (ERR_BLOCKED) is not retried; unbanned while still here, it is dialled again at once', () => {
  const { pm, to, latest, closes } = setup();
  pm.welcome(['z']);
  latest('z').handlers.onOpen();
  pm.ban('z', 'ERR_BLOCKED', 'you blocked this person');
  assert.deepEqual(closes, [{ peer: 'z', code: 'ERR_BLOCKED' }]);
  pm.tick(60_000);
  assert.equal(to('z').length, 1, 'not redialled');
  pm.unban('z');
  assert.equal(pm.isBanned('z'), false);
  assert.equal(to('z').length, 2, 'dialled again: it is still in the room');
  pm.unban('q'); // never banned: nothing happens
  assert.equal(to('q').length, 0);
});

test('failed links are retried MAX_RETRIES times, then left alone until the peer is listed again', () => {
  const { pm, to, latest, fail } = setup();
  pm.welcome(['z']);
  for (let i = 0; i < MAX_RETRIES; i++) {
    fail(latest('z'));
    assert.equal(to('z').length, i + 2, `retry ${i + 1}`);
  }
  fail(latest('z'));
  assert.equal(to('z').length, 1 + MAX_RETRIES, 'given up');
  assert.equal(pm.linkState('z'), undefined);
  pm.tick(10 ** 9);
  pm.joined('y');
  assert.equal(to('z').length, 1 + MAX_RETRIES, 'other events do not revive it');
  pm.welcome(['y', 'z']);
  assert.equal(to('z').length, 2 + MAX_RETRIES, 'a fresh welcome listing it resets the retries');
  for (let i = 0; i < MAX_RETRIES; i++) fail(latest('z'));
  assert.equal(to('z').length, 2 + 2 * MAX_RETRIES, 'with a full set of new tries');
});

test('a rejoin resets the retries too, and a link that opened clears its failures', () => {
  const { pm, to, latest, fail } = setup();
  pm.welcome(['z']);
  for (let i = 0; i <= MAX_RETRIES; i++) fail(latest('z'));
  pm.left('z');
  pm.joined('z');
  assert.equal(to('z').length, 2 + MAX_RETRIES);
  latest('z').handlers.onOpen();
  // The open link drops, then every retry fails: MAX_RETRIES new attempts, no more.
  for (let i = 0; i <= MAX_RETRIES + 2; i++) fail(latest('z'));
  assert.equal(to('z').length, 2 + 2 * MAX_RETRIES, 'an open link that drops gets a full set of retries');
});

test('tick() gives up on links connecting longer than CONNECT_TIMEOUT_MS, not on open ones', () => {
  const { pm, latest, setClock } = setup();
  setClock(0);
  pm.welcome(['y', 'z']);
  const y = latest('y');
  latest('z').handlers.onOpen();
  pm.tick(CONNECT_TIMEOUT_MS);
  assert.equal(y.destroyed.length, 0, 'not yet');
  pm.tick(CONNECT_TIMEOUT_MS + 1);
  assert.deepEqual(y.destroyed.map((d) => d.code), ['ERR_CONNECT_TIMEOUT']);
  assert.deepEqual(latest('z').destroyed, []);
  assert.notEqual(latest('y'), y, 'a timeout is a failure like any other: it is retried');
});

test('offers: accepted from a present lower-id peer, ignored from an absent, banned or higher-id one', () => {
  const { pm, conns, to, latest } = setup();
  pm.welcome(['a', 'b']);
  pm.signal('c', offer('offer-from-absent'));
  pm.signal('n', offer('offer-from-higher-id'));
  assert.equal(conns.length, 0);
  pm.signal('a', offer('offer-a'));
  assert.equal(to('a').length, 1);
  assert.equal(latest('a').initiator, false);
  assert.deepEqual(latest('a').signals, ['offer-a']);
  pm.signal('a', offer('candidate-a'));
  assert.deepEqual(latest('a').signals, ['offer-a', 'candidate-a'], 'later signals go to the same connection');
  pm.ban('b', 'ERR_BAD_FRAME');
  pm.signal('b', offer('offer-b'));
  assert.equal(to('b').length, 0);
});

test('close() destroys every link with ERR_SHUTDOWN and dials nothing after', () => {
  const { pm, conns, latest } = setup();
  pm.welcome(['a', 'y', 'z']);
  pm.signal('a', offer('offer'));
  latest('z').handlers.onOpen();
  const before = conns.length;
  pm.close();
  assert.equal(before, 3);
  assert.equal(conns.length, before);
  for (const c of conns) assert.deepEqual(c.destroyed.map((d) => d.code), ['ERR_SHUTDOWN']);
  assert.equal(pm.linkState('z'), undefined);
});

test('a lost path gets an ICE restart at once; found again, the link carries on; still lost after LOST_GIVE_UP_MS, a fresh link replaces it', () => {
  const { pm, to, latest, setClock } = setup();
  pm.welcome(['y', 'a']);
  latest('y').handlers.onOpen();
  pm.signal('a', offer('offer-from-a')); // a dials us
  latest('a').handlers.onOpen();
  assert.ok(!pm.isLost('y'));

  setClock(2_000);
  latest('y').handlers.onHealth!(true);
  latest('y').handlers.onHealth!(true); // said twice: one restart
  assert.ok(pm.isLost('y'));
  assert.equal(latest('y').restarts, 1);
  latest('y').handlers.onHealth!(false); // the restart found a path
  assert.ok(!pm.isLost('y'));
  pm.tick(2_000 + LOST_GIVE_UP_MS + 1);
  assert.deepEqual(latest('y').destroyed, [], 'recovered links are kept');

  // Lost again, and no path is found: both the side that dials and the side that answers give up.
  setClock(100_000);
  for (const p of ['y', 'a']) latest(p).handlers.onHealth!(true);
  pm.tick(100_000 + LOST_GIVE_UP_MS - 1);
  assert.deepEqual(latest('y').destroyed, [], 'not yet');
  pm.tick(100_000 + LOST_GIVE_UP_MS + 1);
  assert.deepEqual(to('y')[0]!.destroyed.map((d) => d.code), ['ERR_LINK_LOST']);
  assert.deepEqual(to('a')[0]!.destroyed.map((d) => d.code), ['ERR_LINK_LOST']);
  assert.equal(to('y').length, 2, 'we dial y again at once');
  assert.equal(to('a').length, 1, 'a dials us again: we wait for its offer');
  assert.ok(!pm.isLost('y'), 'the new link is not lost');
  assert.deepEqual(pm.stats(), { iceRestarts: 3, replacedLost: 2 });
});

test('a network change restarts ICE on every open link (not on attempts) and gives peers we gave up on new tries', () => {
  const { pm, to, latest, fail } = setup();
  pm.welcome(['y', 'z']);
  latest('y').handlers.onOpen();
  for (let i = 0; i <= MAX_RETRIES; i++) fail(latest('z'));
  const tries = to('z').length;
  pm.tick(0);
  assert.equal(to('z').length, tries, 'given up on z');
  pm.networkChanged();
  assert.equal(latest('y').restarts, 1);
  assert.equal(to('z').length, tries + 1, 'z is dialled again');
  assert.equal(latest('z').restarts, 0, 'an attempt has no path to restart');
  pm.networkChanged(); // two changes in a row: another restart, no duplicate dial
  assert.equal(latest('y').restarts, 2);
  assert.equal(to('z').length, tries + 1);
});

test('renewAll() remakes every link under a new ICE policy: we dial who we dial, the others dial us', () => {
  const { pm, to, latest, opened } = setup();
  pm.welcome(['y', 'a']);
  latest('y').handlers.onOpen();
  pm.signal('a', offer('offer-from-a'));
  latest('a').handlers.onOpen();
  assert.deepEqual(opened, ['y', 'a']);
  pm.renewAll('ERR_ICE_POLICY');
  assert.deepEqual(to('y')[0]!.destroyed.map((d) => d.code), ['ERR_ICE_POLICY']);
  assert.deepEqual(to('a')[0]!.destroyed.map((d) => d.code), ['ERR_ICE_POLICY']);
  assert.equal(to('y').length, 2);
  assert.equal(pm.linkState('a'), undefined);
  pm.signal('a', offer('new-offer-from-a')); // its side of the close: it dials again
  assert.equal(to('a').length, 2);
  assert.deepEqual(to('a')[1]!.signals, ['new-offer-from-a']);
});

test('a link that opens and dies at once, again and again, is not redialled in a loop; one that served a while earns fresh tries', () => {
  const { pm, to, latest, fail, setClock } = setup();
  pm.welcome(['y']);
  for (let i = 0; i < 10; i++) {
    const c = latest('y');
    if (c.destroyed.length) break; // given up: no new attempt was made
    c.handlers.onOpen();
    fail(c); // e.g. the other side refuses our hello (another version of the app)
  }
  assert.equal(to('y').length, MAX_RETRIES + 1, 'the first dial and MAX_RETRIES more, then it is left alone');

  pm.joined('y'); // it comes back: new tries
  setClock(50_000);
  latest('y').handlers.onOpen();
  setClock(50_000 + STABLE_LINK_MS);
  for (let i = 0; i < 3; i++) fail(latest('y')); // a working link drops, then two quick failures
  assert.equal(to('y').length, MAX_RETRIES + 1 + 4, 'a link that served earns a fresh count');
});
