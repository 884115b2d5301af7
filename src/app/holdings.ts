import { MAX_FILES_PER_ORIGIN } from '../core/gossip/catalogue.ts';
import type { FileMeta } from '../core/manifest/manifest.ts';
import type { Audiences } from './audience.ts';
import type { Downloads } from './downloads.ts';
import type { Library, LocalFile } from './library.ts';
import type { RoomGossip } from './room-gossip.ts';
import type { Notices } from './state.ts';

const OVER_LIMIT_TEXT = `You offer ${MAX_FILES_PER_ORIGIN.toLocaleString('en')} files in this room, the most one person can: ` +
  'files shared beyond that are kept here but nobody sees them. Stop sharing some to offer others.';

export interface HoldingsDeps {
  self: string;
  room: string;
  library: Library;
  gossip: RoomGossip;
  /** Created after us: the library's events reach us first. */
  downloads(): Downloads;
  audiences(): Audiences;
  notices: Notices;
  /** A piece of a file is stored (EngineDeps.pieceStored). */
  pieceStored?(fileId: string, piece: number): void;
  changed(): void;
}

export interface Holdings {
  /** Says a statement of ours to the room; false (and the person told) when it is over the per-origin limit. */
  offer(kind: 'add' | 'remove', meta: FileMeta, was?: string): Promise<boolean>;
  /** A held file became whole (or was shared): the room hears of it, if it is whole, of this room, and no draft copy. */
  announce(local: LocalFile): void;
  /** We no longer hold any of a file: its hearers get an empty bitfield. */
  dropped(local: LocalFile): void;
  /** We stored a piece: its hearers hear so (HAVE). */
  pieceStored(fileId: string, piece: number): void;
  /** A held file lost a piece in storage: the room stops hearing it is whole, and it is fetched again. */
  pieceLost(file: LocalFile, why: string): void;
}

/** What the room hears of the files we hold, as they are completed, stored piece by piece, lost or dropped. */
export function createHoldings(w: HoldingsDeps): Holdings {
  const offer = async (kind: 'add' | 'remove', meta: FileMeta, was?: string) => {
    const offered = await w.gossip.announce(kind, meta, was);
    if (!offered) w.notices.error(OVER_LIMIT_TEXT);
    return offered;
  };

  const announce = (local: LocalFile) => {
    // A draft copy is never announced (only its origin vouches for it); it is, once it becomes its final file.
    if (!local.rooms.includes(w.room) || !local.have.complete || local.meta.draft !== undefined) return w.changed();
    void offer('add', local.meta);
    w.changed();
  };

  const dropped = (local: LocalFile) => {
    const none = new Uint8Array(Math.ceil(local.manifest.pieceCount / 8));
    for (const s of w.audiences().hearers(local.meta.id)) s.send({ type: 'bitfield', fileId: local.meta.id, bits: none });
  };

  /**
   * Every linked peer hears of every piece we store and serve: partial holders
   * are sources for everyone (of its audience, if it has one: app/audience.ts). A draft copy is served by its
   * origin only, so its pieces go unmentioned.
   */
  const pieceStored = (fileId: string, piece: number) => {
    if (w.library.servable(fileId)) for (const s of w.audiences().hearers(fileId)) s.send({ type: 'have', fileId, piece });
    w.pieceStored?.(fileId, piece);
  };

  /** A held file lost pieces: fetch them again from the room, as a download would. */
  const repair = (file: LocalFile) => {
    const running = w.downloads().get(file.meta.id);
    if (running) return running.pieceLost();
    if (file.rooms.includes(w.room) && !file.paused) w.downloads().start(file.meta, file);
    w.changed();
  };

  const pieceLost = (file: LocalFile, why: string) => {
    w.notices.error(`Part of ${file.meta.name} was lost from this browser's storage (${why}); fetching it again.`);
    // We no longer hold it whole: the room hears so (our HAVEs still offer what is left) until it is repaired.
    if (w.gossip.catalogue.latest(w.self, file.meta.id)?.kind === 'add') {
      void w.gossip.announce('remove', file.meta);
      for (const s of w.audiences().hearers(file.meta.id)) s.send({ type: 'bitfield', fileId: file.meta.id, bits: file.have.bytes });
    }
    repair(file);
  };

  return { offer, announce, dropped, pieceStored, pieceLost };
}
