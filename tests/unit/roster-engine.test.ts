import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { ROSTER_KEY, SYNC_MS } from '../../src/app/roster.ts';
import { AWAY_MS } from '../../src/core/gossip/presence.ts';
import { decodeRoster } from '../../src/core/roster.ts';
import { CONNECT_TIMEOUT_MS, MAX_RETRIES } from '../../src/net/peer-manager.ts';
import { createMemoryStore } from '../../src/storage/memory-store.ts';
import { createMemoryNetwork } from './helpers/memory-net.ts';
import { fileOf, newTestIdentity, testRelay, until, type NodePeer } from './helpers/node-peer.ts';

/**
 * The roster in real engines over a real relay and in-memory links: people
 * remembered across reloads and names, blocks that hold in every room and tab,
 * and presence status from the page's visibility.
 */
const relay = testRelay();

const peerView = (p: NodePeer, id: string) => p.engine.getState().peers.find((x) => x.id === id);
const hasFile = (p: NodePeer, name: string) => p.engine.getState().files.some((f) => f.meta.name === name);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stored = async (p: NodePeer) => decodeRoster(await p.store.getValue(ROSTER_KEY));

/** Whether `p` ever holds a link (in any state) or a session with `other` while watched. */
function watchLinks(p: NodePeer, other: string) {
  let ever = false;
  const check = () => {
    if (p.engine.internals.sessions.has(other) || p.engine.internals.peers()?.linkState(other)) ever = true;
  };
  const unsubscribe = p.engine.subscribe(check);
  const timer = setInterval(check, 20);
  return {
    ever: () => ever,
    stop() {
      unsubscribe();
      clearInterval(timer);
    },
  };
}

async function share(p: NodePeer, name: string): Promise<void> {
  await p.engine.share([fileOf(new Uint8Array(randomBytes(3_000)), name, 'text/plain')]);
}

describe('roster: blocking', () => {
  test('blocked before they join: never linked, not listed, what they say and share never shown, even through a third', { timeout: 30_000 }, async () => {
    const net = createMemoryNetwork();
    const bob = newTestIdentity();
    const a = await relay.start(net, { name: 'Ada', room: 'block-before' });
    await a.engine.ready;
    await a.engine.setBlocked(bob.id, true);
    const watch = watchLinks(a, bob.id);
    const b = await relay.start(net, { name: 'Bob', room: 'block-before', identity: bob });
    const c = await relay.start(net, { name: 'Cy', room: 'block-before' });
    await until(a.engine, () => peerView(a, c.id)?.link === 'open', 'A linked to C');
    await share(b, 'from-bob.txt');
    await share(c, 'from-cy.txt');
    await until(c.engine, () => hasFile(c, 'from-bob.txt'), 'Bob\'s file at C');
    await until(a.engine, () => hasFile(a, 'from-cy.txt'), 'C\'s file at A');
    await sleep(1_500); // Bob's presence and announcement reach A through C, and are refused
    watch.stop();
    assert.equal(watch.ever(), false, 'A never held a link to Bob');
    assert.equal(hasFile(a, 'from-bob.txt'), false);
    assert.equal(peerView(a, bob.id), undefined, 'Bob is not listed in the room');
    assert.deepEqual(a.engine.getState().blocked, [{ id: bob.id, name: null }]);
    assert.ok(a.engine.stats().presence.blocked! > 0, 'Bob\'s presence reached A through C and was refused');
    assert.equal(peerView(b, a.id)?.link === 'open', false, 'Bob sees no open link to A');
  });

  test('blocked while linked: the link ends, Bob\'s files go; after a reload he is still refused; unblocked, he links again', { timeout: 40_000 }, async () => {
    const net = createMemoryNetwork();
    const aIdentity = newTestIdentity();
    const store = createMemoryStore();
    const a = await relay.start(net, { name: 'Ada', room: 'block-linked', identity: aIdentity, store });
    const bobClock = { skew: 0 };
    const b = await relay.start(net, { name: 'Bob', room: 'block-linked', deps: { now: () => performance.now() + bobClock.skew } });
    await share(b, 'from-bob.txt');
    await until(a.engine, () => hasFile(a, 'from-bob.txt') && peerView(a, b.id)?.link === 'open', 'A linked to Bob, with his file');
    await a.engine.setBlocked(b.id, true);
    await until(a.engine, () => !a.engine.internals.sessions.has(b.id), 'the link to Bob ends');
    assert.equal(hasFile(a, 'from-bob.txt'), false, 'what Bob shared is forgotten');
    assert.equal(peerView(a, b.id), undefined);
    assert.deepEqual(a.engine.getState().blocked, [{ id: b.id, name: 'Bob' }]);

    a.engine.close(); // A's page reloads: same browser storage, same identity
    const again = await relay.start(net, { name: 'Ada', room: 'block-linked', identity: aIdentity, store });
    await again.engine.ready;
    const watch = watchLinks(again, b.id);
    await sleep(2_000);
    watch.stop();
    assert.equal(watch.ever(), false, 'refused after the reload too');
    assert.deepEqual(again.engine.getState().blocked, [{ id: b.id, name: 'Bob' }]);

    await again.engine.setBlocked(b.id, false);
    // If Bob holds the lower id he is the one who dials, and his attempt in flight went unanswered while
    // he was blocked: he tries again once it times out (Bob cannot be told he was blocked, nor unblocked).
    bobClock.skew += CONNECT_TIMEOUT_MS;
    await until(again.engine, () => peerView(again, b.id)?.link === 'open' && hasFile(again, 'from-bob.txt'), 'unblocked: linked again, his file back');
    assert.deepEqual(again.engine.getState().blocked, []);
  });

  test('unblocked while they back off: Bob dials (the lower id), his tries went unanswered; unblocking links again at once', { timeout: 60_000 }, async () => {
    const net = createMemoryNetwork();
    const [bob, ada] = [newTestIdentity(), newTestIdentity()].sort((x, y) => (x.id < y.id ? -1 : 1));
    const bobClock = { skew: 0 };
    const a = await relay.start(net, { name: 'Ada', room: 'unblock-dialler', identity: ada! });
    const b = await relay.start(net, { name: 'Bob', room: 'unblock-dialler', identity: bob!, deps: { now: () => performance.now() + bobClock.skew } });
    await share(b, 'from-bob.txt');
    const linked = (what: string) => until(a.engine, () => peerView(a, b.id)?.link === 'open' && hasFile(a, 'from-bob.txt'), what, 5_000);
    const bobDials = () => b.engine.internals.peers()?.linkState(a.id) === 'connecting';
    await linked('A linked to Bob');

    // Unblocked while his next try waits for an answer that never comes (well within its timeout).
    await a.engine.setBlocked(b.id, true);
    await until(b.engine, bobDials, 'Bob dials again, unanswered');
    await sleep(500);
    await a.engine.setBlocked(b.id, false);
    await linked('linked again without waiting for his try to time out');

    // Unblocked after every try timed out and Bob gave up on Ada (until the relay says she joined again).
    await a.engine.setBlocked(b.id, true);
    await until(b.engine, bobDials, 'Bob dials again, unanswered');
    for (let tries = 0; tries <= MAX_RETRIES && bobDials(); tries++) {
      bobClock.skew += CONNECT_TIMEOUT_MS + 1;
      await sleep(1_200); // a tick: the try times out, the next starts at once
    }
    assert.equal(bobDials(), false, 'Bob gave up dialling Ada');
    await a.engine.setBlocked(b.id, false);
    await linked('linked again although Bob had given up');
  });

  test('two tabs of one browser: a block in one room\'s tab closes the other room\'s link within a sync; both tabs\' people are kept', { timeout: 30_000 }, async () => {
    const net = createMemoryNetwork();
    const me = newTestIdentity();
    const cy = newTestIdentity();
    const store = createMemoryStore();
    const clock = { skew: 0 };
    const tab1 = await relay.start(net, { name: 'Ada', room: 'tab-room-1', identity: me, store });
    const tab2 = await relay.start(net, { name: 'Ada', room: 'tab-room-2', identity: me, store, deps: { now: () => performance.now() + clock.skew } });
    await relay.start(net, { name: 'Cy', room: 'tab-room-1', identity: cy });
    await relay.start(net, { name: 'Cy', room: 'tab-room-2', identity: cy });
    const dee = await relay.start(net, { name: 'Dee', room: 'tab-room-2' });
    await until(tab1.engine, () => peerView(tab1, cy.id)?.link === 'open', 'tab 1 linked to Cy');
    await until(tab2.engine, () => peerView(tab2, cy.id)?.link === 'open' && peerView(tab2, dee.id)?.link === 'open', 'tab 2 linked to Cy and Dee');
    await tab1.engine.setBlocked(cy.id, true);
    clock.skew += SYNC_MS; // tab 2's next sync is due
    await until(tab2.engine, () => !tab2.engine.internals.sessions.has(cy.id) && peerView(tab2, cy.id) === undefined, 'tab 2 drops Cy');
    assert.equal(peerView(tab2, dee.id)?.link, 'open', 'Dee is not touched');
    const roster = await stored(tab2);
    assert.equal(roster.get(cy.id)?.blocked.on, true);
    assert.deepEqual(roster.get(dee.id)?.names, ['Dee'], 'tab 2\'s people are kept beside tab 1\'s block');
  });
});

describe('roster: recognition and presence status', () => {
  test('a known person is recognised after a reload, under a new name; someone new is not', { timeout: 40_000 }, async () => {
    const net = createMemoryNetwork();
    const [aIdentity, bIdentity] = [newTestIdentity(), newTestIdentity()];
    const store = createMemoryStore();
    const a = await relay.start(net, { name: 'Ada', room: 'known', identity: aIdentity, store });
    const b = await relay.start(net, { name: 'Bob', room: 'known', identity: bIdentity });
    await until(a.engine, () => peerView(a, b.id)?.link === 'open', 'A meets Bob');
    assert.equal(peerView(a, b.id)!.known, false, 'a first meeting');
    for (let i = 0; i < 50 && !(await stored(a)).has(b.id); i++) await sleep(100); // written soon after a first meeting
    assert.deepEqual((await stored(a)).get(b.id)?.names, ['Bob']);
    a.engine.close();
    b.engine.close();

    const a2 = await relay.start(net, { name: 'Ada', room: 'known', identity: aIdentity, store });
    // Before Bob is back he is offered as someone known (to share with, or to name in a rule), not as present.
    await until(a2.engine, () => a2.engine.getState().known.some((p) => p.id === b.id && p.name === 'Bob'), 'A lists Bob as known');
    assert.equal(peerView(a2, b.id), undefined, 'known is not present');
    const b2 = await relay.start(net, { name: 'Robert', room: 'known', identity: bIdentity });
    const c = await relay.start(net, { name: 'Cy', room: 'known' });
    await until(a2.engine, () => peerView(a2, b2.id)?.name === 'Robert' && peerView(a2, c.id)?.link === 'open', 'A sees Robert and Cy');
    assert.deepEqual(pick(peerView(a2, b2.id)!), { name: 'Robert', known: true, knownAs: 'Bob' });
    assert.deepEqual(pick(peerView(a2, c.id)!), { name: 'Cy', known: false, knownAs: null });
    assert.deepEqual(a2.engine.getState().known, [], 'present people are not listed again as known');
    for (let i = 0; i < 30 && (await stored(a2)).get(b2.id)?.names[0] !== 'Robert'; i++) await sleep(100);
    assert.deepEqual((await stored(a2)).get(b2.id)?.names, ['Robert', 'Bob'], 'both names remembered, the latest first');
  });

  test('presence status: hidden is idle, hidden long is away, shown again is active; each reaches the other side', { timeout: 30_000 }, async () => {
    const net = createMemoryNetwork();
    const clock = { skew: 0 };
    const a = await relay.start(net, { name: 'Ada', room: 'status' });
    const b = await relay.start(net, { name: 'Bob', room: 'status', deps: { now: () => performance.now() + clock.skew } });
    await until(a.engine, () => peerView(a, b.id)?.status === 'active', 'Bob is active');
    const next = async (visible: boolean | null, skew: number, status: string) => {
      if (visible !== null) b.engine.pageVisible(visible);
      clock.skew += skew; // past the 5 s between Bob's own statements
      await until(a.engine, () => peerView(a, b.id)?.status === status, `Bob ${status}`);
    };
    await next(false, 5_000, 'idle');
    await next(null, AWAY_MS, 'away');
    await next(true, 5_000, 'active');
    assert.equal(a.engine.stats().presence['over-budget'], 0);
  });
});

const pick = (p: { name: string | null; known: boolean; knownAs: string | null }) => ({ name: p.name, known: p.known, knownAs: p.knownAs });
