import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAIL_BACKOFF_MS } from '../../src/core/mesh/bounded.ts';
import { D_HIGH } from '../../src/core/mesh/degree.ts';
import { CONNECT_TIMEOUT_MS } from '../../src/net/peer-manager.ts';
import { encodeEnvelope } from '../../src/net/signal-envelope.ts';
import { fakeMesh, pid, type FakeConn } from './helpers/fake-links.ts';

/**
 * Two peer managers signalling each other by hand: Bob had blocked Ada (the
 * lower id), so her offer went unanswered, and now unblocks her. Each side may
 * think the room a full mesh or a bounded one (presence reaches them at
 * different times), and their offers may cross. Exactly one side must give
 * way, or both answer attempts that no longer exist and wait out
 * CONNECT_TIMEOUT_MS (20 s) before trying again.
 */
const ADA = pid(10);
const BOB = pid(20);
/** Everyone else in the room, banned on both sides so that each dials only the other (the planner picks at random). */
const crowd = (n: number) => Array.from({ length: n }, (_, i) => pid(100 + i));
type Kind = 'full' | 'bounded';
const othersFor = (kind: Kind) => crowd(kind === 'full' ? D_HIGH - 1 : D_HIGH + 1);

function side(self: string, other: string, kind: Kind) {
  const others = othersFor(kind);
  const f = fakeMesh(self, { banned: others, seed: self === ADA ? 1 : 2 });
  let cursor = 0;
  return {
    f, welcome: () => f.pm.welcome([other, ...others]),
    /** The envelopes sent to `other` since the last call. */
    take: () => {
      const out = f.sent.slice(cursor).filter((s) => s.to === other).map((s) => s.env);
      cursor = f.sent.length;
      return out;
    },
  };
}

/** Delivers what each side sent the other, both batches in flight at once (they cross), until nothing more is sent. */
function exchange(ada: ReturnType<typeof side>, bob: ReturnType<typeof side>): void {
  for (let round = 0; round < 10; round++) {
    const [toBob, toAda] = [ada.take(), bob.take()];
    if (toBob.length + toAda.length === 0) return;
    for (const env of toBob) bob.f.pm.signal(ADA, encodeEnvelope(env));
    for (const env of toAda) ada.f.pm.signal(BOB, encodeEnvelope(env));
  }
}

/** The data a fake connection signalled at construction (fake-links.ts numbers them per manager). */
const dataOf = (f: ReturnType<typeof fakeMesh>, c: FakeConn) => `sdp-${f.conns.indexOf(c) + 1}`;

/** A live dialled connection on one side, answered by a live answering one on the other, each holding the other's signal. */
function linked(a: ReturnType<typeof fakeMesh>, b: ReturnType<typeof fakeMesh>): boolean {
  const [ca, cb] = [a.live().filter((c) => c.peer === BOB), b.live().filter((c) => c.peer === ADA)];
  if (ca.length !== 1 || cb.length !== 1) return false;
  const [dialler, dialF, answerer, answerF] = ca[0]!.initiator ? [ca[0]!, a, cb[0]!, b] : [cb[0]!, b, ca[0]!, a];
  return !answerer.initiator && answerer.signals.includes(dataOf(dialF, dialler)) && dialler.signals.includes(dataOf(answerF, answerer));
}

describe('unblocking while offers cross, whatever each side thinks of the room', () => {
  for (const adaKind of ['full', 'bounded'] as const) {
    for (const bobKind of ['full', 'bounded'] as const) {
      const setup = () => {
        const ada = side(ADA, BOB, adaKind);
        const bob = side(BOB, ADA, bobKind);
        bob.f.pm.ban(ADA, 'ERR_BLOCKED');
        ada.welcome();
        bob.welcome();
        assert.equal(ada.f.pm.linkState(BOB), 'connecting', 'Ada dials Bob');
        for (const env of ada.take()) bob.f.pm.signal(ADA, encodeEnvelope(env)); // refused in silence: he blocks her
        assert.equal(bob.f.pm.linkState(ADA), undefined);
        return { ada, bob };
      };

      test(`Ada ${adaKind}, Bob ${bobKind}: unblocked while her try waits for nothing, they link at once`, () => {
        const { ada, bob } = setup();
        bob.f.pm.unban(ADA);
        exchange(ada, bob);
        assert.ok(linked(ada.f, bob.f), 'linked without waiting out her try');
      });

      test(`Ada ${adaKind}, Bob ${bobKind}: her next try crosses his offer after the unblock, and they link at once`, () => {
        const { ada, bob } = setup();
        ada.f.advance(CONNECT_TIMEOUT_MS + 1); // her try times out; she tries again (after a backoff in a bounded room)
        if (adaKind === 'bounded') ada.f.advance(FAIL_BACKOFF_MS);
        assert.equal(ada.f.pm.linkState(BOB), 'connecting', 'Ada dials Bob again');
        bob.f.pm.unban(ADA);
        exchange(ada, bob); // her new offer and his are in flight at once
        assert.ok(linked(ada.f, bob.f), 'one side gave way, the other\'s attempt was answered');
      });
    }
  }
});
