import type { FileMeta } from '../manifest/manifest.ts';
import type { Announcement } from './announcement.ts';

/**
 * What the room shares: each file and which peers hold it, built from
 * announcements. A peer may announce at most MAX_FILES_PER_ORIGIN files, so one
 * spammer cannot grow everyone's memory without bound.
 */
export const MAX_FILES_PER_ORIGIN = 1000;

export interface CatalogueEntry {
  meta: FileMeta;
  holders: string[];
}

export type ApplyResult = 'changed' | 'unchanged' | 'over-limit';

export class Catalogue {
  /** fileId -> (origin -> the announcement that made it a holder) */
  private files = new Map<string, { meta: FileMeta; holders: Map<string, Announcement> }>();
  private perOrigin = new Map<string, number>();

  apply(a: Announcement): ApplyResult {
    return a.kind === 'add' ? this.add(a) : this.remove(a.origin, a.file.id) ? 'changed' : 'unchanged';
  }

  /** A peer left the room: it holds nothing any more. */
  removePeer(peer: string): boolean {
    let changed = false;
    for (const fileId of [...this.files.keys()]) changed = this.remove(peer, fileId) || changed;
    return changed;
  }

  entries(): CatalogueEntry[] {
    return [...this.files.values()].map((f) => ({ meta: f.meta, holders: [...f.holders.keys()] }));
  }

  holders(fileId: string): string[] {
    return [...(this.files.get(fileId)?.holders.keys() ?? [])];
  }

  meta(fileId: string): FileMeta | undefined {
    return this.files.get(fileId)?.meta;
  }

  /** Current announcements, to bring a newly connected neighbour up to date. */
  announcements(): Announcement[] {
    return [...this.files.values()].flatMap((f) => [...f.holders.values()]);
  }

  private add(a: Announcement): ApplyResult {
    let file = this.files.get(a.file.id);
    if (file?.holders.has(a.origin)) return 'unchanged';
    const count = this.perOrigin.get(a.origin) ?? 0;
    if (count >= MAX_FILES_PER_ORIGIN) return 'over-limit';
    if (!file) {
      file = { meta: a.file, holders: new Map() };
      this.files.set(a.file.id, file);
    }
    file.holders.set(a.origin, a);
    this.perOrigin.set(a.origin, count + 1);
    return 'changed';
  }

  private remove(origin: string, fileId: string): boolean {
    const file = this.files.get(fileId);
    if (!file?.holders.delete(origin)) return false;
    this.perOrigin.set(origin, (this.perOrigin.get(origin) ?? 1) - 1);
    if (file.holders.size === 0) this.files.delete(fileId);
    return true;
  }
}
