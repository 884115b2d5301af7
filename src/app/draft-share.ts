import { widenWith } from '../core/gossip/audience.ts';
import type { Sha256 } from '../core/hash.ts';
import { draftIdFor, MAX_RANGE_HASHES, newDraftNonce, rangeSignedBytes, type SignedRange } from '../core/manifest/draft.ts';
import {
  checkFileSize, fileIdFromHashes, HASH_BYTES, pieceCountFor, pieceSizeFor, type FileMeta, type Manifest,
} from '../core/manifest/manifest.ts';
import { err, ok, type Result } from '../core/result.ts';
import type { WireMessage } from '../core/wire/frames.ts';
import { IMPORT_WINDOW, readHashed, storeAll } from './file-import.ts';
import type { Library, LocalFile } from './library.ts';

/**
 * Sharing a person's file as a draft (core/manifest/draft.ts): announced at
 * once under a draft id, then read ONCE, piece by piece: each piece is
 * hashed, its hash published in a range we sign, and stored while the next
 * is read and hashed (storage batches in the PieceWriter). Each stored piece
 * is announced with HAVE, so friends fetch it from us at once, checked
 * against our signed hash. When the last piece is in, the file's content id
 * F is known: the draft becomes F (its pieces stay where they are), and the
 * room hears "add F was D" and "remove D".
 */
export interface DraftSharesDeps {
  library: Library;
  sha256: Sha256;
  self: { id: string; sign(data: Uint8Array): Promise<Uint8Array> };
  randomBytes(n: number): Uint8Array;
  /** Monotonic ms: how long hashes have waited for their range. */
  now(): number;
  /** Page clock ms (Date.now), for the import stats the benchmark reads. */
  wallClock(): number;
  announce(kind: 'add' | 'remove', meta: FileMeta, was?: string): Promise<boolean>;
  send(peer: string, m: WireMessage): void;
  /** A piece of a file of ours is stored: tell the room (HAVE). */
  stored(fileId: string, piece: number): void;
  changed(): void;
}

/** One import, on the page clock: what the benchmark measures drop-to-stored by. */
export interface ImportStat {
  name: string;
  draftId: string;
  fileId?: string;
  startedAt: number;
  hashedAt?: number;
  storedAt?: number;
}

/**
 * Hashes wait at most this long for their signed range (one signature per
 * range): friends learn of new pieces within it, and a 1 GiB file costs tens
 * of signatures, not thousands. The first piece goes out alone, at once.
 */
export const RANGE_MS = 50;
/**
 * Files up to this size are hashed and stored before they are announced, as
 * one final file: that takes a few milliseconds, and a folder of small files
 * would otherwise cost the room three statements per file (draft, final,
 * remove) against each sharer's gossip budget.
 */
export const DIRECT_BYTES = 4 * 1024 * 1024;
/** Finished imports kept for stats(). */
const MAX_STATS = 100;

interface Draft {
  local: LocalFile;
  /** Pieces hashed, from 0. */
  hashed: number;
  /** Pieces hashed and put in a range (signed or being signed), from 0. */
  published: number;
  publishedAt: number;
  ranges: SignedRange[];
  /** Peers that asked for the draft's hashes (WANT_MANIFEST): they get every range. */
  subscribers: Set<string>;
  /** Ranges are signed one after another, so they go out in order. */
  signing: Promise<void>;
  failure: Error | null;
  /** Announced as a draft (large files): its pieces are offered, its hashes published, as they come. */
  announced: boolean;
}

export class DraftShares {
  private drafts = new Map<string, Draft>();
  private imports: ImportStat[] = [];

  constructor(private readonly deps: DraftSharesDeps) {}

  /** The files being hashed and stored now and lately, for the benchmark. */
  stats(): ImportStat[] {
    return this.imports.map((s) => ({ ...s }));
  }

  /**
   * A peer asks for our draft's hashes: every range so far, then each new one.
   * False when `fileId` is not a draft of ours (the caller answers as for any file).
   */
  subscribe(peer: string, fileId: string): boolean {
    const draft = this.drafts.get(fileId);
    if (!draft) return false;
    draft.subscribers.add(peer);
    for (const range of draft.ranges) this.deps.send(peer, rangeFrame(draft.local, range));
    return true;
  }

  peerGone(peer: string): void {
    for (const d of this.drafts.values()) d.subscribers.delete(peer);
  }

  /** Shares `file`: resolves with the final local file, or an error (ERR_CANCELLED if the person withdrew it first). */
  /** `audience`: the chosen people it is for (core/gossip/audience.ts), from its first statement on; undefined: the room. */
  async share(file: Blob, name: string, path: string | undefined, onStart: (draftId: string) => void, audience?: string[]): Promise<Result<LocalFile>> {
    const sized = checkFileSize(file.size);
    if (!sized.ok) return sized;
    const { deps } = this;
    const nonce = newDraftNonce(deps.randomBytes);
    const id = await draftIdFor(deps.self.id, nonce, deps.sha256);
    const placed = path === undefined ? {} : { path };
    const chosen = audience === undefined ? {} : { audience };
    const meta: FileMeta = { id, name, size: file.size, mime: file.type || 'application/octet-stream', ...placed, ...chosen, draft: nonce };
    const stat: ImportStat = { name, draftId: id, startedAt: deps.wallClock() };
    this.imports = [...this.imports.slice(1 - MAX_STATS), stat];
    const pieceSize = pieceSizeFor(file.size);
    const pieceCount = pieceCountFor(file.size, pieceSize);
    const manifest: Manifest = { id, size: file.size, pieceSize, pieceCount, hashes: new Uint8Array(pieceCount * HASH_BYTES) };
    const local = await deps.library.addDraft(meta, manifest, 'shared');
    const announced = file.size > DIRECT_BYTES;
    const draft: Draft = { local, hashed: 0, published: 0, publishedAt: deps.now(), ranges: [], subscribers: new Set(), signing: Promise.resolve(), failure: null, announced };
    onStart(id);
    if (announced) {
      this.drafts.set(id, draft);
      void deps.announce('add', meta);
    }
    deps.changed();
    try {
      await this.readOnce(draft, file, stat);
      const final = await this.finalise(draft, file, stat);
      return ok(final);
    } catch (e) {
      this.drafts.delete(id);
      const cancelled = deps.library.get(id) !== local;
      if (!cancelled) {
        if (announced) void deps.announce('remove', meta);
        await deps.library.remove(id).catch(() => undefined); // the error below says what went wrong; the rest goes with the page
      }
      return err(cancelled ? 'ERR_CANCELLED' : ((e as { code?: string }).code ?? 'ERR_STORAGE'), `could not share ${name}: ${(e as Error).message}`);
    }
  }

  /** Read, hash, publish, store: one pass; reading overlaps hashing (READ_AHEAD), storing runs behind both (IMPORT_WINDOW pieces in flight). */
  private async readOnce(draft: Draft, file: Blob, stat: ImportStat): Promise<void> {
    const { local } = draft;
    const { library, sha256 } = this.deps;
    const pending = new Set<Promise<void>>();
    let failure: Error | null = null;
    let next = 0;
    for await (const { data, hash } of readHashed(file, local.manifest, sha256)) {
      const i = next++; // one binding per piece: the store callback below needs its own
      if (library.get(local.meta.id) !== local) throw new Error('it was withdrawn');
      local.manifest.hashes.set(hash, i * HASH_BYTES);
      draft.hashed = i + 1;
      const last = i === local.manifest.pieceCount - 1;
      const due = i === 0 || last || i + 1 - draft.published >= MAX_RANGE_HASHES || this.deps.now() - draft.publishedAt >= RANGE_MS;
      if (draft.announced && due) this.publish(draft, i + 1);
      const p: Promise<void> = library.storePiece(local, i, data).then((stored) => {
        pending.delete(p);
        // Storage slower than hashing: a stored piece's hash goes out with it, not after RANGE_MS more of waiting.
        if (draft.announced && i >= draft.published) this.publish(draft, draft.hashed);
        if (stored && draft.announced) this.deps.stored(local.meta.id, i);
        this.deps.changed();
      }, (e: Error) => {
        pending.delete(p);
        failure ??= e;
      });
      pending.add(p);
      if (pending.size >= IMPORT_WINDOW) await Promise.race(pending);
      if (failure) throw failure;
    }
    stat.hashedAt = this.deps.wallClock();
    await Promise.all(pending);
    await draft.signing;
    if (failure) throw failure;
    if (draft.failure) throw draft.failure;
    if (!local.have.complete) throw new Error('it was withdrawn');
    stat.storedAt = this.deps.wallClock();
  }

  /** Signs hashes [published, upto) as one range and sends it to every subscriber, after the ranges before it. */
  private publish(draft: Draft, upto: number): void {
    const first = draft.published;
    const { local } = draft;
    draft.published = upto;
    draft.publishedAt = this.deps.now();
    const hashes = local.manifest.hashes.slice(first * HASH_BYTES, upto * HASH_BYTES);
    draft.signing = draft.signing.then(async () => {
      const sig = await this.deps.self.sign(rangeSignedBytes(local.meta.id, local.meta.size, first, hashes));
      const range = { first, hashes, sig };
      draft.ranges.push(range);
      for (const peer of draft.subscribers) this.deps.send(peer, rangeFrame(local, range));
    }).catch((e: Error) => void (draft.failure ??= e));
  }

  /**
   * The draft becomes its content id F. Bytes we already held under F (shared
   * before, or being downloaded) take the new name and the missing pieces;
   * the draft's pieces then go.
   */
  private async finalise(draft: Draft, file: Blob, stat: ImportStat): Promise<LocalFile> {
    const { library, sha256 } = this.deps;
    const { local } = draft;
    const draftMeta = local.meta;
    const fileId = await fileIdFromHashes(draftMeta.size, local.manifest.hashes, sha256);
    const { draft: _nonce, ...rest } = draftMeta;
    const meta: FileMeta = { ...rest, id: fileId };
    this.drafts.delete(draftMeta.id);
    const held = library.get(fileId);
    let final = local;
    if (!held) await library.finalise(local, meta, { ...local.manifest, id: fileId }, local.have);
    else {
      // Held already (shared or fetched before): for whom is the wider of the two, never narrower.
      library.rename(held, meta.name, meta.path, widerOf(held.meta.audience, meta.audience));
      if (!held.have.complete) await storeAll(held, file, (i, data) => library.storePiece(held, i, data), () => undefined);
      await library.remove(draftMeta.id);
      final = held;
    }
    stat.fileId = fileId;
    if (!draft.announced) await this.deps.announce('add', final.meta);
    else {
      await this.deps.announce('add', final.meta, draftMeta.id);
      await this.deps.announce('remove', draftMeta);
    }
    this.deps.changed();
    return final;
  }
}

/** Both audiences' people, or the whole room if either is; past MAX_AUDIENCE, the one it had. */
function widerOf(held: string[] | undefined, now: string[] | undefined): string[] | undefined {
  if (held === undefined || now === undefined) return undefined;
  const wider = widenWith(held, now);
  return wider.ok ? wider.value : held;
}

const rangeFrame = (local: LocalFile, r: SignedRange): WireMessage => ({
  type: 'draft-hashes', fileId: local.meta.id, size: local.meta.size, first: r.first, sig: r.sig, hashes: r.hashes,
});
