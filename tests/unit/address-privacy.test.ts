import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressPrivacy, icePolicy, isTurnServer } from '../../src/app/address-privacy.ts';

test('hide my address: offered only where TURN is, never leaks once chosen, and the operator can require it', () => {
  const cases = [
    { enforced: false, turnKnown: false, hidden: false, view: 'unavailable', policy: 'all' },
    { enforced: false, turnKnown: true, hidden: false, view: 'off', policy: 'all' },
    { enforced: false, turnKnown: true, hidden: true, view: 'on', policy: 'relay' },
    // Chosen, then the server lost its TURN: still relay-only (no links) rather than a silent leak, and the switch stays to undo it.
    { enforced: false, turnKnown: false, hidden: true, view: 'on-without-turn', policy: 'relay' },
    { enforced: true, turnKnown: true, hidden: false, view: 'enforced', policy: 'relay' },
    { enforced: true, turnKnown: false, hidden: true, view: 'enforced', policy: 'relay' },
  ] as const;
  for (const { view, policy, ...facts } of cases) {
    assert.equal(addressPrivacy(facts), view, JSON.stringify(facts));
    assert.equal(icePolicy(facts), policy, JSON.stringify(facts));
  }
});

test('only turn: and turns: URLs count as TURN servers', () => {
  assert.ok(isTurnServer({ urls: 'turn:turn.example.org:3478' }));
  assert.ok(isTurnServer({ urls: ['stun:stun.example.org', 'TURNS:turn.example.org:5349'] }));
  assert.ok(!isTurnServer({ urls: 'stun:stun.l.google.com:19302' }));
  assert.ok(!isTurnServer({ urls: [] }));
  assert.ok(!isTurnServer({ urls: 'https://turn.example.org' }));
});
