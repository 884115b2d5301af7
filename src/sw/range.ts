/**
 * HTTP Range requests (RFC 9110 §14) for the media route: which bytes to
 * send and the status and headers that say so. Pure, so it is tested in Node.
 *
 * - no Range: 200, the whole file;
 * - `bytes=a-b`, `bytes=a-` (open), `bytes=-n` (the last n): 206 with
 *   `Content-Range: bytes a-b/size`; an end past the file is cut to it, as the
 *   RFC asks (Safari's `bytes=0-1` probe is just a two-byte range);
 * - a start past the end, an empty suffix, or anything malformed: 416 with
 *   `Content-Range: bytes * /size`, so the client learns the size;
 * - several ranges (`bytes=0-1,5-9`): served as 200 with the whole file, which
 *   the RFC allows; media elements never ask for several, and a multipart body
 *   would be code for nobody.
 */
export type RangeAnswer =
  | { kind: 'whole'; start: 0; end: number }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

/** `end` is inclusive, as in the header. `size` is at least 1 (meshdrop shares no empty files). */
export function parseRange(header: string | null, size: number): RangeAnswer {
  const whole = { kind: 'whole', start: 0, end: size - 1 } as const;
  if (header === null) return whole;
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return { kind: 'unsatisfiable' };
  const specs = m[1]!.split(',').map((s) => s.trim());
  if (specs.length > 1) return specs.every((s) => /^(\d+-\d*|-\d+)$/.test(s)) ? whole : { kind: 'unsatisfiable' };
  const spec = /^(\d*)-(\d*)$/.exec(specs[0]!);
  if (!spec || (spec[1] === '' && spec[2] === '')) return { kind: 'unsatisfiable' };
  const [first, last] = [spec[1]!, spec[2]!];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

export interface RangeHead {
  status: 200 | 206 | 416;
  headers: Record<string, string>;
}

/** Status and headers for an answer; the body (if any) is bytes start..end of the file. */
export function rangeHead(answer: RangeAnswer, size: number, mime: string): RangeHead {
  const common = { 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-store' };
  if (answer.kind === 'unsatisfiable') return { status: 416, headers: { ...common, 'Content-Range': `bytes */${size}` } };
  const headers = { ...common, 'Content-Type': mime, 'Content-Length': String(answer.end - answer.start + 1) };
  if (answer.kind === 'whole') return { status: 200, headers };
  return { status: 206, headers: { ...headers, 'Content-Range': `bytes ${answer.start}-${answer.end}/${size}` } };
}

export interface PieceSlice {
  piece: number;
  /** Offsets inside the piece: [from, to). */
  from: number;
  to: number;
}

/** The pieces holding bytes start..end (inclusive), and which part of each. */
export function slicesFor(start: number, end: number, pieceSize: number): PieceSlice[] {
  const slices: PieceSlice[] = [];
  for (let offset = start; offset <= end; ) {
    const piece = Math.floor(offset / pieceSize);
    const from = offset - piece * pieceSize;
    const to = Math.min(pieceSize, end + 1 - piece * pieceSize);
    slices.push({ piece, from, to });
    offset += to - from;
  }
  return slices;
}
