import type { Catalogue } from '../core/gossip/catalogue.ts';
import type { FileMeta } from '../core/manifest/manifest.ts';
import type { PeerManager } from '../net/peer-manager.ts';
import type { RelayStatus } from '../net/signal-client.ts';
import type { Downloads } from './downloads.ts';
import type { Library } from './library.ts';
import type { Session } from './session.ts';

/**
 * The state the UI renders: plain data, rebuilt from the engine on demand.
 * Components never reach into the engine; they read this and call intents.
 */
export interface PeerView {
  id: string;
  name: string | null;
  link: 'connecting' | 'open' | 'none';
  /** Same on both screens unless someone is in the middle. */
  verificationCode: string | null;
}

export type FileStatus = 'available' | 'manifest' | 'downloading' | 'complete' | 'error';

export interface FileView {
  meta: FileMeta;
  holders: { id: string; name: string | null; self: boolean }[];
  status: FileStatus;
  /** Shared from this browser (as opposed to fetched). */
  sharedByMe: boolean;
  bytesDone: number;
  /** Bytes per second while downloading. */
  speed: number;
  /** Open peers that can send us pieces we lack. */
  sources: number;
  error: string | null;
}

export interface ImportView {
  id: number;
  name: string;
  size: number;
  done: number;
}

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export interface AppState {
  self: { id: string; name: string };
  relay: RelayStatus;
  peers: PeerView[];
  files: FileView[];
  imports: ImportView[];
  notices: Notice[];
}

export interface EngineInternals {
  self: string;
  library: Library;
  catalogue: Catalogue;
  downloads: Downloads;
  sessions: Map<string, Session>;
  peers(): PeerManager;
  imports: Map<number, Omit<ImportView, 'id'>>;
  notices: Notices;
}

export const MAX_NOTICES = 5;

/** A short list of messages for the person; the oldest fall off. */
export class Notices {
  private list: Notice[] = [];
  private seq = 0;

  constructor(private readonly changed: () => void) {}

  error(text: string): void {
    this.push('error', text);
  }

  info(text: string): void {
    this.push('info', text);
  }

  dismiss(id: number): void {
    this.list = this.list.filter((n) => n.id !== id);
    this.changed();
  }

  all(): Notice[] {
    return this.list;
  }

  private push(kind: Notice['kind'], text: string): void {
    if (this.list.some((n) => n.text === text)) return;
    this.list = [...this.list, { id: ++this.seq, kind, text }].slice(-MAX_NOTICES);
    this.changed();
  }
}

export function buildState(e: EngineInternals, extra: { name: string; relay: RelayStatus; now: number }): AppState {
  const now = extra.now;
  const nameOf = (id: string) => (id === e.self ? extra.name : e.sessions.get(id)?.name ?? null);
  const peerIds = new Set([...e.peers().present(), ...e.sessions.keys()]);
  peerIds.delete(e.self);
  const peers: PeerView[] = [...peerIds].map((id) => {
    const link = e.peers().linkState(id);
    return { id, name: nameOf(id), link: link ?? 'none', verificationCode: e.sessions.get(id)?.verificationCode ?? null };
  });

  const metas = new Map<string, FileMeta>();
  for (const entry of e.catalogue.entries()) metas.set(entry.meta.id, entry.meta);
  for (const local of e.library.all()) {
    // A file still being imported is listed under imports until it is done.
    if (!metas.has(local.meta.id) && !e.library.isImporting(local.meta.id)) metas.set(local.meta.id, local.meta);
  }

  const files: FileView[] = [...metas.values()].map((meta) => {
    const local = e.library.get(meta.id);
    const d = e.downloads.get(meta.id);
    const complete = local?.have.complete ?? false;
    const holders = e.catalogue.holders(meta.id).map((id) => ({ id, name: nameOf(id), self: id === e.self }));
    return {
      meta,
      holders,
      status: complete ? 'complete' : d ? (d.status === 'complete' ? 'complete' : d.status) : 'available',
      sharedByMe: local?.source === 'shared',
      bytesDone: complete ? meta.size : d?.bytesDone ?? 0,
      speed: d && d.status === 'downloading' ? d.rate.rate(now) : 0,
      sources: d && d.status === 'downloading' ? d.sources : 0,
      error: d?.error ?? null,
    };
  });

  return {
    self: { id: e.self, name: extra.name },
    relay: extra.relay,
    peers,
    files,
    imports: [...e.imports].map(([id, i]) => ({ id, ...i })),
    notices: e.notices.all(),
  };
}
