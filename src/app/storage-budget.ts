import type { Notices } from './state.ts';

/**
 * The browser's storage budget for this site: checked before a download
 * starts (an impossible file is refused up front, in plain words), and a
 * request that our data not be evicted, made once, at the first share or download.
 */
export interface BrowserStorage {
  estimate(): Promise<{ quota: number; usage: number } | null>;
  persist(): Promise<boolean>;
}

export class StorageBudget {
  private askedToPersist = false;

  constructor(private readonly storage: BrowserStorage | undefined, private readonly notices: Notices) {}

  askToPersist(): void {
    if (this.askedToPersist || !this.storage) return;
    this.askedToPersist = true;
    this.storage.persist().then(
      (granted) => granted || this.notices.info('This browser may delete stored files if it runs short of space; save what you want to keep.'),
      (e: Error) => this.notices.info(`Could not ask the browser to keep files stored: ${e.message}`),
    );
  }

  /** Bytes this site may still store, by the browser's estimate; null when it cannot tell. */
  async free(): Promise<number | null> {
    try {
      const estimate = (await this.storage?.estimate()) ?? null;
      return estimate && estimate.quota - estimate.usage;
    } catch (e) {
      console.warn('meshdrop: storage estimate failed; downloading without a size check', e);
      return null;
    }
  }

  /** Why `size` bytes (of which `already` are stored) will not fit, or null if they will or we cannot tell. */
  async refusal(size: number, already: number): Promise<string | null> {
    const free = await this.free();
    if (free === null) return null;
    const needed = size - already;
    if (needed <= free) return null;
    return `This browser can store about ${formatSize(free)} more for this site; the file needs ${formatSize(needed)}.`;
  }
}

export const formatSize = (n: number): string =>
  n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.max(0, n / 2 ** 20).toFixed(1)} MiB`;
