import { Bitfield } from '../core/bitfield.ts';
import { bytesEqual, fromBase64Url } from '../core/bytes.ts';
import type { Catalogue } from '../core/gossip/catalogue.ts';
import { DraftHashes, type Verify } from '../core/manifest/draft.ts';
import { pieceHash, type FileMeta, type Manifest } from '../core/manifest/manifest.ts';
import type { PieceView } from '../core/swarm/availability.ts';
import type { WireMessage } from '../core/wire/frames.ts';
import type { Downloads } from './downloads.ts';
import type { Library, LocalFile } from './library.ts';

/**
 * Downloading a draft (core/manifest/draft.ts) while its origin still hashes
 * it. Only the origin can vouch for a draft, so pieces come from the origin
 * alone, and only pieces whose hash it has signed (a range checked with its
 * key); each piece is checked against that hash before it is stored. We
 * never announce a draft nor send HAVEs for it: nobody but the origin is
 * ever asked for, or judged on, a draft's pieces, so an origin that signs
 * two versions cannot get honest peers struck.
 *
 * When the origin says "add F was D", the download carries on as an ordinary
 * download of F: F's manifest is fetched and verified against F as for any
 * file, the pieces whose draft hash is F's hash are kept (under the draft's
 * storage key), and the rest are fetched from everyone who has F.
 */
export interface DraftFetchesDeps {
  library: Library;
  catalogue: Catalogue;
  downloads: Downloads;
  verify: Verify;
  send(peer: string, m: WireMessage): void;
  openPeers(): string[];
  /** The origin sent proof of misbehaviour (a bad signature, a contradiction). */
  misbehaved(peer: string, what: string): void;
}

type DraftRange = Extract<WireMessage, { type: 'draft-hashes' }>;

interface Fetch {
  origin: string;
  hashes: DraftHashes;
}

export class DraftFetches {
  private fetches = new Map<string, Fetch>();
  /** Final ids whose manifest, once verified, takes over the draft copy named here. */
  private successors = new Map<string, string>();
  /** Ranges from someone other than the draft's origin, or for no draft we fetch: ignored. */
  ignored = 0;

  constructor(private readonly deps: DraftFetchesDeps) {}

  /** The draft's origin, by its own bound announcement (room-gossip checks the binding). */
  originOf(fileId: string): string | undefined {
    return this.deps.catalogue.holders(fileId).find((o) => this.deps.catalogue.metaFrom(o, fileId)?.draft !== undefined);
  }

  /** Starts fetching draft `meta` from its origin. False when its origin is no longer in the catalogue. */
  async start(meta: FileMeta): Promise<LocalFile | null> {
    const origin = this.originOf(meta.id);
    const key = origin && fromBase64Url(this.deps.catalogue.latest(origin, meta.id)!.key);
    if (!origin || !key) return null;
    const known = this.fetches.get(meta.id);
    const hashes = known?.hashes ?? new DraftHashes(meta.id, meta.size, key);
    this.fetches.set(meta.id, { origin, hashes });
    const local = await this.deps.library.addDraft(meta, hashes.manifest, 'downloaded');
    this.ask(meta.id);
    return local;
  }

  /** Pieces of a draft copy come only from its origin, and only those whose signed hash we hold. */
  restrict(fileId: string, view: PieceView): PieceView {
    const f = this.fetches.get(fileId);
    if (!f) return view;
    return {
      holds: (peer, piece) => peer === f.origin && f.hashes.known.get(piece) && view.holds(peer, piece),
      counts: () => view.counts(),
      peers: () => view.peers().filter((p) => p === f.origin),
    };
  }

  /** A link is ready: if it is to a draft's origin, ask it for the hashes (again: it may be a new link). */
  peerReady(peer: string): void {
    for (const [fileId, f] of this.fetches) if (f.origin === peer) this.ask(fileId);
  }

  async onRange(peer: string, m: DraftRange): Promise<void> {
    const f = this.fetches.get(m.fileId);
    if (!f || f.origin !== peer) {
      this.ignored++;
      return;
    }
    if (m.size !== f.hashes.size) return this.deps.misbehaved(peer, `hashes for a draft of another size (${m.size})`);
    const added = await f.hashes.add({ first: m.first, hashes: m.hashes, sig: m.sig }, this.deps.verify);
    if (!added.ok) {
      if (added.code !== 'verify-failed') this.deps.misbehaved(peer, `draft hashes: ${added.error}`);
      return;
    }
    this.deps.downloads.get(m.fileId)?.peerUpdated(peer);
  }

  /**
   * `origin` now holds F: if it says F was a draft we fetch from it, the
   * download carries on as F's (waiters and the wish to save follow).
   */
  onAdded(origin: string, fileId: string): void {
    const draftId = this.deps.catalogue.latest(origin, fileId)?.was;
    const f = draftId === undefined ? undefined : this.fetches.get(draftId);
    const meta = this.deps.catalogue.metaFrom(origin, fileId);
    if (!draftId || !f || f.origin !== origin || !meta) return;
    this.fetches.delete(draftId);
    if (!this.deps.library.get(draftId)) return;
    this.successors.set(fileId, draftId);
    this.deps.downloads.migrate(draftId, meta);
  }

  /**
   * Holds F once its manifest is verified (Download.finishManifest): the
   * draft copy it succeeds becomes F, keeping each piece whose signed draft
   * hash is F's; otherwise a new download, as for any file.
   */
  async hold(meta: FileMeta, manifest: Manifest): Promise<LocalFile> {
    const { library } = this.deps;
    const draftId = this.successors.get(meta.id);
    this.successors.delete(meta.id);
    const copy = draftId === undefined ? undefined : library.get(draftId);
    if (!copy || copy.meta.draft === undefined || library.get(meta.id) || copy.manifest.pieceCount !== manifest.pieceCount) {
      if (copy?.meta.draft !== undefined) await library.remove(copy.meta.id);
      return library.addDownload(meta, manifest);
    }
    const keep = new Bitfield(manifest.pieceCount);
    for (let i = 0; i < manifest.pieceCount; i++) {
      if (copy.have.get(i) && bytesEqual(pieceHash(copy.manifest, i), pieceHash(manifest, i))) keep.set(i);
    }
    await library.finalise(copy, meta, manifest, keep);
    return copy;
  }

  private ask(fileId: string): void {
    const f = this.fetches.get(fileId);
    if (f && this.deps.openPeers().includes(f.origin)) this.deps.send(f.origin, { type: 'want-manifest', fileId });
  }
}
