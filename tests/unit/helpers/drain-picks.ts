import type { Bitfield } from '../../../src/core/bitfield.ts';
import type { PieceScheduler } from '../../../src/core/swarm/scheduler.ts';

/**
 * Every piece `peer` is asked for, in order, as its pipeline drains: each
 * piece is stored as soon as it is asked for, as download.ts would once it
 * arrived and verified. Stops after `limit` pieces or when nothing is left.
 */
export function drainPicks(s: PieceScheduler, peer: string, stored: Bitfield, limit = Infinity): number[] {
  const order: number[] = [];
  while (order.length < limit) {
    const picks = s.fill(peer, 0);
    if (picks.length === 0) break;
    for (const piece of picks) {
      order.push(piece);
      s.completed(peer, piece);
      stored.set(piece);
      s.settled(piece);
    }
  }
  return order;
}
