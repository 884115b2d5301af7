import { Bitfield } from '../core/bitfield.ts';
import type { FileRecord } from '../storage/store.ts';
import type { LocalFile } from './library.ts';

/** A library file as stored (FileRecord) and back: the record's fields, older records' missing ones defaulted. */
export const fromRecord = (r: FileRecord): LocalFile => ({
  meta: r.meta,
  manifest: { id: r.meta.id, size: r.meta.size, pieceSize: r.pieceSize, pieceCount: r.pieceCount, hashes: r.hashes },
  have: new Bitfield(r.pieceCount, r.have),
  source: r.source,
  addedAt: r.addedAt,
  rooms: r.rooms ?? [],
  completedOnce: r.completedOnce ?? new Bitfield(r.pieceCount, r.have).complete,
  saveWanted: r.saveWanted ?? false,
  paused: r.paused ?? false,
  storeKey: r.storeKey ?? r.meta.id,
});

export const toRecord = (f: LocalFile): FileRecord => ({
  meta: f.meta,
  pieceSize: f.manifest.pieceSize,
  pieceCount: f.manifest.pieceCount,
  hashes: f.manifest.hashes,
  have: f.have.bytes.slice(),
  source: f.source,
  addedAt: f.addedAt,
  rooms: [...f.rooms],
  completedOnce: f.completedOnce,
  saveWanted: f.saveWanted,
  paused: f.paused,
  ...(f.storeKey === f.meta.id ? {} : { storeKey: f.storeKey }),
});
