import { assembleInSteps } from './piece-steps.ts';
import { RecordCache } from './record-cache.ts';
import { readRecord, readSpans, writeRuns, type RunTable } from './run-table.ts';
import { markPresent, runKey, runOfKey, splitRuns } from './runs.ts';
import { StorageError, type FileRecord, type PieceData, type PieceEntry, type Store } from './store.ts';

/** The Store interface over Maps, for Node tests and simulations: pieces in runs as the browser's (runs.ts), copied on the way in and out. */
export interface MemoryStore extends Store {
  pieceBytes(): number;
  /** Test hook: lose one piece (its run keeps the others). */
  dropPiece(fileId: string, index: number): void;
  /** Test hook: lose the record holding a piece, its whole run, as Chromium loses a blob file. */
  dropRecord(fileId: string, index: number): void;
  corruptPiece(fileId: string, index: number): void;
  /** Test hook: every stored piece as `fileId:index`. */
  pieceKeys(): string[];
  /** Test hook: how many piece records the file has. */
  recordCount(fileId: string): number;
  /** Test hook: the ids of every stored file record. */
  fileIds(): string[];
}

/** A run's bytes, back to back, each piece `step` long but the last. */
interface Run {
  bytes: Uint8Array;
  step: number;
}
type Records = Map<string, Map<string, { key: IDBValidKey; run: Run }>>;

const bytesOf = (data: PieceData): Promise<Uint8Array> | Uint8Array =>
  data instanceof Blob ? data.arrayBuffer().then((b) => new Uint8Array(b)) : data;

/** A run's value: its pieces' bytes copied into one array. */
function runOf(datas: readonly Uint8Array[]): Run {
  const bytes = new Uint8Array(datas.reduce((n, d) => n + d.length, 0));
  let at = 0;
  for (const d of datas) {
    bytes.set(d, at);
    at += d.length;
  }
  return { bytes, step: datas[0]!.length };
}

/** Where pieces [from, to) lie in a run stored under `key`: [start, end), or undefined when it does not hold them all. */
function span(key: IDBValidKey, run: Run, from: number, to = from + 1): [number, number] | undefined {
  const r = runOfKey(key);
  if (!r || from >= to || from < r.first || to > r.first + r.count) return undefined;
  return [(from - r.first) * run.step, to === r.first + r.count ? run.bytes.length : (to - r.first) * run.step];
}

const spanOf = (key: IDBValidKey, value: unknown, from: number, to: number): Uint8Array | undefined => {
  const at = span(key, value as Run, from, to);
  return at && (value as Run).bytes.subarray(...at);
};
const pieceOf = (key: IDBValidKey, value: unknown, index: number) => spanOf(key, value, index, index + 1);

function memoryTable(records: Records, used: { bytes: number }): RunTable<Run> {
  const ofFile = (fileId: string) => records.get(fileId) ?? new Map<string, { key: IDBValidKey; run: Run }>();
  const inRange = (fileId: string, from: number, to: number) =>
    [...ofFile(fileId).values()]
      .filter(({ key }) => runOfKey(key)!.first >= from && runOfKey(key)!.first < to)
      .sort((a, b) => runOfKey(a.key)!.first - runOfKey(b.key)!.first || runOfKey(a.key)!.count - runOfKey(b.key)!.count);
  const id = (key: IDBValidKey) => JSON.stringify(key);
  return {
    keys: async (fileId, from, to) => inRange(fileId, from, to).map((r) => r.key),
    entries: async (fileId, from, to) => {
      const found = inRange(fileId, from, to);
      return [found.map((r) => r.key), found.map((r) => r.run)];
    },
    get: async (key) => records.get((key as string[])[0]!)?.get(id(key))?.run,
    put: (key, run) => {
      const fileId = (key as string[])[0]!;
      const file = records.get(fileId) ?? new Map();
      used.bytes += run.bytes.length - (file.get(id(key))?.run.bytes.length ?? 0);
      records.set(fileId, file.set(id(key), { key, run }));
    },
    delete: (key) => {
      const file = records.get((key as string[])[0]!);
      used.bytes -= file?.get(id(key))?.run.bytes.length ?? 0;
      file?.delete(id(key));
    },
  };
}

export function createMemoryStore(opts: { quotaBytes?: number } = {}): MemoryStore {
  const records: Records = new Map();
  const files = new Map<string, FileRecord>();
  const prefs = new Map<string, string>();
  const values = new Map<string, unknown>();
  const used = { bytes: 0 };
  const table = memoryTable(records, used);
  const runs = (fileId: string) => [...(records.get(fileId)?.values() ?? [])];
  const holding = (fileId: string, index: number) => runs(fileId).find(({ key, run }) => span(key, run, index));
  /** As the browser's store (idb-store.ts): a run's next pieces come from the record read last. */
  const served = new RecordCache<unknown>();
  const readServed = async (fileId: string, index: number): Promise<Uint8Array | undefined> => {
    const found = await served.read(fileId, index, () => readRecord(table, fileId, index));
    return found && pieceOf(found.key, found.value, index);
  };

  return {
    prepare: (data) => data, // putPieces copies it anyway
    async putPieces(fileId, entries) {
      const adding = entries.reduce((n, e) => n + (e.data instanceof Blob ? e.data.size : e.data.length), 0);
      if (opts.quotaBytes !== undefined && used.bytes + adding > opts.quotaBytes) {
        throw new StorageError('ERR_QUOTA', 'the browser has no more storage space for this site');
      }
      // Bytes are copied within the call (runOf copies them again into the run): only Blobs need a wait to be read.
      const copies = entries.map((e) => (e.data instanceof Blob ? e.data : e.data.slice()));
      served.forget(fileId);
      const datas = new Map<number, Uint8Array>();
      for (const [i, e] of entries.entries()) datas.set(e.index, await bytesOf(copies[i]!));
      await writeRuns(table, fileId, entries, (run) => runOf(run.map((e) => datas.get(e.index)!)));
    },
    async getPiece(fileId, index) {
      return (await readServed(fileId, index))?.slice();
    },
    async presentPieces(fileId, pieceCount) {
      const present = new Array<boolean>(pieceCount).fill(false);
      markPresent(await table.keys(fileId, -Infinity, Infinity), present);
      return present;
    },
    // In steps like the browser's store, so its tests cover the steps too.
    assemble: (fileId, pieceCount, mime) =>
      assembleInSteps(async (from, to) => {
        const read = await readSpans(table, fileId, from, to, spanOf);
        return 'missing' in read ? read : { parts: read.parts.map((p) => new Blob([p.slice()])) };
      }, pieceCount, mime),
    async deletePieces(storeKey) {
      served.forget(storeKey);
      for (const { key } of runs(storeKey)) table.delete(key);
      records.delete(storeKey);
    },
    async deleteRecord(fileId) {
      files.delete(fileId);
    },
    async putFile(record) {
      files.set(record.meta.id, structuredClone(record));
    },
    async getFile(fileId) {
      const r = files.get(fileId);
      return r && structuredClone(r);
    },
    async listFiles() {
      return [...files.values()].map((r) => structuredClone(r));
    },
    async getPref(k) {
      return prefs.get(k);
    },
    async setPref(k, v) {
      prefs.set(k, v);
    },
    async getValue(k) {
      return values.has(k) ? structuredClone(values.get(k)) : undefined;
    },
    async setValue(k, v) {
      values.set(k, structuredClone(v)); // throws DataCloneError for what IndexedDB would refuse too
    },
    async updateValue(k, next) {
      // Read and write with nothing between them, as in one IndexedDB transaction.
      const v = next(values.has(k) ? structuredClone(values.get(k)) : undefined);
      if (v !== undefined) values.set(k, structuredClone(v));
    },
    pieceBytes: () => used.bytes,
    // A lost record's kept Blob fails to read in the browser, which then forgets it (idb-store.ts); here the hooks forget it.
    dropPiece: (fileId, index) => {
      served.forget(fileId);
      const found = holding(fileId, index);
      if (!found) return;
      const r = runOfKey(found.key)!;
      const rest: PieceEntry[] = [];
      for (let i = r.first; i < r.first + r.count; i++) if (i !== index) rest.push({ index: i, data: pieceOf(found.key, found.run, i)! });
      table.delete(found.key);
      for (const run of splitRuns(rest)) table.put(runKey(fileId, { first: run[0]!.index, count: run.length }), runOf(run.map((e) => e.data as Uint8Array)));
    },
    dropRecord: (fileId, index) => {
      served.forget(fileId);
      const found = holding(fileId, index);
      if (found) table.delete(found.key);
    },
    /** Test hook: silently corrupt a stored piece. */
    corruptPiece: (fileId, index) => {
      const found = holding(fileId, index);
      const at = found && span(found.key, found.run, index);
      if (at) found.run.bytes[at[0]] = found.run.bytes[at[0]]! ^ 0xff;
    },
    pieceKeys: () => [...records.keys()].flatMap((fileId) => {
      const present = new Array<boolean>(0);
      for (const { key } of runs(fileId)) for (let i = runOfKey(key)!.first; i < runOfKey(key)!.first + runOfKey(key)!.count; i++) present[i] = true;
      return present.flatMap((p, i) => (p ? [`${fileId}:${i}`] : []));
    }),
    recordCount: (fileId) => runs(fileId).length,
    fileIds: () => [...files.keys()],
  };
}
