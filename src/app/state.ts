import { displayFileName } from '../core/filename.ts';
import type { Catalogue } from '../core/gossip/catalogue.ts';
import type { PresenceStatus } from '../core/gossip/presence.ts';
import { pieceCountFor } from '../core/manifest/manifest.ts';
import type { Availability } from '../core/swarm/availability.ts';
import type { FileMeta } from '../core/manifest/manifest.ts';
import type { PeerManager } from '../net/peer-manager.ts';
import type { LinkRoute } from '../net/link.ts';
import type { RelayStatus } from '../net/signal-client.ts';
import type { AddressPrivacy } from './address-privacy.ts';
import type { AutoFetch, RulesView } from './auto-fetch.ts';
import type { Downloads } from './downloads.ts';
import type { FileLinks, LinkWaitView } from './file-links.ts';
import type { Library } from './library.ts';
import type { PeerMarks } from './peer-marks.ts';
import type { RoomPresence } from './room-presence.ts';
import type { PeopleRoster } from './roster.ts';
import type { Session } from './session.ts';

/**
 * The state the UI renders: plain data, rebuilt from the engine on demand.
 * Components never reach into the engine; they read this and call intents.
 */
export interface PeerView {
  id: string;
  name: string | null;
  /** 'none': in the room by the relay's or presence's word, with no link of ours (a bounded mesh links a few). */
  link: 'connecting' | 'open' | 'none';
  /** How an open link runs, from its selected ICE candidate pair: straight, or relayed through TURN. */
  via: LinkRoute | null;
  /** The open link lost its path (e.g. the network changed) and is looking for a new one. */
  lost: boolean;
  /** From both identity keys: the same on both screens, every session, unless someone is in the middle. */
  safetyNumber: string | null;
  /** The person compared the safety number and marked this identity as verified. */
  verified: boolean;
  /** Active, idle (page hidden) or away (hidden long), by their signed word; null when they did not say. */
  status: PresenceStatus | null;
  /** Met before this visit (the roster knew this identity). */
  known: boolean;
  /** The name we knew them by, when they give another one now ("Bob, known as Robert here"). */
  knownAs: string | null;
}

/** Someone the person blocked, for the list with Unblock. */
export interface BlockedView {
  id: string;
  name: string | null;
}

/** 'importing': our own draft, listed and served while its pieces are hashed and stored (app/draft-share.ts). */
export type FileStatus = 'available' | 'manifest' | 'downloading' | 'paused' | 'complete' | 'error' | 'importing';

export interface HolderView {
  id: string;
  name: string | null;
  self: boolean;
  /** Share of the file held, 0..1 (1 for whole-file holders). */
  share: number;
}

/** Who a file shared with chosen people is for (core/gossip/audience.ts): everyone in it but us. */
export interface AudienceView {
  others: { id: string; name: string | null }[];
}

export interface FileView {
  meta: FileMeta;
  /** Null: the whole room. */
  audience: AudienceView | null;
  /** Other names its holders gave the same bytes. */
  otherNames: string[];
  holders: HolderView[];
  status: FileStatus;
  /** Shared from this browser (as opposed to fetched). */
  sharedByMe: boolean;
  /** We had it whole once and are fetching lost pieces back. */
  repairing: boolean;
  bytesDone: number;
  /** Bytes per second while downloading. */
  speed: number;
  /** Seconds until complete at the measured rate; null while unknown or not downloading. */
  secondsLeft: number | null;
  /** Open peers that can send us pieces we lack. */
  sources: number;
  error: string | null;
  /** Complete, and the person asked to save it: the UI saves it once and says so. */
  saveReady: boolean;
  /** Still a draft: its sharer is hashing and storing it, and serves what is ready. */
  preparing: boolean;
  /** The rule that fetched it, in words ("Every new image"), when one did. */
  fetchedBy: string | null;
}

/** A file stored in this browser for another room: offered here only if the person says so. */
export interface StoredElsewhereView {
  meta: FileMeta;
  complete: boolean;
}

export interface ImportView {
  id: number;
  name: string;
  size: number;
  done: number;
  /** Its draft id, once it is a file of the room (then its file row shows its progress). */
  fileId?: string;
}

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export interface KnownView {
  id: string;
  name: string;
  lastSeen: number;
}

/** Absent known people listed for choosing: the latest seen; a roster holds up to 1,000. */
const MAX_KNOWN_SHOWN = 50;

export interface AppState {
  self: { id: string; name: string };
  relay: RelayStatus;
  /** Whether this person hides their address from peers (relay-only links), and whether they can. */
  privacy: AddressPrivacy;
  peers: PeerView[];
  /** People met before and not here now (latest seen first, bounded): a file can be shared with them, a rule can name them. */
  known: KnownView[];
  blocked: BlockedView[];
  files: FileView[];
  elsewhere: StoredElsewhereView[];
  imports: ImportView[];
  notices: Notice[];
  /** Files opened by link that cannot start yet. */
  linkWaits: LinkWaitView[];
  /** This room's rules that fetch for the person, and what they did. */
  rules: RulesView;
}

export interface EngineInternals {
  self: string;
  room: string;
  library: Library;
  catalogue: Catalogue;
  availability: Availability;
  downloads: Downloads;
  sessions: Map<string, Session>;
  peers(): PeerManager | undefined;
  /** Who the relay says is in the room. */
  present(): ReadonlySet<string>;
  /** Who says, by signed gossip, that they are in the room, and the names they give. */
  presence: Pick<RoomPresence, 'here' | 'nameOf' | 'statusOf'>;
  marks: PeerMarks;
  roster: PeopleRoster;
  imports: Map<number, Omit<ImportView, 'id'>>;
  notices: Notices;
  name(): string;
  /** The open link's route to this peer, once read from its stats. */
  route(peer: string): LinkRoute | null;
  /** The open link to this peer lost its path and is recovering. */
  lost(peer: string): boolean;
  links: FileLinks;
  rules: Pick<AutoFetch, 'view' | 'fetchedBy' | 'settled'>;
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

/** Cleaning a name by grapheme costs ~30 µs; the state is rebuilt often, names rarely change. */
const shownNames = new Map<string, string>();
function shownName(name: string): string {
  let shown = shownNames.get(name);
  if (shown === undefined) {
    if (shownNames.size >= 20_000) shownNames.clear();
    shownNames.set(name, (shown = displayFileName(name)));
  }
  return shown;
}

export function buildState(e: EngineInternals, extra: { relay: RelayStatus; privacy: AddressPrivacy; now: number }): AppState {
  const name = e.name();
  // A linked peer's name is the one its HELLO proved on the link; others' come from presence.
  const nameOf = (id: string) => (id === e.self ? name : e.sessions.get(id)?.name ?? e.presence.nameOf(id));
  const peerIds = new Set([...e.present(), ...e.sessions.keys(), ...e.presence.here()]);
  peerIds.delete(e.self);
  for (const id of e.roster.blocked()) peerIds.delete(id); // the relay still lists them; we refuse them
  const peers = [...peerIds].map((id) => peerView(e, id, nameOf(id))).sort(byLink);
  const blocked = [...e.roster.blocked()].map((id) => ({ id, name: e.roster.nameOf(id) }));
  const known = e.roster.people((id) => peerIds.has(id))
    .filter((p) => !p.present && p.id !== e.self && p.name !== null)
    .slice(0, MAX_KNOWN_SHOWN)
    .map((p) => ({ id: p.id, name: p.name!, lastSeen: p.lastSeen }));
  const ids = new Set([...e.catalogue.entries().map((x) => x.meta.id), ...e.library.roomFiles().map((f) => f.meta.id)]);
  const files = [...ids].map((id) => fileView(e, id, nameOf, extra.now)).filter((f): f is FileView => f !== null);
  const elsewhere = e.library.all()
    .filter((f) => !f.rooms.includes(e.room) && !ids.has(f.meta.id))
    .map((f) => ({ meta: { ...f.meta, name: shownName(f.meta.name) }, complete: f.have.complete }));
  return {
    self: { id: e.self, name },
    relay: extra.relay,
    privacy: extra.privacy,
    peers,
    known,
    blocked,
    files,
    elsewhere,
    imports: [...e.imports].map(([id, i]) => ({ id, ...i, name: shownName(i.name) })),
    notices: e.notices.all(),
    linkWaits: e.links.waiting().map((w) => ({ ...w, name: w.name === null ? null : shownName(w.name) })),
    rules: shownRuleNames(e.rules.view(nameOf)),
  };
}

/** File names in what rules did come from announcements: shown cleaned, like every file name. */
function shownRuleNames(view: RulesView): RulesView {
  return { ...view, list: view.list.map((r) => ({ ...r, entries: r.entries.map((x) => ({ ...x, name: shownName(x.name) })) })) };
}

function peerView(e: EngineInternals, id: string, name: string | null): PeerView {
  const s = e.sessions.get(id);
  const link = s?.ready ? 'open' : e.peers()?.linkState(id) ? 'connecting' : 'none';
  return {
    id, name, link, via: link === 'open' ? e.route(id) : null, lost: link === 'open' && e.lost(id),
    safetyNumber: e.marks.safetyNumber(id), verified: e.roster.isVerified(id), status: e.presence.statusOf(id),
    known: e.roster.isKnown(id), knownAs: e.roster.knownAs(id, name),
  };
}

const LINK_ORDER: Record<PeerView['link'], number> = { open: 0, connecting: 1, none: 2 };
/** Linked people first, then those being linked, then the rest of the room; by name within each. */
function byLink(a: PeerView, b: PeerView): number {
  return LINK_ORDER[a.link] - LINK_ORDER[b.link] || (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff', 'en', { numeric: true }) || a.id.localeCompare(b.id);
}

function fileView(e: EngineInternals, id: string, nameOf: (id: string) => string | null, now: number): FileView | null {
  const local = e.library.inRoom(id);
  const metas = e.catalogue.metas(id);
  const meta = local?.meta ?? e.catalogue.meta(id);
  if (!meta) return null;
  const d = e.downloads.get(id);
  const complete = local?.have.complete ?? false;
  const pieceCount = local?.manifest.pieceCount ?? pieceCountFor(meta.size);
  const holders: HolderView[] = [];
  const importing = local?.meta.draft !== undefined && local.source === 'shared';
  if (complete || importing) holders.push({ id: e.self, name: nameOf(e.self), self: true, share: complete ? 1 : local!.have.count / pieceCount });
  // A draft's origin holds what its HAVEs say, not the whole file.
  const announced = new Set(e.catalogue.wholeHolders(id));
  for (const peer of new Set([...announced, ...e.availability.peersWith(id)])) {
    if (peer === e.self) continue;
    const share = announced.has(peer) ? 1 : pieceCount === 0 ? 0 : e.availability.countHeld(peer, id, pieceCount) / pieceCount;
    holders.push({ id: peer, name: nameOf(peer), self: false, share });
  }
  const error = e.downloads.error(id);
  const status: FileStatus = importing ? 'importing' : complete && !d ? 'complete' : d ? (d.status === 'manifest' ? 'manifest' : 'downloading') : error ? 'error' : local?.paused ? 'paused' : 'available';
  const running = d?.status === 'downloading';
  const shown = shownName(meta.name);
  return {
    meta: { ...meta, name: shown },
    audience: meta.audience ? { others: meta.audience.filter((p) => p !== e.self).map((p) => ({ id: p, name: nameOf(p) })) } : null,
    otherNames: [...new Set(metas.map((m) => shownName(m.name)))].filter((n) => n !== shown),
    holders,
    status,
    sharedByMe: local?.source === 'shared',
    repairing: !!d && (local?.completedOnce ?? false),
    bytesDone: complete ? meta.size : d ? d.bytesDone : Math.min(meta.size, (local?.have.count ?? 0) * (local?.manifest.pieceSize ?? 0)),
    speed: running ? d.rate.rate(now) : 0,
    secondsLeft: running ? d.rate.secondsFor(meta.size - d.bytesDone, now) : null,
    sources: running ? d.sources : 0,
    error,
    saveReady: complete && (local?.saveWanted ?? false),
    preparing: meta.draft !== undefined,
    fetchedBy: e.rules.fetchedBy(id, nameOf),
  };
}
