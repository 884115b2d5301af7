import { fromHex, fromUtf8, toHex, utf8 } from '../bytes.ts';
import { checkRange, MAX_RANGE_HASHES } from '../manifest/draft.ts';
import { HASH_BYTES, MAX_FILE_SIZE, MAX_PIECE_SIZE, MAX_PIECES } from '../manifest/manifest.ts';
import { MAX_NAME_BYTES } from '../names.ts';
import { err, ok, type Result } from '../result.ts';

/**
 * The peer wire protocol: one binary frame per data-channel message.
 * Every frame starts with a type byte; integers are big-endian; a file id is
 * its 32 raw SHA-256 bytes on the wire and lowercase hex in memory.
 *
 *   HELLO          0x01 | u8 version | utf8 JSON { name, key, sig }       first frame each way; key and sig:
 *                                                                       the identity and its signature binding this link
 *                                                                       (see app/hello.ts)
 *   GOSSIP         0x02 | utf8 JSON (an announcement, parsed by gossip/)
 *   WANT_MANIFEST  0x03 | id[32]
 *   MANIFEST_PART  0x04 | id[32] | u16 part | u16 parts | u32 size_hi | u32 size_lo | hashes[32*k]   k <= 1024
 *                                                                       (the size is inside the file id: see manifest.ts)
 *   REQUEST        0x05 | id[32] | u32 piece
 *   CANCEL         0x06 | id[32] | u32 piece
 *   REJECT         0x07 | id[32] | u32 piece | u8 reason                  piece 0xffffffff: the manifest
 *   DATA           0x08 | id[32] | u32 piece | u32 offset | bytes        bytes <= 64 KiB
 *   HAVE           0x09 | id[32] | u32 piece
 *   BITFIELD       0x0a | id[32] | bits (MSB first, ceil(pieces/8) bytes)
 *   CATALOGUE      0x0b | utf8 JSON [announcement, ...]                  a neighbour's current catalogue, on connect
 *   KEEPALIVE      0x0c                                                  "still working on your requests"
 *   IHAVE          0x0d | utf8 JSON ["origin:fileId:seq", ...]           lazy gossip: statements taken in lately
 *   IWANT          0x0e | utf8 JSON ["origin:fileId:seq", ...]           lazy gossip: send me these (see gossip/lazy.ts)
 *   PRESENCE       0x0f | utf8 JSON (one signed presence statement)      who is here (see gossip/presence.ts)
 *   PRUNE          0x10 | utf8 JSON { candidates: [peerId, ...] }        "I am closing our mesh link": up to 16 other
 *                                                                       members to try instead (peer exchange; see
 *                                                                       net/peer-manager.ts)
 *   MESH_SIGNAL    0x11 | utf8 JSON { id, src, dst, hops, data, key, sig }  a sealed signal routed through the mesh
 *                                                                       (see mesh/signal-route.ts)
 *   DRAFT_HASHES   0x12 | id[32] | u32 size_hi | u32 size_lo | u32 first | sig[64] | hashes[32*k]   1 <= k <= 1024,
 *                                                                       first + k <= the pieces of `size`: piece hashes of
 *                                                                       a draft, signed by its origin (manifest/draft.ts)
 *   AUDIENCE       0x13 | utf8 JSON [announcement, ...]                  statements about files shared with chosen people,
 *                                                                       sent only to a member of each one's audience over
 *                                                                       a link whose HELLO proved it (gossip/audience.ts);
 *                                                                       never forwarded                      (0x14 reserved)
 *   QUERY          0x15 | utf8 JSON { id, text, hops }                   a search, hop by hop through a bounded mesh
 *   QUERY_HIT      0x16 | utf8 JSON { id, hits: [announcement, ...] }    answers, back along the query's path
 *                                                                       (both judged by gossip/query.ts)
 *
 * decodeFrame never throws: anything malformed, truncated, oversized or of an
 * unknown type comes back as an error value, and the caller drops the peer.
 */

/**
 * 5: AUDIENCE, and announcements with an `audience` (share with chosen people), which a v4 peer would take for bad
 *    signatures; QUERY, QUERY_HIT (search in bounded rooms, gossip/query.ts); presence statements carry a signed status
 *    (active, idle, away) after the name (gossip/presence.ts).
 * 4: drafts (DRAFT_HASHES, and announcements with `draft` and `was`, which a v3 peer would take for bad signatures).
 * 3: PRESENCE, PRUNE, MESH_SIGNAL, and links dialled by either side (net/peer-manager.ts). Older peers are refused with ERR_VERSION.
 */
export const WIRE_VERSION = 5;
/** Piece bytes per DATA frame. Chrome accepts 256 KiB messages; 64 KiB is safe everywhere. */
export const DATA_CHUNK = 64 * 1024;
export const HASHES_PER_PART = 1024;
export const MAX_JSON_BYTES = 32 * 1024;
/** base64url of a 32-byte public key and of a 64-byte signature. */
const KEY_RE = /^[A-Za-z0-9_-]{43}$/;
const SIG_RE = /^[A-Za-z0-9_-]{86}$/;
/** No frame is larger than this; a bigger one is hostile. */
export const MAX_FRAME_BYTES = 1 + HASH_BYTES + 8 + DATA_CHUNK;
export const MANIFEST_PIECE = 0xffffffff;
/** Peer exchange in a PRUNE: enough to find a new neighbour at once, small enough to stay one cheap frame. */
export const MAX_PRUNE_CANDIDATES = 16;
const PEER_ID_RE = /^[A-Za-z0-9_-]{16}$/;

export const RejectReason = { notFound: 1, busy: 2 } as const;

export type WireMessage =
  | { type: 'hello'; version: number; name: string; key: string; sig: string }
  | { type: 'gossip'; json: unknown }
  | { type: 'catalogue'; json: unknown }
  | { type: 'audience'; json: unknown }
  | { type: 'ihave'; json: unknown }
  | { type: 'iwant'; json: unknown }
  | { type: 'mesh-signal'; json: unknown }
  | { type: 'presence'; json: unknown }
  | { type: 'query'; json: unknown }
  | { type: 'query-hit'; json: unknown }
  | { type: 'keepalive' }
  | { type: 'want-manifest'; fileId: string }
  | { type: 'manifest-part'; fileId: string; part: number; parts: number; size: number; hashes: Uint8Array }
  | { type: 'request'; fileId: string; piece: number }
  | { type: 'cancel'; fileId: string; piece: number }
  | { type: 'reject'; fileId: string; piece: number; reason: number }
  | { type: 'data'; fileId: string; piece: number; offset: number; bytes: Uint8Array }
  | { type: 'have'; fileId: string; piece: number }
  | { type: 'bitfield'; fileId: string; bits: Uint8Array }
  | { type: 'draft-hashes'; fileId: string; size: number; first: number; sig: Uint8Array; hashes: Uint8Array }
  | { type: 'prune'; candidates: string[] };

export type WireErrorCode = 'ERR_FRAME_EMPTY' | 'ERR_FRAME_TOO_LARGE' | 'ERR_FRAME_TYPE' | 'ERR_FRAME_LENGTH' | 'ERR_FRAME_FIELD';

const T = {
  hello: 0x01, gossip: 0x02, 'want-manifest': 0x03, 'manifest-part': 0x04, request: 0x05,
  cancel: 0x06, reject: 0x07, data: 0x08, have: 0x09, bitfield: 0x0a, catalogue: 0x0b, keepalive: 0x0c,
  ihave: 0x0d, iwant: 0x0e, presence: 0x0f, prune: 0x10, 'mesh-signal': 0x11, 'draft-hashes': 0x12,
  audience: 0x13, query: 0x15, 'query-hit': 0x16,
} as const;

/** Frames that mean a transfer is working (asked for or served): what keeps a transfer link from idling out. */
const TRANSFER_TYPES: ReadonlySet<number> = new Set([T['want-manifest'], T['manifest-part'], T.request, T.data, T['draft-hashes']]);
export const isTransferFrame = (bytes: Uint8Array): boolean => bytes.length > 0 && TRANSFER_TYPES.has(bytes[0]!);

/** Frames whose body is one JSON value, judged by gossip/ and mesh/ (not here). */
const JSON_TYPES = new Map<number, 'gossip' | 'catalogue' | 'audience' | 'ihave' | 'iwant' | 'presence' | 'mesh-signal' | 'query' | 'query-hit'>([
  [T.gossip, 'gossip'], [T.catalogue, 'catalogue'], [T.audience, 'audience'], [T.ihave, 'ihave'], [T.iwant, 'iwant'],
  [T.presence, 'presence'], [T['mesh-signal'], 'mesh-signal'], [T.query, 'query'], [T['query-hit'], 'query-hit'],
]);

const ID_END = 1 + HASH_BYTES;
/** part, parts, size: the bytes of a MANIFEST_PART before its hashes. */
const MANIFEST_HEADER = 12;
const SIGNATURE_BYTES = 64;
/** size, first, signature: the bytes of a DRAFT_HASHES before its hashes. */
const DRAFT_HEADER = 12 + SIGNATURE_BYTES;

/** DATA frames name the same few files thousands of times: keep their id bytes (bounded). */
const idBytesCache = new Map<string, Uint8Array>();

function idBytes(fileId: string): Uint8Array {
  const cached = idBytesCache.get(fileId);
  if (cached) return cached;
  const id = fromHex(fileId);
  if (!id || id.length !== HASH_BYTES) throw new Error(`not a file id: ${fileId.slice(0, 80)}`);
  if (idBytesCache.size >= 256) idBytesCache.clear();
  idBytesCache.set(fileId, id);
  return id;
}

function frame(type: number, fileId: string, extra: number): { buf: Uint8Array; view: DataView } {
  const id = idBytes(fileId);
  const buf = new Uint8Array(ID_END + extra);
  buf[0] = type;
  buf.set(id, 1);
  return { buf, view: new DataView(buf.buffer) };
}

function jsonFrame(type: number, prefix: number[], value: unknown): Uint8Array {
  const body = utf8(JSON.stringify(value));
  if (body.length > MAX_JSON_BYTES) throw new Error(`JSON frame of ${body.length} bytes exceeds ${MAX_JSON_BYTES}`);
  const buf = new Uint8Array(1 + prefix.length + body.length);
  buf[0] = type;
  buf.set(prefix, 1);
  buf.set(body, 1 + prefix.length);
  return buf;
}

/** Encodes our own messages. Throws only on programming errors (we never encode peer input blindly). */
export function encodeFrame(m: WireMessage): Uint8Array {
  switch (m.type) {
    case 'hello':
      return jsonFrame(T.hello, [m.version], { name: m.name, key: m.key, sig: m.sig });
    case 'gossip':
    case 'catalogue':
    case 'audience':
    case 'ihave':
    case 'iwant':
    case 'mesh-signal':
    case 'presence':
    case 'query':
    case 'query-hit':
      return jsonFrame(T[m.type], [], m.json);
    case 'keepalive':
      return new Uint8Array([T.keepalive]);
    case 'prune':
      return jsonFrame(T.prune, [], { candidates: m.candidates });
    case 'want-manifest':
      return frame(T['want-manifest'], m.fileId, 0).buf;
    case 'manifest-part': {
      const f = frame(T['manifest-part'], m.fileId, MANIFEST_HEADER + m.hashes.length);
      f.view.setUint16(ID_END, m.part);
      f.view.setUint16(ID_END + 2, m.parts);
      f.view.setUint32(ID_END + 4, Math.floor(m.size / 2 ** 32));
      f.view.setUint32(ID_END + 8, m.size % 2 ** 32);
      f.buf.set(m.hashes, ID_END + MANIFEST_HEADER);
      return f.buf;
    }
    case 'request':
    case 'cancel':
    case 'have': {
      const f = frame(T[m.type], m.fileId, 4);
      f.view.setUint32(ID_END, m.piece);
      return f.buf;
    }
    case 'reject': {
      const f = frame(T.reject, m.fileId, 5);
      f.view.setUint32(ID_END, m.piece);
      f.buf[ID_END + 4] = m.reason;
      return f.buf;
    }
    case 'data':
      return writeDataFrame(new Uint8Array(ID_END + 8 + m.bytes.length), m.fileId, m.piece, m.offset, m.bytes);
    case 'bitfield': {
      const f = frame(T.bitfield, m.fileId, m.bits.length);
      f.buf.set(m.bits, ID_END);
      return f.buf;
    }
    case 'draft-hashes': {
      const f = frame(T['draft-hashes'], m.fileId, DRAFT_HEADER + m.hashes.length);
      f.view.setUint32(ID_END, Math.floor(m.size / 2 ** 32));
      f.view.setUint32(ID_END + 4, m.size % 2 ** 32);
      f.view.setUint32(ID_END + 8, m.first);
      f.buf.set(m.sig, ID_END + 12);
      f.buf.set(m.hashes, ID_END + DRAFT_HEADER);
      return f.buf;
    }
  }
}

/** Bytes a DATA frame takes at most: a buffer this large fits any (writeDataFrame). */
export const DATA_FRAME_BYTES = ID_END + 8 + DATA_CHUNK;

/**
 * Writes a DATA frame into `into` (at least ID_END + 8 + bytes.length long) and returns the
 * frame's bytes, a view of `into`. The uploader reuses one buffer for all its DATA frames:
 * a data channel copies a message when it is sent, and a fresh 64 KiB buffer per frame
 * cost the sharer's renderer an allocation, its zeroing and garbage for every frame.
 */
export function writeDataFrame(into: Uint8Array, fileId: string, piece: number, offset: number, bytes: Uint8Array): Uint8Array {
  const buf = into.subarray(0, ID_END + 8 + bytes.length);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  buf[0] = T.data;
  buf.set(idBytes(fileId), 1);
  view.setUint32(ID_END, piece);
  view.setUint32(ID_END + 4, offset);
  buf.set(bytes, ID_END + 8);
  return buf;
}

const bad = (code: WireErrorCode, error: string) => err(code, error);

function decodeJson(body: Uint8Array): Result<unknown, WireErrorCode> {
  if (body.length > MAX_JSON_BYTES) return bad('ERR_FRAME_TOO_LARGE', 'JSON body too large');
  const text = fromUtf8(body);
  if (text === null) return bad('ERR_FRAME_FIELD', 'JSON body is not UTF-8');
  try {
    return ok(JSON.parse(text) as unknown);
  } catch {
    return bad('ERR_FRAME_FIELD', 'JSON body does not parse');
  }
}

function decodeHello(buf: Uint8Array): Result<WireMessage, WireErrorCode> {
  if (buf.length < 2) return bad('ERR_FRAME_LENGTH', 'hello is truncated');
  const json = decodeJson(buf.subarray(2));
  if (!json.ok) return json;
  const { name, key, sig } = (json.value ?? {}) as { name?: unknown; key?: unknown; sig?: unknown };
  if (typeof name !== 'string' || utf8(name).length > MAX_NAME_BYTES) return bad('ERR_FRAME_FIELD', 'hello: bad name');
  if (typeof key !== 'string' || !KEY_RE.test(key) || typeof sig !== 'string' || !SIG_RE.test(sig)) {
    return bad('ERR_FRAME_FIELD', 'hello: bad identity key or signature');
  }
  return ok({ type: 'hello', version: buf[1]!, name, key, sig });
}

function decodePrune(body: Uint8Array): Result<WireMessage, WireErrorCode> {
  const json = decodeJson(body);
  if (!json.ok) return json;
  const { candidates } = (json.value ?? {}) as { candidates?: unknown };
  if (!Array.isArray(candidates) || candidates.length > MAX_PRUNE_CANDIDATES || !candidates.every((c) => typeof c === 'string' && PEER_ID_RE.test(c))) {
    return bad('ERR_FRAME_FIELD', `prune: candidates must be at most ${MAX_PRUNE_CANDIDATES} peer ids`);
  }
  return ok({ type: 'prune', candidates: candidates as string[] });
}

/** Frames after the file id: fixed length, or a minimum for variable ones. */
const BODY_AFTER_ID: Record<number, { min: number; max: number }> = {
  [T['want-manifest']]: { min: 0, max: 0 },
  [T['manifest-part']]: { min: MANIFEST_HEADER, max: MANIFEST_HEADER + HASHES_PER_PART * HASH_BYTES },
  [T.request]: { min: 4, max: 4 },
  [T.cancel]: { min: 4, max: 4 },
  [T.have]: { min: 4, max: 4 },
  [T.reject]: { min: 5, max: 5 },
  [T.data]: { min: 9, max: 8 + DATA_CHUNK },
  [T.bitfield]: { min: 1, max: MAX_PIECES / 8 },
  [T['draft-hashes']]: { min: DRAFT_HEADER + HASH_BYTES, max: DRAFT_HEADER + MAX_RANGE_HASHES * HASH_BYTES },
};

function decodeDraftHashes(buf: Uint8Array, fileId: string, view: DataView): Result<WireMessage, WireErrorCode> {
  const size = view.getUint32(ID_END) * 2 ** 32 + view.getUint32(ID_END + 4);
  const first = view.getUint32(ID_END + 8);
  const hashes = buf.subarray(ID_END + DRAFT_HEADER);
  if (size > MAX_FILE_SIZE || hashes.length % HASH_BYTES !== 0) return bad('ERR_FRAME_FIELD', 'draft hashes: size out of range or partial hash');
  const fits = checkRange(size, first, hashes.length / HASH_BYTES);
  if (!fits.ok) return bad('ERR_FRAME_FIELD', `draft hashes: ${fits.error}`);
  return ok({ type: 'draft-hashes', fileId, size, first, sig: buf.subarray(ID_END + 12, ID_END + DRAFT_HEADER), hashes });
}

function decodeFileFrame(buf: Uint8Array, type: number): Result<WireMessage, WireErrorCode> {
  const limits = BODY_AFTER_ID[type]!;
  const body = buf.length - ID_END;
  if (body < limits.min || body > limits.max) return bad('ERR_FRAME_LENGTH', `frame type ${type} has a body of ${body} bytes`);
  const fileId = toHex(buf.subarray(1, ID_END));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u32 = () => view.getUint32(ID_END);
  const pieceOk = (p: number) => p < MAX_PIECES;
  switch (type) {
    case T['want-manifest']:
      return ok({ type: 'want-manifest', fileId });
    case T['manifest-part']: {
      const part = view.getUint16(ID_END);
      const parts = view.getUint16(ID_END + 2);
      const size = view.getUint32(ID_END + 4) * 2 ** 32 + view.getUint32(ID_END + 8);
      const hashes = buf.subarray(ID_END + MANIFEST_HEADER);
      if (parts === 0 || parts > MAX_PIECES / HASHES_PER_PART || part >= parts || hashes.length % HASH_BYTES !== 0) {
        return bad('ERR_FRAME_FIELD', 'manifest part: bad part numbers or hash length');
      }
      if (size > MAX_FILE_SIZE) return bad('ERR_FRAME_FIELD', 'manifest part: size out of range');
      return ok({ type: 'manifest-part', fileId, part, parts, size, hashes });
    }
    case T.request:
    case T.cancel:
    case T.have: {
      const piece = u32();
      if (!pieceOk(piece)) return bad('ERR_FRAME_FIELD', `piece ${piece} out of range`);
      const name = type === T.request ? 'request' : type === T.cancel ? 'cancel' : 'have';
      return ok({ type: name, fileId, piece });
    }
    case T.reject: {
      const piece = u32();
      if (!pieceOk(piece) && piece !== MANIFEST_PIECE) return bad('ERR_FRAME_FIELD', `piece ${piece} out of range`);
      return ok({ type: 'reject', fileId, piece, reason: buf[ID_END + 4]! });
    }
    case T.data: {
      const piece = u32();
      const offset = view.getUint32(ID_END + 4);
      const bytes = buf.subarray(ID_END + 8);
      if (!pieceOk(piece) || offset % DATA_CHUNK !== 0 || offset + bytes.length > MAX_PIECE_SIZE) {
        return bad('ERR_FRAME_FIELD', 'data: piece or offset out of range');
      }
      return ok({ type: 'data', fileId, piece, offset, bytes });
    }
    case T['draft-hashes']:
      return decodeDraftHashes(buf, fileId, view);
    default:
      return ok({ type: 'bitfield', fileId, bits: buf.subarray(ID_END) });
  }
}

export function decodeFrame(buf: Uint8Array): Result<WireMessage, WireErrorCode> {
  if (buf.length === 0) return bad('ERR_FRAME_EMPTY', 'empty frame');
  if (buf.length > MAX_FRAME_BYTES) return bad('ERR_FRAME_TOO_LARGE', `frame of ${buf.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const type = buf[0]!;
  if (type === T.hello) return decodeHello(buf);
  if (type === T.prune) return decodePrune(buf.subarray(1));
  if (type === T.keepalive) return buf.length === 1 ? ok({ type: 'keepalive' }) : bad('ERR_FRAME_LENGTH', 'keepalive has a body');
  const jsonType = JSON_TYPES.get(type);
  if (jsonType) {
    const json = decodeJson(buf.subarray(1));
    if (!json.ok) return json;
    return ok({ type: jsonType, json: json.value });
  }
  if (!(type in BODY_AFTER_ID)) return bad('ERR_FRAME_TYPE', `unknown frame type ${type}`);
  if (buf.length < ID_END) return bad('ERR_FRAME_LENGTH', 'frame is truncated before the file id');
  return decodeFileFrame(buf, type);
}
