import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_SIGNAL_DATA } from '../../signaling/protocol.ts';
import {
  MAX_MESH_SIGNAL_DATA, MAX_ROUTES, MESH_BURST_BYTES, MESH_BYTES_PER_SECOND, MESH_HOP_LIMIT, ROUTE_TTL_MS, SEEN_TTL_MS,
  SignalRouter, parseMeshSignal, type MeshSignal, type RouteDecision,
} from '../../src/core/mesh/signal-route.ts';

/** Peer ids are 16 base64url characters. */
const id = (c: string) => c.repeat(16);
const [A, B, C, D, E] = ['A', 'B', 'C', 'D', 'E'].map(id) as [string, string, string, string, string];
const KEY = 'k'.repeat(43);
const SIG = 's'.repeat(86);
let counter = 0;
const frame = (over: Partial<MeshSignal> = {}): MeshSignal =>
  ({ id: `msg${String(++counter).padStart(6, '0')}`, src: A, dst: C, hops: MESH_HOP_LIMIT, data: '1.sealed', key: KEY, sig: SIG, ...over });

/** A router's decision, asserting the frame parsed. */
function take(r: SignalRouter, from: string, m: unknown, neighbours: string[], now = 0): RouteDecision {
  const got = r.receive(from, m, neighbours, now);
  assert.ok(got.ok, got.ok ? '' : got.error);
  return got.value;
}

describe('mesh signal routing', () => {
  test('a frame to an unknown destination floods to every neighbour but the one it came from and its source', () => {
    const b = new SignalRouter(B);
    const got = take(b, D, frame({ src: A }), [A, D, E]);
    assert.equal(got.kind, 'forward');
    assert.deepEqual(got.kind === 'forward' && got.to, [E]);
    assert.equal(got.kind === 'forward' && got.signal.hops, MESH_HOP_LIMIT - 1, 'one hop spent');
    assert.equal(b.stats().flooded, 1);
  });

  test('our own first signal floods; a neighbour that is the destination gets it alone', () => {
    const a = new SignalRouter(A);
    const flood = a.send({ id: 'first-one', dst: C, data: 'x', key: KEY, sig: SIG }, [B, D], 0);
    assert.deepEqual(flood.kind === 'forward' && flood.to, [B, D]);
    assert.equal(flood.kind === 'forward' && flood.signal.hops, MESH_HOP_LIMIT);
    assert.equal(flood.kind === 'forward' && flood.signal.src, A);
    const direct = a.send({ id: 'second-one', dst: C, data: 'x', key: KEY, sig: SIG }, [B, C, D], 0);
    assert.deepEqual(direct.kind === 'forward' && direct.to, [C]);
    assert.deepEqual(a.send({ id: 'third-one', dst: C, data: 'x', key: KEY, sig: SIG }, [], 0), { kind: 'drop', reason: 'no-neighbours' });
  });

  test('a frame to us is delivered (once), whatever its hops left', () => {
    const c = new SignalRouter(C);
    const m = frame({ hops: 1 });
    assert.deepEqual(take(c, B, m, [B]), { kind: 'deliver', signal: m });
    assert.deepEqual(take(c, D, m, [B, D]), { kind: 'drop', reason: 'duplicate' }, 'the same (src, id) by another path');
    assert.equal(c.stats().delivered, 1);
  });

  test('the hop limit: a frame on its last hop is not forwarded; a message to nobody dies out', () => {
    const b = new SignalRouter(B);
    assert.deepEqual(take(b, A, frame({ hops: 1 }), [A, D]), { kind: 'drop', reason: 'hop-limit' });
    // A line of routers, none of them the destination: the flood stops after MESH_HOP_LIMIT links.
    const line = Array.from({ length: 10 }, (_, i) => `node${String(i).padStart(12, '0')}`);
    const routers = line.map((n) => new SignalRouter(n));
    let got = routers[0]!.send({ id: 'to-nobody', dst: id('Z'), data: 'x', key: KEY, sig: SIG }, [line[1]!], 0);
    let crossed = 0;
    for (let i = 1; got.kind === 'forward'; i++) {
      crossed++;
      got = take(routers[i]!, line[i - 1]!, got.signal, [line[i - 1]!, line[i + 1]!]);
    }
    assert.equal(crossed, MESH_HOP_LIMIT);
    assert.deepEqual(got, { kind: 'drop', reason: 'hop-limit' });
  });

  test('duplicates are dropped within the window and taken again after it; our own frames coming back are dropped', () => {
    const b = new SignalRouter(B);
    const m = frame();
    assert.equal(take(b, A, m, [A, D], 0).kind, 'forward');
    assert.deepEqual(take(b, D, m, [A, D], SEEN_TTL_MS - 1), { kind: 'drop', reason: 'duplicate' });
    assert.equal(take(b, D, m, [A, D, E], SEEN_TTL_MS + 1).kind, 'forward', 'long gone: a (src, id) may come again');
    assert.deepEqual(take(b, A, frame({ src: B }), [A, D]), { kind: 'drop', reason: 'own' });
    assert.equal(b.stats().dropped.duplicate, 1);
  });

  test('reverse routes are learned, used, replaced by newer ones, and expire', () => {
    const b = new SignalRouter(B);
    take(b, D, frame({ src: A, dst: C }), [D, E]); // A is behind D
    assert.equal(b.routeTo(A, 0), D);
    // The answer from C to A goes to D alone, not flooded.
    const answer = take(b, E, frame({ src: C, dst: A }), [D, E], 10);
    assert.deepEqual(answer.kind === 'forward' && answer.to, [D]);
    assert.equal(b.routeTo(C, 10), E, 'and the way to C was learned on the way');
    // A later frame from A by another neighbour moves the route.
    take(b, E, frame({ src: A, dst: C }), [D, E], 20);
    assert.equal(b.routeTo(A, 20), E);
    // Expired: the next frame to A floods again.
    assert.equal(b.routeTo(A, 20 + ROUTE_TTL_MS), undefined);
    const flood = take(b, id('F'), frame({ src: C, dst: A }), [D, E, id('F')], 20 + ROUTE_TTL_MS);
    assert.deepEqual(flood.kind === 'forward' && flood.to, [D, E]);
  });

  test('a route through a neighbour that is gone is not used; neighbourGone forgets it', () => {
    const b = new SignalRouter(B);
    take(b, D, frame({ src: A }), [D, E]);
    const flood = take(b, E, frame({ src: C, dst: A }), [E, id('F')]); // D is no longer a neighbour
    assert.deepEqual(flood.kind === 'forward' && flood.to, [id('F')]);
    b.neighbourGone(D);
    assert.equal(b.routeTo(A, 0), undefined);
  });

  test('the route table is bounded: the least recently learned go first', () => {
    const b = new SignalRouter(B);
    const src = (i: number) => `s${String(i).padStart(15, '0')}`;
    // Spread over ten seconds, so D's budget is not the limit.
    for (let i = 0; i <= MAX_ROUTES; i++) assert.equal(take(b, D, frame({ src: src(i) }), [D, E], i * 10).kind, 'forward');
    const now = MAX_ROUTES * 10;
    assert.equal(b.routeTo(src(0), now), undefined);
    assert.equal(b.routeTo(src(1), now), D);
    assert.equal(b.routeTo(src(MAX_ROUTES), now), D);
  });

  test('each neighbour has a budget in bytes: over it, frames are dropped and counted, and it refills with time', () => {
    const b = new SignalRouter(B);
    const big = 'x'.repeat(MAX_MESH_SIGNAL_DATA);
    let passed = 0;
    for (let i = 0; i < 40; i++) if (take(b, A, frame({ data: big }), [A, D]).kind === 'forward') passed++;
    assert.ok(passed * MAX_MESH_SIGNAL_DATA <= MESH_BURST_BYTES, `${passed} big frames in one burst`);
    assert.ok(passed >= MESH_BURST_BYTES / (MAX_MESH_SIGNAL_DATA + 256) - 1, `${passed} passed`);
    assert.equal(b.stats().dropped.budget, 40 - passed);
    // Another neighbour's budget is its own.
    assert.equal(take(b, D, frame({ data: big }), [A, D, E]).kind, 'forward');
    // A second later, a second's worth passes again.
    let refilled = 0;
    for (let i = 0; i < 10; i++) if (take(b, A, frame({ data: big }), [A, D], 1000).kind === 'forward') refilled++;
    const cost = MAX_MESH_SIGNAL_DATA + 256;
    assert.ok(refilled >= Math.floor(MESH_BYTES_PER_SECOND / cost), `${refilled} after a second`);
    assert.ok((refilled - 1) * cost <= MESH_BYTES_PER_SECOND, `${refilled} after a second: a second's worth, and what was left`);
  });

  test('malformed frames are error values (proof for a ban); nothing is learned from them', () => {
    const b = new SignalRouter(B);
    const bad: unknown[] = [
      null, [], 'text', 7,
      { ...frame(), id: 'short' },
      { ...frame(), src: 'not a peer id' },
      { ...frame(), dst: 12 },
      { ...frame(), hops: 0 },
      { ...frame(), hops: MESH_HOP_LIMIT + 1 },
      { ...frame(), hops: 1.5 },
      { ...frame(), data: '' },
      { ...frame(), data: 'x'.repeat(MAX_MESH_SIGNAL_DATA + 1) },
      { ...frame(), key: 'short' },
      { ...frame(), sig: undefined },
    ];
    for (const m of bad) {
      const got = b.receive(A, m, [A, D], 0);
      assert.equal(got.ok, false, JSON.stringify(m)?.slice(0, 80));
      assert.equal(!got.ok && got.code, 'ERR_FRAME_FIELD');
    }
    assert.equal(b.routeTo(A, 0), undefined);
    assert.ok(parseMeshSignal(frame()).ok);
  });

  test('signal data is bounded as the relay bounds it (the same sealed wires)', () => {
    assert.equal(MAX_MESH_SIGNAL_DATA, MAX_SIGNAL_DATA);
  });

  test('a signal crosses a line of three by flood, and the answer comes back by the learned routes alone', () => {
    // A - B - C, and B also has D and E as neighbours.
    const [a, b, c] = [new SignalRouter(A), new SignalRouter(B), new SignalRouter(C)];
    const out = a.send({ id: 'offer-0001', dst: C, data: 'offer', key: KEY, sig: SIG }, [B], 0);
    assert.deepEqual(out.kind === 'forward' && out.to, [B]);
    const atB = take(b, A, out.kind === 'forward' && out.signal, [A, C, D, E]);
    assert.deepEqual(atB.kind === 'forward' && atB.to, [C], 'C is B\'s neighbour: straight to it');
    const atC = take(c, B, atB.kind === 'forward' && atB.signal, [B]);
    assert.equal(atC.kind, 'deliver');
    const back = c.send({ id: 'answer-001', dst: A, data: 'answer', key: KEY, sig: SIG }, [B], 1);
    const backAtB = take(b, C, back.kind === 'forward' && back.signal, [A, C, D, E], 1);
    assert.deepEqual(backAtB.kind === 'forward' && backAtB.to, [A]);
    assert.equal(take(a, B, backAtB.kind === 'forward' && backAtB.signal, [B], 1).kind, 'deliver');
    assert.equal(b.stats().flooded, 0);
  });
});
