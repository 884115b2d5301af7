import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { deriveRoomKeys } from '../../src/core/crypto/room-keys.ts';
import { FRESHNESS_MS, MAX_WINDOW_SEQS, REORDER_WINDOW_MS, sealSignals } from '../../src/net/sealed-signal.ts';
import type { SignalClient, SignalErrorCode, SignalHandlers } from '../../src/net/signal-client.ts';

/**
 * Sealed signalling between two ends over a fake relay that records and can
 * replay, reorder, delay or tamper with what passes through it.
 */
const A = 'AAAAAAAAAAAAAAAA';
const B = 'BBBBBBBBBBBBBBBB';
const rnd = (n: number) => new Uint8Array(randomBytes(n));
/** Sealing and opening are asynchronous: wait for the outcome, not for a guessed delay. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function pair() {
  const keys = await deriveRoomKeys({ secret: 'sealed-signal-test', named: false }, rnd);
  const clock = { a: 1_700_000_000_000, b: 1_700_000_000_000 };
  /** What the relay saw A send to B, in order. */
  const wire: string[] = [];
  let deliverToB: (from: string, data: string) => void = () => undefined;
  const received: string[] = [];
  const errors: { code: SignalErrorCode; message: string }[] = [];
  const handlers = (into: string[]): SignalHandlers => ({
    onWelcome: () => undefined, onPeerJoined: () => undefined, onPeerLeft: () => undefined, onStatus: () => undefined,
    onSignal: (_from, data) => into.push(data),
    onError: (code, message) => errors.push({ code, message }),
  });
  const fakeClient = (onSend: (to: string, data: string) => void): SignalClient => ({ sendSignal: onSend, reconnect: () => undefined, close: () => undefined });

  const startA = () => sealSignals(keys, A, () => fakeClient((_to, data) => wire.push(data)), { now: () => clock.a })(handlers([]));
  let a = startA();
  let bHandlers: SignalHandlers | undefined;
  sealSignals(keys, B, (h) => {
    bHandlers = h;
    return fakeClient(() => undefined);
  }, { now: () => clock.b })(handlers(received));
  deliverToB = (from, data) => bHandlers!.onSignal(from, data);
  const send = async (text: string) => {
    const before = wire.length;
    a.sendSignal(B, text);
    await until(() => wire.length > before);
    return wire.at(-1)!;
  };
  /** Every delivery ends in exactly one outcome: a signal passed on, or an error. */
  const deliver = async (data: string, from = A) => {
    const outcomes = () => received.length + errors.length;
    const before = outcomes();
    deliverToB(from, data);
    await until(() => outcomes() > before);
  };
  const reloadA = () => { a = startA(); };
  return { wire, send, deliver, received, errors, clock, reloadA, peerLeft: (p: string) => bHandlers!.onPeerLeft(p) };
}

describe('sealed signalling replay protection', () => {
  test('fresh signals in order are accepted; the seq travels in clear and grows', async () => {
    const p = await pair();
    const one = await p.send('offer');
    const two = await p.send('candidate');
    const [seq1, seq2] = [one, two].map((w) => Number(w.split('.')[0]));
    assert.equal(seq1, p.clock.a * 1000, 'microseconds of the sender\'s wall clock');
    assert.equal(seq2, seq1 + 1, 'the same millisecond: last + 1');
    await p.deliver(one);
    await p.deliver(two);
    assert.deepEqual(p.received, ['offer', 'candidate']);
    assert.deepEqual(p.errors, []);
  });

  test('a replayed signal is rejected, even after a (possibly forged) peer-left', async () => {
    const p = await pair();
    const offer = await p.send('offer');
    await p.deliver(offer);
    await p.deliver(offer);
    p.peerLeft(A);
    await p.deliver(offer);
    assert.deepEqual(p.received, ['offer']);
    assert.deepEqual(p.errors.map((e) => e.code), ['replayed', 'replayed']);
    assert.match(p.errors[0]!.message, /replay/);
  });

  test('paths reorder: an unseen signal a little older than the newest is taken, once', async () => {
    const p = await pair();
    const older = await p.send('offer');
    p.clock.a += 2_000; // sent later, but it takes the faster path
    const newer = await p.send('candidate');
    await p.deliver(newer);
    await p.deliver(older);
    await p.deliver(older);
    await p.deliver(newer);
    assert.deepEqual(p.received, ['candidate', 'offer']);
    assert.deepEqual(p.errors.map((e) => e.code), ['replayed', 'replayed']);
    assert.match(p.errors[0]!.message, /received before/);
  });

  test('a signal further behind the newest than the reorder window is refused, seen or not', async () => {
    const p = await pair();
    const old = await p.send('held back');
    const edge = await p.send('just inside');
    p.clock.a += REORDER_WINDOW_MS; // edge's seq is old's + 1: exactly at the window's floor for old, inside for edge
    await p.deliver(await p.send('newest'));
    await p.deliver(old);
    await p.deliver(edge);
    assert.deepEqual(p.received, ['newest', 'just inside']);
    assert.deepEqual(p.errors.map((e) => e.code), ['replayed']);
    assert.match(p.errors[0]!.message, /older than the ones received since/);
  });

  test('the window is bounded: past MAX_WINDOW_SEQS the oldest numbers go and the floor rises to them', async () => {
    const p = await pair();
    const first = await p.send('0');
    const second = await p.send('1');
    const later: string[] = [];
    for (let i = 0; i < MAX_WINDOW_SEQS; i++) later.push(await p.send(`n${i}`));
    await p.deliver(second);
    for (const w of later) await p.deliver(w); // one more than the cap: `second` is forgotten, the floor rises to it
    await p.deliver(first); // unseen and in time, but below the floor
    await p.deliver(second); // forgotten, but still refused
    assert.equal(p.received.length, MAX_WINDOW_SEQS + 1);
    assert.deepEqual(p.errors.map((e) => e.code), ['replayed', 'replayed']);
  });

  test('a stale signal is rejected by the receiver\'s clock', async () => {
    const p = await pair();
    const old = await p.send('recorded offer');
    p.clock.b += FRESHNESS_MS + 1;
    await p.deliver(old);
    assert.deepEqual(p.received, []);
    assert.deepEqual(p.errors.map((e) => e.code), ['replayed']);
    assert.match(p.errors[0]!.message, /older than 10 minutes/);
    // Just inside the window is fine: clocks differ.
    p.clock.a += FRESHNESS_MS;
    await p.deliver(await p.send('fresh'));
    assert.deepEqual(p.received, ['fresh']);
  });

  test('numbers keep growing across a reload (a new sealSignals): they come from the wall clock', async () => {
    const p = await pair();
    const one = await p.send('before reload');
    await p.send('more');
    await p.deliver(one);
    p.clock.a += 50; // a reload takes time; the page starts counting afresh
    p.reloadA();
    const after = await p.send('after reload');
    assert.ok(Number(after.split('.')[0]) > Number(one.split('.')[0]));
    await p.deliver(after);
    assert.deepEqual(p.received, ['before reload', 'after reload']);
  });

  test('tampering with the seq in clear, or dropping it, fails to open', async () => {
    const p = await pair();
    const sealed = await p.send('offer');
    const [seq, body] = sealed.split('.') as [string, string];
    await p.deliver(`${Number(seq) + 1000}.${body}`); // pushed ahead, to make later real ones look replayed
    await p.deliver(`${Number(seq) - 1}.${body}`);
    await p.deliver(body);
    await p.deliver(`x${seq}.${body}`);
    await p.deliver(`${'9'.repeat(17)}.${body}`);
    await p.deliver(sealed, B); // re-attributed by the relay
    assert.deepEqual(p.received, []);
    assert.deepEqual(p.errors.map((e) => e.code), Array(6).fill('unauthenticated'));
    await p.deliver(sealed); // the genuine one still opens: the forgeries moved nothing
    assert.deepEqual(p.received, ['offer']);
  });
});
