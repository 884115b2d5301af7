import { useEffect, useState } from 'preact/hooks';
import type { AppState } from '../app/state.ts';
import { formatBytes } from './format.ts';
import { sameProps, skipUnchanged } from './skip-unchanged.ts';

export interface StorageEstimate {
  usage: number;
  quota: number;
}

/** "Storage: 120 MiB used of 10 GiB", or null when the browser cannot tell. */
export function storageText(e: StorageEstimate | null): string | null {
  if (!e || !Number.isFinite(e.quota) || e.quota <= 0) return null;
  return `Storage: ${formatBytes(e.usage)} used of ${formatBytes(e.quota)}`;
}

/** While a download runs the usage grows without the file list changing: look again this often. */
const REFRESH_MS = 5_000;

/** What the estimate is read again for: a file came, went or changed status, an import started or ended. */
export const storageWatch = (state: AppState): string =>
  [...state.files.map((f) => `${f.meta.id}:${f.status}`), ...state.imports.map((i) => `i${i.id}`)].join(',');

/** How much of this site's storage the browser lets us use, read again whenever `watch` (storageWatch) changes. */
export const StorageMeter = skipUnchanged(StorageMeterView, sameProps);

function StorageMeterView({ watch }: { watch: string }) {
  const [estimate, setEstimate] = useState<StorageEstimate | null>(null);
  useEffect(() => {
    if (!navigator.storage?.estimate) return;
    let live = true;
    const read = () =>
      navigator.storage.estimate().then(
        (e) => live && setEstimate(e.usage === undefined || e.quota === undefined ? null : { usage: e.usage, quota: e.quota }),
        (e: Error) => console.warn('meshdrop: storage estimate failed', e),
      );
    void read();
    const timer = setInterval(read, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [watch]);
  const text = storageText(estimate);
  if (!text || !estimate) return null;
  return (
    <div class="storage">
      <span>{text}</span>
      <meter min={0} max={estimate.quota} value={estimate.usage} aria-label="Storage used" />
    </div>
  );
}
