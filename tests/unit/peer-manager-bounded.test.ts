import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUDGET_RESERVE, FAIL_BACKOFF_MS, PRUNE_BACKOFF_MS, PRUNE_PACE_MS } from '../../src/core/mesh/bounded.ts';
import { D, D_HIGH, D_LOW, SHORT_LIVED_MS } from '../../src/core/mesh/degree.ts';
import { MAX_SERVED_TRANSFERS, MAX_TRANSFER_LINKS, TRANSFER_IDLE_MS } from '../../src/core/mesh/transfer.ts';
import { PRUNE_GRACE_MS } from '../../src/net/peer-manager.ts';
import { encodeEnvelope } from '../../src/net/signal-envelope.ts';
import { fakeMesh, pid, refusal, rtc } from './helpers/fake-links.ts';

const idleNotice = encodeEnvelope({ kind: 'idle' });

/**
 * The peer manager in a bounded room (more than D_HIGH others): every rule and
 * the orders its events come in. SELF sits in the middle of the ids, so some
 * peers are lower (their offers win a crossing) and some higher.
 */
const SELF = pid(50);
/** n peers from id `from` on, SELF left out. */
const room = (n: number, from = 1) => Array.from({ length: n + 1 }, (_, i) => pid(from + i)).filter((p) => p !== SELF).slice(0, n);
const BIG = room(40, 31); // 40 others, on both sides of SELF: bounded

/** A manager in the big room that has run SHORT_LIVED_MS on mains power: a normal peer (D_LOW..D_HIGH). */
function normalPeer(opts: Parameters<typeof fakeMesh>[1] = {}) {
  const f = fakeMesh(SELF, { onBattery: () => false, ...opts });
  f.advance(SHORT_LIVED_MS);
  f.pm.welcome(BIG);
  return f;
}

describe('bounded room: degree and role', () => {
  test('a room of D_HIGH others stays a full mesh (lower id dials everyone); one more and a joiner dials only its target', () => {
    const small = fakeMesh(SELF);
    small.pm.welcome(room(D_HIGH, 44));
    assert.deepEqual(small.dialled().sort(), room(D_HIGH, 44).filter((p) => p > SELF));
    const big = fakeMesh(SELF);
    big.pm.welcome(room(D_HIGH + 1, 44));
    const dialled = big.dialled();
    assert.ok(dialled.length >= D_LOW && dialled.length <= D_LOW + 1, `a new (light) peer dials its target: ${dialled.length}`);
    assert.ok(dialled.some((p) => p < SELF), 'in a bounded room either side dials');
    assert.equal(big.pm.meshStats().role, 'light');
  });

  test('the role follows the traits on tick: light at first, normal after SHORT_LIVED_MS on mains, light again on battery', () => {
    const f = fakeMesh(SELF, { onBattery: () => false });
    f.pm.welcome(BIG);
    assert.equal(f.pm.meshStats().role, 'light');
    f.advance(SHORT_LIVED_MS);
    assert.equal(f.pm.meshStats().role, 'normal');
    for (const c of f.live()) c.handlers.onOpen();
    f.advance(1_000);
    const degree = f.pm.meshStats().degree;
    assert.ok(degree >= D - 1 && degree <= D + 1, `a normal peer aims for D: ${degree}`);
    f.setBattery(true);
    f.advance(1_000);
    assert.equal(f.pm.meshStats().role, 'light');
  });
});

describe('bounded room: offers', () => {
  test('crossing offers, lower id ours: we ignore its offer and its candidates; its answer reaches our attempt', () => {
    const f = normalPeer();
    const high = f.dialled().find((p) => p > SELF)!;
    const ours = f.latest(high);
    f.pm.signal(high, rtc('its-offer'));
    f.pm.signal(high, rtc('its-candidate'));
    assert.deepEqual(ours.destroyed, []);
    assert.deepEqual(ours.signals, [], 'nothing of its own attempt reaches ours');
    f.pm.signal(high, rtc('its-answer', false));
    assert.deepEqual(ours.signals, ['its-answer']);
    assert.equal(f.to(high).length, 1);
  });

  test('crossing offers, lower id theirs: we drop our attempt without a failure and answer its offer', () => {
    const f = normalPeer();
    const low = f.dialled().find((p) => p < SELF)!;
    const created = f.pm.meshStats().created;
    f.pm.signal(low, rtc('its-offer'));
    const [ours, answer] = f.to(low);
    assert.deepEqual(ours!.destroyed, ['ERR_CROSSED']);
    assert.equal(answer!.initiator, false);
    assert.deepEqual(answer!.signals, ['its-offer']);
    assert.equal(f.pm.meshStats().created, created + 1, 'the answer is a construction too');
    assert.equal(f.pm.meshStats().crossed, 1);
    answer!.handlers.onOpen();
    assert.equal(f.pm.linkState(low), 'open');
    f.advance(FAIL_BACKOFF_MS * 4);
    assert.equal(f.to(low).length, 2, 'no retry: nothing failed');
  });

  test('offers crossed and the other side gave way: its dropped offer, arriving after our link opened, is stale and replaces nothing', () => {
    const f = normalPeer();
    const high = f.dialled().find((p) => p > SELF)!;
    const ours = f.latest(high);
    const offer = f.sent.find((s) => s.to === high && s.env.kind === 'rtc')!.env;
    assert.ok(offer.kind === 'rtc' && offer.attempt, 'our offer names its attempt');
    // Its answer says it gave way, dropping attempt "a1"; our link opens; then its dropped offer arrives.
    f.pm.signal(high, encodeEnvelope({ kind: 'rtc', purpose: 'mesh', dial: false, data: 'its-answer', yielded: 'a1' }));
    ours.handlers.onOpen();
    f.pm.signal(high, encodeEnvelope({ kind: 'rtc', purpose: 'mesh', dial: true, data: 'its-late-offer', attempt: 'a1' }));
    assert.deepEqual(ours.destroyed, [], 'the working link stays');
    assert.equal(f.to(high).length, 1, 'nothing answers a connection that no longer exists');
    // A new attempt is the peer starting over, as before.
    f.pm.signal(high, encodeEnvelope({ kind: 'rtc', purpose: 'mesh', dial: true, data: 'its-new-offer', attempt: 'a2' }));
    assert.deepEqual(ours.destroyed, ['ERR_REPLACED']);
  });

  test('we give way to a crossing offer: our answer names the attempt we dropped', () => {
    const f = normalPeer();
    const low = f.dialled().find((p) => p < SELF)!;
    const offer = f.sent.find((s) => s.to === low && s.env.kind === 'rtc')!.env;
    f.pm.signal(low, rtc('its-offer'));
    const answer = f.to(low)[1]!;
    answer.handlers.onSignal('our-answer');
    const sent = f.sent.at(-1)!.env;
    assert.ok(offer.kind === 'rtc' && sent.kind === 'rtc' && !sent.dial);
    assert.equal(sent.yielded, offer.attempt);
  });

  test('the peer makes a new link while ours is open: the old link\'s late frames and late close never reach the new one', () => {
    const f = normalPeer();
    const peer = f.dialled()[0]!;
    const old = f.latest(peer);
    old.handlers.onOpen();
    f.pm.signal(peer, rtc('its-new-offer'));
    assert.deepEqual(old.destroyed, ['ERR_REPLACED']);
    const fresh = f.latest(peer);
    assert.notEqual(fresh, old);
    fresh.handlers.onOpen();
    // A real connection delivers what was in flight, and its close, after destroy() returned.
    old.handlers.onFrame(new TextEncoder().encode('hello signed for the old link'));
    old.handlers.onClose('ERR_DATA_CHANNEL');
    fresh.handlers.onFrame(new TextEncoder().encode('hello signed for the new link'));
    assert.deepEqual(f.told.filter((t) => t.includes(peer)).map((t) => t.replace(peer, 'P')), [
      'open P', 'close P ERR_REPLACED', 'open P', 'frame P hello signed for the new link',
    ]);
    assert.equal(f.pm.linkState(peer), 'open');
  });

  test('a stale attempt that opens after a newer link took its place is closed, and the engine never hears of it', () => {
    const f = normalPeer();
    const low = f.dialled().find((p) => p < SELF)!;
    const ours = f.latest(low);
    f.pm.signal(low, rtc('its-offer')); // crossing: its offer wins, ours is dropped
    const answer = f.latest(low);
    answer.handlers.onOpen();
    ours.handlers.onOpen(); // the dropped attempt's channel opens anyway, late
    assert.deepEqual(f.told.filter((t) => t.includes(low)).map((t) => t.replace(low, 'P')), ['close P ERR_CROSSED', 'open P']);
    assert.equal(f.pm.linkState(low), 'open');
  });

  test('an offer to a full peer is refused out loud, with up to 16 other members; its link is never made', () => {
    const f = normalPeer();
    for (const c of f.live()) c.handlers.onOpen();
    const dialled = new Set(f.dialled());
    const offerers = room(30, 100);
    for (const p of offerers) f.pm.signal(p, rtc('offer'));
    const accepted = offerers.filter((p) => f.to(p).length === 1);
    assert.equal(accepted.length + dialled.size, D_HIGH, 'offers are answered up to D_HIGH links');
    const refused = offerers.filter((p) => f.to(p).length === 0);
    for (const p of refused) {
      const [r] = f.refusalsTo(p);
      assert.ok(r && r.env.kind === 'refuse');
      assert.ok(r.env.candidates.length > 0 && r.env.candidates.length <= 16 && !r.env.candidates.includes(p));
    }
    assert.equal(f.pm.meshStats().refused, refused.length);
  });

  test('a refusal closes our attempt, backs off from that peer, and its candidates are dialled instead', () => {
    const f = fakeMesh(SELF, { onBattery: () => false });
    f.advance(SHORT_LIVED_MS);
    f.pm.welcome(room(D_HIGH + 1));
    const target = f.dialled();
    const refuser = target[0]!;
    const fresh = room(3, 200);
    f.pm.signal(refuser, refusal(fresh));
    assert.deepEqual(f.latest(refuser).destroyed, ['ERR_REFUSED']);
    assert.equal(f.pm.meshStats().refusedBy, 1);
    const replacement = f.dialled().filter((p) => !target.includes(p));
    assert.equal(replacement.length, 1, 'the lost attempt is replaced at once');
    f.advance(PRUNE_BACKOFF_MS - 1_000);
    assert.equal(f.to(refuser).length, 1, 'not redialled while backing off');
    // The candidates it named are members we had not heard of: they are dialled when needed.
    for (const p of f.dialled()) f.pm.signal(p, refusal([]));
    f.advance(1_000);
    assert.ok(fresh.some((p) => f.to(p).length > 0), 'a candidate from the refusal was dialled');
  });

  test('a refusal with no attempt of ours, or a malformed one, changes nothing; malformed envelopes are errors, never throws', () => {
    const f = normalPeer();
    const before = f.conns.length;
    f.pm.signal(pid(300), refusal([pid(301)]));
    for (const bad of ['', 'nope', '{}', '[]', 'null', '{"kind":"rtc"}', '{"kind":"rtc","purpose":"x","dial":true,"data":""}',
      '{"kind":"rtc","purpose":"mesh","dial":1,"data":""}', '{"kind":"refuse","candidates":["short"]}',
      JSON.stringify({ kind: 'refuse', candidates: room(17) }), 'x'.repeat(70_000),
      '{"kind":"rtc","purpose":"mesh","dial":true,"data":"","needy":false}', '{"kind":"rtc","purpose":"mesh","dial":true,"data":"","attempt":"A!"}',
      JSON.stringify({ kind: 'rtc', purpose: 'mesh', dial: false, data: '', yielded: 'a'.repeat(17) }),
      '{"kind":"rtc","purpose":"mesh","dial":true,"data":"","wins":1}']) {
      const r = f.pm.signal(pid(1), bad);
      assert.equal(r.ok, false, bad.slice(0, 40));
    }
    assert.equal(f.conns.length, before);
    assert.equal(f.pm.meshStats().badSignals, 15);
    assert.equal(f.pm.meshStats().refusedBy, 0);
  });

  test('dials made below D_LOW say so (needy), later ones do not; a peer at its high bound takes a needy offer only', () => {
    const f = normalPeer();
    const first = f.sent.filter((s) => s.env.kind === 'rtc' && s.env.dial);
    assert.ok(first.length >= D_LOW && first.every((s) => s.env.kind === 'rtc' && s.env.needy === true), 'dialled with no links: needy');
    for (const c of f.live()) c.handlers.onOpen();
    const atHigh = normalPeer();
    for (const c of atHigh.live()) c.handlers.onOpen();
    for (const p of room(D_HIGH, 100)) {
      if (atHigh.pm.meshStats().degree >= D_HIGH) break;
      atHigh.pm.signal(p, rtc('offer'));
      atHigh.to(p).at(-1)?.handlers.onOpen();
    }
    assert.equal(atHigh.pm.meshStats().degree, D_HIGH);
    atHigh.pm.signal(pid(200), rtc('offer'));
    assert.equal(atHigh.refusalsTo(pid(200)).length, 1, 'a plain offer at high is refused');
    atHigh.pm.signal(pid(201), encodeEnvelope({ kind: 'rtc', purpose: 'mesh', dial: true, data: 'offer', needy: true }));
    assert.equal(atHigh.refusalsTo(pid(201)).length, 0, 'a needy one is taken');
    assert.equal(atHigh.to(pid(201)).length, 1);
    f.advance(1_000);
    const later = f.sent.filter((s) => s.env.kind === 'rtc' && s.env.dial).slice(first.length);
    assert.ok(later.every((s) => s.env.kind === 'rtc' && !s.env.needy), 'dials once at D_LOW or more are not needy');
  });

  test('a bare transport signal (wire version 2, before envelopes) is another version: said once per peer, no link', () => {
    const f = normalPeer();
    const before = f.conns.length;
    const old = pid(300);
    for (const bare of [{ type: 'offer', sdp: 'v=0' }, { candidate: { candidate: 'x' } }]) {
      const r = f.pm.signal(old, JSON.stringify(bare));
      assert.ok(!r.ok && r.code === 'ERR_VERSION');
    }
    assert.deepEqual(f.incompatible, [old]);
    assert.equal(f.conns.length, before);
  });

  test('answers for a connection we do not hold are stale and dropped', () => {
    const f = normalPeer();
    const before = f.conns.length;
    f.pm.signal(pid(300), rtc('answer', false));
    assert.equal(f.conns.length, before);
  });
});

describe('bounded room: prune', () => {
  /** A normal peer with D_HIGH open links that then goes on battery: light, high D, so it prunes. */
  function overFull() {
    const f = normalPeer();
    for (const c of f.live()) c.handlers.onOpen();
    for (const p of room(D_HIGH, 100)) {
      f.pm.signal(p, rtc('offer'));
      f.to(p).at(-1)?.handlers.onOpen();
    }
    assert.equal(f.pm.meshStats().degree, D_HIGH);
    f.setBattery(true);
    return f;
  }

  test('over its high bound a peer prunes one link per PRUNE_PACE_MS down to its target, each with PRUNE and candidates, closed after the grace', () => {
    const f = overFull();
    f.advance(PRUNE_PACE_MS);
    assert.equal(f.prunes.length, 1, 'one at a time: the others prune too, and their prunes land in between');
    const first = f.prunes[0]!.peer;
    assert.equal(f.pm.linkState(first), 'open', 'the grace: still open, for the PRUNE to arrive');
    for (let i = 0; i < 2 * D_HIGH; i++) f.advance(PRUNE_PACE_MS);
    const pruned = f.prunes.map((p) => p.peer);
    assert.equal(new Set(pruned).size, pruned.length);
    const degree = f.pm.meshStats().degree;
    assert.ok(degree >= D_LOW && degree <= D_LOW + 1, `degree ${degree}: back down to the light target (D_LOW), no further`);
    for (const p of f.prunes) {
      assert.ok(p.candidates.length > 0 && p.candidates.length <= 16 && !p.candidates.includes(p.peer));
    }
    for (const p of pruned) assert.deepEqual(f.latest(p).destroyed, ['ERR_PRUNED'], 'closed by us after the grace');
    for (const p of pruned) assert.equal(f.to(p).length, 1, 'no reconnection while backing off');
    for (const p of pruned) f.pm.signal(p, rtc('offer-again'));
    for (const p of pruned) assert.equal(f.to(p).length, 1, 'its offers are refused during the backoff too');
    assert.equal(f.pm.meshStats().pruned, pruned.length);
  });

  test('a pruned peer that reads the PRUNE and closes first: no failure, no retry', () => {
    const f = overFull();
    f.advance(PRUNE_PACE_MS);
    const [victim] = f.prunes.map((p) => p.peer);
    f.latest(victim!).conn.destroy('ERR_CLOSED');
    f.advance(PRUNE_GRACE_MS);
    assert.deepEqual(f.latest(victim!).destroyed, ['ERR_CLOSED']);
    f.advance(PRUNE_BACKOFF_MS - PRUNE_GRACE_MS - 2_000);
    assert.equal(f.to(victim!).length, 1, 'not redialled');
  });

  test('pruned by a neighbour: the link closes with ERR_PRUNED, its candidates are learned, both back off, then may reconnect', () => {
    const f = normalPeer();
    for (const c of f.live()) c.handlers.onOpen();
    const [pruner] = f.dialled();
    const fresh = room(2, 400);
    f.pm.prunedBy(pruner!, fresh);
    assert.deepEqual(f.latest(pruner!).destroyed, ['ERR_PRUNED']);
    assert.equal(f.pm.meshStats().prunedBy, 1);
    const count = f.to(pruner!).length;
    f.pm.signal(pruner!, rtc('offer'));
    assert.equal(f.to(pruner!).length, count, 'no link while backing off');
    assert.equal(f.refusalsTo(pruner!).length, 1);
    f.advance(PRUNE_BACKOFF_MS + 1_000);
    f.pm.signal(pruner!, rtc('offer-later'));
    assert.equal(f.to(pruner!).length, count + 1, 'after the backoff its offer is answered');
    assert.deepEqual(f.latest(pruner!).signals, ['offer-later']);
  });
});

describe('the connection budget', () => {
  test('failures, refusals and retries never construct more than the budget; at the end offers are refused', () => {
    const budget = 20;
    const f = fakeMesh(SELF, { budget, onBattery: () => false });
    f.pm.welcome(BIG);
    for (let round = 0; round < 200; round++) {
      for (const c of f.live()) c.conn.destroy('ERR_ICE'); // every attempt fails
      f.advance(FAIL_BACKOFF_MS);
      f.pm.signal(pid(500 + round), rtc('offer'));
    }
    assert.ok(f.conns.length <= budget, `${f.conns.length} constructed`);
    assert.equal(f.pm.meshStats().created, f.conns.length);
    assert.equal(f.pm.meshStats().remaining, budget - f.conns.length);
    f.pm.signal(pid(900), rtc('offer'));
    assert.equal(f.to(pid(900)).length, 0);
  });

  test('a full mesh counts every retry and renewal against the same budget', () => {
    const f = fakeMesh(SELF, { budget: 6 });
    f.pm.welcome(room(3, 51));
    for (let i = 0; i < 5; i++) f.pm.renewAll('ERR_ICE_POLICY');
    assert.equal(f.conns.length, 6);
    assert.equal(f.pm.meshStats().remaining, 0);
  });

  test('transfer links keep the reserve for mesh repairs', () => {
    const f = normalPeer({ budget: BUDGET_RESERVE + 8 });
    const used = f.pm.meshStats().created;
    f.pm.wantSources('file', room(10, 300));
    assert.equal(f.dialled('transfer').length, Math.min(MAX_TRANSFER_LINKS, BUDGET_RESERVE + 8 - used - BUDGET_RESERVE));
  });
});

describe('transfer links', () => {
  test('open to up to MAX_TRANSFER_LINKS unlinked holders, outside the degree; closed when no longer wanted, not redialled', () => {
    const f = normalPeer();
    for (const c of f.live()) c.handlers.onOpen();
    const degree = f.pm.meshStats().degree;
    const neighbour = f.dialled()[0]!;
    const holders = [neighbour, ...room(6, 300)];
    f.pm.wantSources('file-a', holders);
    const transfer = f.dialled('transfer');
    assert.equal(transfer.length, MAX_TRANSFER_LINKS);
    assert.ok(!transfer.includes(neighbour), 'a neighbour is linked already');
    for (const p of transfer) f.latest(p).handlers.onOpen();
    assert.equal(f.pm.meshStats().degree, degree);
    assert.equal(f.pm.meshStats().transfer, MAX_TRANSFER_LINKS);
    f.advance(60_000);
    assert.deepEqual(f.dialled('transfer').sort(), transfer.sort(), 'never pruned as excess, never idle on our side');
    f.pm.wantSources('file-a', []);
    for (const p of transfer) assert.deepEqual(f.latest(p).destroyed, ['ERR_TRANSFER_DONE']);
    f.advance(60_000);
    for (const p of transfer) assert.equal(f.to(p).length, 1);
    assert.equal(f.pm.meshStats().transfer, 0);
  });

  test('a transfer link that fails is replaced by another holder; a refused one backs off', () => {
    const f = normalPeer();
    const holders = room(6, 300);
    f.pm.wantSources('file-a', holders);
    const [first, second] = f.dialled('transfer');
    f.latest(first!).conn.destroy('ERR_ICE');
    f.pm.signal(second!, refusal([]));
    assert.deepEqual(f.latest(second!).destroyed, ['ERR_REFUSED']);
    assert.equal(f.dialled('transfer').length, MAX_TRANSFER_LINKS);
    assert.ok(!f.dialled('transfer').includes(first!) && !f.dialled('transfer').includes(second!));
  });

  test('a holder answers transfer offers up to MAX_SERVED_TRANSFERS, refuses more, and closes idle ones', () => {
    const f = normalPeer();
    const askers = room(MAX_SERVED_TRANSFERS + 2, 600);
    for (const p of askers) f.pm.signal(p, rtc('offer', true, 'transfer'));
    const served = f.answered('transfer');
    assert.equal(served.length, MAX_SERVED_TRANSFERS);
    for (const p of askers.filter((a) => !served.includes(a))) assert.equal(f.refusalsTo(p).length, 1);
    for (const p of served) f.latest(p).handlers.onOpen();
    const [busy] = served;
    for (let t = 0; t < TRANSFER_IDLE_MS + 5_000; t += 5_000) {
      f.latest(busy!).handlers.onFrame(new Uint8Array([0x05])); // a REQUEST
      f.latest(served[1]!).handlers.onFrame(new Uint8Array([0x0d])); // gossip is no transfer work
      f.advance(5_000);
    }
    assert.deepEqual(f.latest(busy!).destroyed, []);
    // Idle: the dialler is told (it ends the link without counting a failure); ours closes after the grace.
    for (const p of served.slice(1)) assert.deepEqual(f.sent.filter((x) => x.to === p && x.env.kind === 'idle').length, 1);
    for (const p of served.slice(1)) assert.deepEqual(f.latest(p).destroyed, [], 'not before the grace');
    f.advance(PRUNE_GRACE_MS);
    for (const p of served.slice(1)) assert.deepEqual(f.latest(p).destroyed, ['ERR_IDLE']);
    assert.deepEqual(f.latest(busy!).destroyed, []);
    f.pm.signal(askers.at(-1)!, rtc('offer', true, 'transfer'));
    assert.equal(f.answered('transfer').length, 2, 'a freed slot serves someone else');
  });

  test('told a transfer link is idle, the dialler ends it without counting a failure: the holder is dialled at once for a new download', () => {
    const f = normalPeer();
    for (const c of f.live()) c.handlers.onOpen();
    const [holder, other] = room(2, 300) as [string, string];
    f.pm.wantSources('file-a', [holder]);
    f.latest(holder).handlers.onOpen();
    f.advance(TRANSFER_IDLE_MS + 1_000); // the download asks it for nothing
    f.pm.signal(holder, idleNotice);
    assert.deepEqual(f.latest(holder).destroyed, ['ERR_IDLE']);
    f.pm.wantSources('file-a', []);
    f.pm.wantSources('file-b', [holder]);
    assert.equal(f.to(holder).length, 2, 'no failure backoff (FAIL_BACKOFF_MS): dialled again at once');
    // A notice for anything but an open transfer link we dialled changes nothing: a mesh link, an attempt, a link it dialled.
    const neighbour = f.dialled('mesh')[0]!;
    f.pm.signal(neighbour, idleNotice);
    f.pm.signal(holder, idleNotice); // our new attempt, not open yet
    f.pm.signal(other, rtc('offer', true, 'transfer'));
    f.latest(other).handlers.onOpen();
    f.pm.signal(other, idleNotice);
    for (const p of [neighbour, holder, other]) assert.deepEqual(f.latest(p).destroyed, [], p);
  });

  test('the holder closes an idle link before its notice arrives: that close is still a failure (the old way, and a peer of an older version)', () => {
    const f = normalPeer();
    const [holder] = room(1, 300) as [string];
    f.pm.wantSources('file-a', [holder]);
    f.latest(holder).handlers.onOpen();
    f.latest(holder).conn.destroy('ERR_CLOSED');
    f.pm.signal(holder, idleNotice); // late: stale
    f.pm.wantSources('file-a', []);
    f.pm.wantSources('file-b', [holder]);
    assert.equal(f.to(holder).length, 1, 'backing off');
    f.advance(FAIL_BACKOFF_MS);
    assert.equal(f.to(holder).length, 2);
  });

  test('in a full mesh nothing opens transfer links: holders are neighbours already', () => {
    const f = fakeMesh(SELF);
    f.pm.welcome(room(5, 45));
    const before = f.conns.length;
    f.pm.wantSources('file-a', room(5, 45));
    f.advance(1_000);
    assert.equal(f.conns.length, before);
  });
});
