import { inflateRawSync } from 'node:zlib';

/**
 * A minimal zip reader for tests, written from the spec (APPNOTE 4.3), not
 * from client-zip, so it checks what the archive says rather than what the
 * writer meant: the central directory lists the entries; each local header
 * is followed by its data (stored or deflated), whose CRC-32 must match.
 * Zip64 sizes and offsets are read from the central directory's extra field.
 */
export interface ZipFileEntry {
  name: string;
  data: Uint8Array;
}

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export function readZip(zip: Uint8Array): ZipFileEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = zip.length - 22;
  while (eocd >= 0 && view.getUint32(eocd, true) !== EOCD) eocd--;
  if (eocd < 0) throw new Error('no end of central directory record');
  let count = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  if (eocd >= 20 && view.getUint32(eocd - 20, true) === EOCD64_LOCATOR) {
    const eocd64 = Number(view.getBigUint64(eocd - 20 + 8, true));
    count = Number(view.getBigUint64(eocd64 + 32, true));
    offset = Number(view.getBigUint64(eocd64 + 48, true));
  }
  const entries: ZipFileEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (view.getUint32(offset, true) !== CENTRAL) throw new Error(`bad central directory entry ${i}`);
    const method = view.getUint16(offset + 10, true);
    const crc = view.getUint32(offset + 16, true);
    let compressed = view.getUint32(offset + 20, true);
    let size = view.getUint32(offset + 24, true);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    let local = view.getUint32(offset + 42, true);
    const name = new TextDecoder('utf-8', { fatal: true }).decode(zip.subarray(offset + 46, offset + 46 + nameLength));
    const z64 = zip64Extra(view, offset + 46 + nameLength, extraLength);
    if (z64) {
      // Zip64 fields appear only for the values that overflowed, in this order.
      let at = 0;
      if (size === 0xffffffff) size = Number(z64[at++]);
      if (compressed === 0xffffffff) compressed = Number(z64[at++]);
      if (local === 0xffffffff) local = Number(z64[at++]);
    }
    if (view.getUint32(local, true) !== LOCAL) throw new Error(`bad local header for ${name}`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = zip.subarray(start, start + compressed);
    const data = method === 0 ? raw : method === 8 ? new Uint8Array(inflateRawSync(raw)) : null;
    if (!data) throw new Error(`${name}: unknown compression method ${method}`);
    if (data.length !== size) throw new Error(`${name}: ${data.length} bytes, the directory says ${size}`);
    if (crc32(data) !== crc) throw new Error(`${name}: CRC-32 mismatch`);
    entries.push({ name, data });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function zip64Extra(view: DataView, at: number, length: number): bigint[] | null {
  for (let p = at; p + 4 <= at + length; ) {
    const id = view.getUint16(p, true);
    const size = view.getUint16(p + 2, true);
    if (id === 0x0001) return Array.from({ length: size / 8 }, (_, i) => view.getBigUint64(p + 4 + i * 8, true));
    p += 4 + size;
  }
  return null;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
