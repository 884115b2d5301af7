import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  D, DEGREE_JITTER, D_HIGH, D_LOW, LONG_LIVED_MS, SHORT_LIVED_MS, boundsFor, jittered, roleOf,
} from '../../src/core/mesh/degree.ts';
import { mulberry32 } from './helpers/random.ts';

describe('super-peer rule (roleOf, boundsFor)', () => {
  const long = { uptimeMs: LONG_LIVED_MS, onBattery: false, link: 'good' } as const;

  test('a long-lived peer on mains power with good links is a super-peer; it aims high and caps at D_HIGH', () => {
    assert.equal(roleOf(long), 'super');
    assert.deepEqual(boundsFor('super'), { role: 'super', low: D_LOW, target: D_HIGH - 2, high: D_HIGH });
  });

  test('on battery, short-lived or on a poor link: light, whatever else holds', () => {
    assert.equal(roleOf({ ...long, onBattery: true }), 'light');
    assert.equal(roleOf({ ...long, uptimeMs: SHORT_LIVED_MS - 1 }), 'light');
    assert.equal(roleOf({ ...long, link: 'poor' }), 'light');
    assert.deepEqual(boundsFor('light'), { role: 'light', low: D_LOW, target: D_LOW, high: D });
  });

  test('super-peer status must be shown: unknown battery or link, or not yet long-lived, is normal', () => {
    assert.equal(roleOf({ ...long, onBattery: undefined }), 'normal');
    assert.equal(roleOf({ ...long, link: undefined }), 'normal');
    assert.equal(roleOf({ ...long, uptimeMs: LONG_LIVED_MS - 1 }), 'normal');
    assert.equal(roleOf({ ...long, uptimeMs: SHORT_LIVED_MS }), 'normal');
    assert.deepEqual(boundsFor('normal'), { role: 'normal', low: D_LOW, target: D, high: D_HIGH });
  });

  test('the constants keep low <= target <= high for every role', () => {
    assert.ok(D_LOW < D && D < D_HIGH);
    for (const role of ['light', 'normal', 'super'] as const) {
      const b = boundsFor(role);
      assert.ok(b.low <= b.target && b.target <= b.high, role);
    }
  });

  test('jitter moves the target by at most DEGREE_JITTER, takes every offset, and never leaves [low, high]', () => {
    const random = mulberry32(3);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      for (const role of ['light', 'normal', 'super'] as const) {
        const b = jittered(boundsFor(role), random);
        assert.ok(b.target >= b.low && b.target <= b.high, `${role} ${b.target}`);
        assert.ok(Math.abs(b.target - boundsFor(role).target) <= DEGREE_JITTER);
        if (role === 'normal') seen.add(b.target);
      }
    }
    assert.deepEqual([...seen].sort(), [D - 1, D, D + 1]);
  });
});
