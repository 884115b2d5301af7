import { nameForSharing, safeFileName } from '../core/filename.ts';
import { folderPathForSharing } from '../core/folder-path.ts';
import { cleanDisplayName } from '../core/names.ts';
import type { DraftFetches } from './draft-fetch.ts';
import type { Audiences } from './audience.ts';
import type { DraftShares } from './draft-share.ts';
import type { Downloads } from './downloads.ts';
import type { EngineDeps } from './engine.ts';
import type { Library, LocalFile } from './library.ts';
import type { RoomGossip } from './room-gossip.ts';
import type { PeopleRoster } from './roster.ts';
import type { ImportView, Notices } from './state.ts';
import type { StorageBudget } from './storage-budget.ts';
import { librarySource, zipArchive, type ZipArchive } from './zip-archive.ts';

/** A file to share: a File (its webkitRelativePath, if any, is its place in a folder), or one found walking a dropped folder. */
export type ShareInput = File | { file: File; relativePath: string };

/**
 * What the person can ask for. Every intent is idempotent: a second Download
 * is the same download, a Download after Cancel is a new one, Cancel of a
 * repair keeps the file, and a file is saved once per request.
 */
export interface Intents {
  /** `withPeople`: only these people (and we) may learn of the files (core/gossip/audience.ts); absent: the whole room. */
  share(files: readonly ShareInput[], withPeople?: readonly string[]): Promise<void>;
  /** Widens who a file of ours may be known to: more people, or the whole room. It never narrows. */
  widen(fileId: string, people: readonly string[] | 'room'): void;
  /**
   * Starts (or joins) the download; resolves true once complete, false if it
   * stops. Saving is asked for once, unless `save` is false (the file goes
   * into a zip instead).
   */
  download(fileId: string, opts?: { save?: boolean }): Promise<boolean>;
  /** A player reads the file from `byteOffset` (null: no player any more): those pieces are fetched first. */
  focus(fileId: string, byteOffset: number | null): void;
  /** These complete files as one streamed zip; null (with a notice) if one is not complete. */
  zip(fileIds: readonly string[], name: string): ZipArchive | null;
  cancel(fileId: string): Promise<void>;
  /** Stops fetching but keeps every stored piece; stays paused across reloads until resumed. */
  pause(fileId: string): void;
  /** Fetches a paused file again from where it stopped. */
  resume(fileId: string): void;
  /** Deletes the file from this browser (every room); the room hears we no longer have it. */
  remove(fileId: string): Promise<void>;
  /** Stops offering the file in this room; it stays stored only if another room has it. */
  stopSharing(fileId: string): Promise<void>;
  /** Offers a file stored for another room in this one too. */
  shareHere(fileId: string): void;
  /** The complete file as a Blob of stored pieces; null (with a notice) if it cannot be read back. */
  save(fileId: string): Promise<{ blob: Blob; name: string } | null>;
  /** The UI saved a file that was waiting to be saved. */
  saved(fileId: string): void;
  setName(name: string): boolean;
  setVerified(peer: string, verified: boolean): void;
  /** Blocked: never connected to again, in any room, until unblocked. Resolves once stored. */
  setBlocked(peer: string, blocked: boolean): Promise<void>;
  dismissNotice(id: number): void;
  /** Something the page itself could not do for the person (e.g. read a dropped folder): shown like the engine's own errors. */
  reportError(text: string): void;
}

export interface IntentsDeps {
  deps: EngineDeps;
  library: Library;
  downloads: Downloads;
  gossip: RoomGossip;
  notices: Notices;
  roster: PeopleRoster;
  budget: StorageBudget;
  changed(): void;
  announce(local: LocalFile): void;
  /** We hold none of the file any more: tell linked peers. */
  dropped(local: LocalFile): void;
  shares: DraftShares;
  fetches: DraftFetches;
  audiences: Audiences;
  sendHello(name: string): void;
}

const PUBLIC_ALREADY = (name: string) =>
  `${name} is already shared with everyone in this room, so everyone here can still see it: sharing it with chosen people cannot take it back.`;

export function createIntents(x: IntentsDeps): Intents & { imports: Map<number, Omit<ImportView, 'id'>>; name(): string } {
  const { deps, library, downloads, gossip, notices } = x;
  const imports = new Map<number, Omit<ImportView, 'id'>>();
  let importSeq = 0;
  let name = deps.name;

  const shareOne = async (input: ShareInput, audience?: string[]) => {
    const file = input instanceof File ? input : input.file;
    if (file.size === 0) {
      notices.error(`${file.name} is empty: there is nothing to share.`);
      return null;
    }
    // webkitRelativePath is '' outside a picked folder, and missing where File lacks it (Node, old browsers).
    const relative = input instanceof File ? ((file.webkitRelativePath as string | undefined) ?? '') : input.relativePath;
    const placed = folderPathForSharing(relative, file.name);
    const named = nameForSharing(placed.name);
    if (named.shortened) notices.info(`The name of ${named.name} was too long for the room and was shortened.`);
    if (placed.changed) notices.info(`The folder of ${named.name} had names too long, too deep or unusable; it is shared as ${placed.path ?? 'a loose file'}.`);
    const id = ++importSeq;
    // Listed as an import row until its draft is a file row (at once), and counted as work running until it is stored.
    imports.set(id, { name: named.name, size: file.size, done: 0 });
    x.changed();
    const result = await x.shares.share(file, named.name, placed.path, (draftId) => void (imports.get(id)!.fileId = draftId), audience);
    imports.delete(id);
    if (!result.ok && result.code !== 'ERR_CANCELLED') notices.error(`Could not share ${named.name}: ${result.error}`);
    // The same bytes offered to the whole room already: an audience only widens (core/gossip/audience.ts), so say so.
    if (result.ok && audience !== undefined && result.value.meta.audience === undefined) notices.info(PUBLIC_ALREADY(named.name));
    x.changed();
    return result.ok ? result.value.meta.id : null;
  };

  /** The room hears we no longer offer the file: a signed remove, and no pieces either (our HAVEs said otherwise). */
  const withdraw = (fileId: string) => {
    const local = library.get(fileId);
    if (!local?.rooms.includes(deps.room)) return;
    // A draft of ours is announced from its first moment, whole or not.
    if (local.have.complete || local.meta.draft !== undefined) void gossip.announce('remove', local.meta);
    x.dropped(local);
  };

  return {
    imports,
    name: () => name,
    async share(files, withPeople) {
      const audience = withPeople === undefined ? undefined : x.audiences.choose(withPeople);
      if (audience && !audience.ok) return notices.error(`Could not share: ${audience.error}.`);
      x.budget.askToPersist();
      const ids = (await Promise.all(files.map((f) => shareOne(f, audience?.value)))).filter((id): id is string => id !== null);
      // A file is its bytes: identical files in one folder are one file, listed (and zipped) at one of their paths.
      const same = ids.length - new Set(ids).size;
      if (same > 0) notices.info(`${same} of the shared files had the same contents as another one and ${same === 1 ? 'is' : 'are'} listed once.`);
    },
    async download(fileId, opts) {
      library.setPaused(fileId, false); // asking for a paused file is resuming it
      await downloads.settled(fileId); // Download right after Cancel: a new download, once the old data is gone
      const save = opts?.save ?? true;
      const held = library.inRoom(fileId);
      if (held?.have.complete && !downloads.get(fileId)) return true;
      const running = downloads.get(fileId);
      if (running) {
        if (save) {
          running.saveWanted = true;
          library.setSaveWanted(fileId, true);
        }
        return downloads.whenDone(fileId);
      }
      const meta = held?.meta ?? gossip.catalogue.meta(fileId);
      if (!meta) return false;
      const refusal = await x.budget.refusal(meta.size, held ? held.have.count * held.manifest.pieceSize : 0);
      if (refusal) {
        notices.error(`Cannot download ${meta.name}: ${refusal}`);
        return false;
      }
      x.budget.askToPersist();
      // A draft is fetched from its origin only, against the hashes it signs (draft-fetch.ts).
      const local = held ?? (meta.draft === undefined ? undefined : (await x.fetches.start(meta)) ?? undefined);
      if (meta.draft !== undefined && !local) return false;
      const d = downloads.start(meta, local);
      if (save) {
        d.saveWanted = true;
        library.setSaveWanted(fileId, true);
      }
      return downloads.whenDone(fileId);
    },
    widen(fileId, people) {
      const widened = x.audiences.widen(fileId, people);
      if (!widened.ok) notices.error(`Could not share it with more people: ${widened.error}.`);
    },
    focus: (fileId, byteOffset) => downloads.get(fileId)?.setFocus(byteOffset),
    zip(fileIds, zipName) {
      const archive = zipArchive(librarySource(library), fileIds, { name: zipName, now: new Date(deps.now()) });
      if (archive.ok) return archive.value;
      notices.error(`Could not make the zip: ${archive.error}.`);
      return null;
    },
    async cancel(fileId) {
      library.setSaveWanted(fileId, false);
      await downloads.cancel(fileId);
    },
    pause(fileId) {
      const local = library.inRoom(fileId);
      // Before its manifest there is nothing stored to keep: that is a cancel, not a pause.
      if (!local || local.have.complete) return;
      library.setPaused(fileId, true);
      downloads.forget(fileId);
      x.changed();
    },
    resume(fileId) {
      const local = library.inRoom(fileId);
      if (!local) return;
      library.setPaused(fileId, false);
      downloads.start(local.meta, local);
      x.changed();
    },
    async remove(fileId) {
      const name = library.get(fileId)?.meta.name ?? 'The file';
      withdraw(fileId);
      downloads.forget(fileId);
      if ((await library.discard(fileId)) === 'kept') {
        notices.info(`${name} is open in another tab of this browser, in another room: it was removed from this room only.`);
      }
      x.changed();
    },
    async stopSharing(fileId) {
      withdraw(fileId);
      downloads.forget(fileId);
      await library.leaveRoom(fileId);
      x.changed();
    },
    shareHere(fileId) {
      const local = library.addToRoom(fileId);
      if (!local) return;
      if (local.have.complete) x.announce(local);
      else downloads.start(local.meta, local);
      x.changed();
    },
    async save(fileId) {
      const local = library.get(fileId);
      if (!local?.have.complete) {
        notices.error('This file is not complete yet.');
        return null;
      }
      try {
        return { blob: await library.assemble(fileId), name: safeFileName(local.meta.name) };
      } catch (e) {
        notices.error(`Could not read ${local.meta.name} back from storage: ${(e as Error).message}`);
        return null;
      }
    },
    saved: (fileId) => library.setSaveWanted(fileId, false),
    setName(next) {
      const clean = cleanDisplayName(next);
      if (!clean) return false;
      if (clean === name) return true;
      name = clean;
      x.sendHello(name);
      void deps.store.setPref('name', name);
      x.changed();
      return true;
    },
    setVerified: (peer, verified) => void x.roster.setVerified(peer, verified),
    setBlocked: (peer, blocked) => x.roster.block(peer, blocked),
    dismissNotice: (id) => notices.dismiss(id),
    reportError: (text) => notices.error(text),
  };
}
