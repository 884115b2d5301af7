import { utf8 } from '../bytes.ts';

/**
 * Splits `items` into chunks whose JSON (`JSON.stringify(chunk)`) is at most
 * `maxBytes` UTF-8 bytes, keeping order: frames are sized by bytes, never by
 * item counts, since one item can be 60 bytes or 3 KB. An item too large to
 * fit even alone is left out and handed to `oversize` (callers that bound
 * their items, like announcements by MAX_ANNOUNCEMENT_BYTES, never see it).
 */
export function packByBytes(items: readonly unknown[], maxBytes: number, oversize?: (item: unknown) => void): unknown[][] {
  const chunks: unknown[][] = [];
  let chunk: unknown[] = [];
  let bytes = 2; // "[" and "]"
  for (const item of items) {
    const size = utf8(JSON.stringify(item) ?? 'null').length; // undefined becomes null in an array
    if (2 + size > maxBytes) {
      oversize?.(item);
      continue;
    }
    const added = size + (chunk.length > 0 ? 1 : 0); // the comma
    if (bytes + added > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 2;
    }
    bytes += size + (chunk.length > 0 ? 1 : 0);
    chunk.push(item);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
