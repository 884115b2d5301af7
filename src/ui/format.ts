/** Human-readable sizes and speeds, binary units as file managers show them. */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${UNITS[i]}`;
}

export const formatSpeed = (bytesPerSecond: number): string => `${formatBytes(bytesPerSecond)}/s`;

export const percent = (done: number, total: number): number => (total <= 0 ? 100 : Math.floor((done / total) * 100));

/**
 * A progress bar's fill: scaled, not sized, so a step is drawn by the
 * compositor without laying the page out; layout from the bar's changing
 * width filled single tasks for 50-70 ms with the CPU throttled 4x.
 */
export const barStyle = (pct: number) => ({ transform: `scaleX(${Math.min(100, Math.max(0, pct)) / 100})` });

/** A short label for a MIME type: "PDF", "PNG image", or the extension. */
export function fileKind(mime: string, name: string): string {
  const ext = name.includes('.') ? name.split('.').pop()!.toUpperCase().slice(0, 8) : '';
  if (mime.startsWith('image/')) return `${ext || 'image'} image`.trim();
  if (mime.startsWith('video/')) return `${ext || 'video'} video`.trim();
  if (mime.startsWith('audio/')) return `${ext || 'audio'} audio`.trim();
  if (mime === 'application/pdf') return 'PDF';
  return ext ? `${ext} file` : 'file';
}

/** "12 s left", "4 min left", "2 h 5 min left": rounded up, since promising too little annoys less than too much. */
export function formatTimeLeft(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${Math.max(1, s)} s left`;
  const min = Math.ceil(s / 60);
  if (min < 60) return `${min} min left`;
  const h = Math.floor(min / 60);
  return min % 60 === 0 ? `${h} h left` : `${h} h ${min % 60} min left`;
}
