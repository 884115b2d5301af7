import { MAX_HOPS, type Announcement } from '../../../src/core/gossip/announcement.ts';
import type { FileMeta } from '../../../src/core/manifest/manifest.ts';
import { meta } from './gossip-keys.ts';

/**
 * Announcements for the pure parts (catalogue, rules), which never look at
 * keys or signatures: those are checked before anything reaches them.
 */
export const peerId = (n: number): string => `peer${String(n).padStart(12, '0')}`;

export function statement(
  origin: string, file: number, seq: number, kind: Announcement['kind'] = 'add', over: Partial<FileMeta> = {}, hops = MAX_HOPS,
): Announcement {
  return { v: 1, origin, key: 'k'.repeat(43), seq, kind, file: meta(file, over), hops, sig: 's'.repeat(86) };
}
