import { useEffect, useState } from 'preact/hooks';
import type { Engine } from '../app/engine.ts';
import { newRoomSecret, parseRoomFragment, SHARE_FRAGMENT, type Room } from '../core/room.ts';
import { loadRecentRooms, timeAgo, type RecentRoom } from '../app/recent-rooms.ts';
import { createIdbStore } from '../storage/idb-store.ts';
import { clearSharedInbox, readSharedInbox, type SharedInbox } from '../sw/share-inbox.ts';
import { formatBytes } from './format.ts';

/**
 * "Share → meshdrop" from another app: the service worker kept the files in
 * IndexedDB and sent the page to #share. Here the person picks the room they
 * go to; that room's page shares them once its engine runs (useSharedFilesInto).
 * The choice travels in sessionStorage, this tab's own, so only the room this
 * tab opens next takes them, and only once.
 */
const SHARE_INTO = 'meshdrop-share-into';

export const isShareRoute = (hash: string): boolean => hash === `#${SHARE_FRAGMENT}`;

type Loaded = { kind: 'loading' } | { kind: 'ready'; inbox: SharedInbox | null } | { kind: 'failed'; message: string };

export function SharePicker() {
  const [loaded, setLoaded] = useState<Loaded>({ kind: 'loading' });
  useEffect(() => {
    readSharedInbox().then(
      (inbox) => setLoaded({ kind: 'ready', inbox }),
      (e: Error) => setLoaded({ kind: 'failed', message: e.message }),
    );
  }, []);
  const discard = () => void clearSharedInbox().then(() => setLoaded({ kind: 'ready', inbox: null }));
  return (
    <main class="landing share-picker">
      <h1 class="logo">
        mesh<span>drop</span>
      </h1>
      {loaded.kind === 'loading' && <p class="loading">Reading what you shared…</p>}
      {loaded.kind === 'failed' && <p class="fatal" role="alert">The shared files could not be read: {loaded.message}</p>}
      {loaded.kind === 'ready' && (loaded.inbox && loaded.inbox.files.length > 0 ? <Pick inbox={loaded.inbox} discard={discard} /> : <NothingWaiting inbox={loaded.inbox} />)}
      <p class="hint">
        <a href="/">Back to the start page</a>
      </p>
    </main>
  );
}

function Pick({ inbox, discard }: { inbox: SharedInbox; discard(): void }) {
  const total = inbox.files.reduce((sum, f) => sum + f.size, 0);
  return (
    <>
      <p class="tagline" role="status">
        {inbox.files.length === 1 ? 'One file' : `${inbox.files.length} files`} ({formatBytes(total)}) ready to share. Pick a room.
      </p>
      <section class="card files" aria-labelledby="shared-title">
        <h2 id="shared-title">
          Shared with meshdrop <span class="count">{inbox.files.length}</span>
        </h2>
        <ul>
          {inbox.files.map((f, i) => (
            <li class="file" key={i}>
              <div class="file-main">
                <div class="file-name" title={f.name}>{f.name}</div>
                <div class="file-meta">{formatBytes(f.size)}</div>
              </div>
            </li>
          ))}
        </ul>
      </section>
      <RecentRoomChoices />
      <button class="primary big" onClick={() => goShare(newRoomSecret((b) => crypto.getRandomValues(b)))}>
        Start a new room with them
      </button>
      <PasteRoomLink />
      <button class="quiet" onClick={discard}>
        Discard them
      </button>
    </>
  );
}

/** The rooms this browser visited lately, newest first: one tap shares the files there. */
function RecentRoomChoices() {
  const [rooms, setRooms] = useState<RecentRoom[]>([]);
  useEffect(() => {
    loadRecentRooms(createIdbStore()).then(setRooms, (e: Error) => console.warn('meshdrop: could not read recent rooms', e));
  }, []);
  if (rooms.length === 0) return null;
  const now = Date.now();
  return (
    <section class="card recent" aria-labelledby="share-recent-title">
      <h2 id="share-recent-title">Share them into a recent room</h2>
      <ul>
        {rooms.map((r) => (
          <li key={r.fragment}>
            <button onClick={() => goShare(r.fragment)} aria-label={`Share into ${r.name}`}>
              {r.name} <span class="hint">· last visit {timeAgo(r.lastVisit, now)}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function PasteRoomLink() {
  const [link, setLink] = useState('');
  const [problem, setProblem] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    const fragment = roomFragmentOfLink(link, location.origin);
    if (fragment === null) return setProblem('That is not a meshdrop room link from this site.');
    goShare(fragment);
  };
  return (
    <form class="named" onSubmit={submit}>
      <label for="share-room-link">or paste a room link</label>
      <div class="row">
        <input id="share-room-link" value={link} autocomplete="off" placeholder={`${location.origin}/#…`} onInput={(e) => setLink((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={!link.trim()}>
          Share there
        </button>
      </div>
      {problem && <p class="warning" role="alert">{problem}</p>}
    </form>
  );
}

/** The room fragment (without '#') of a link to a room on this site, or null. */
function roomFragmentOfLink(text: string, origin: string): string | null {
  let url: URL;
  try {
    url = new URL(text.trim(), origin);
  } catch {
    return null;
  }
  if (url.origin !== origin || isShareRoute(url.hash) || !parseRoomFragment(url.hash)) return null;
  return url.hash.slice(1);
}

function goShare(fragment: string): void {
  const room = parseRoomFragment(fragment);
  if (!room) return;
  sessionStorage.setItem(SHARE_INTO, room.secret);
  location.assign(`/#${fragment}`);
}

function NothingWaiting({ inbox }: { inbox: SharedInbox | null }) {
  const failed = new URLSearchParams(location.search).get('share') === 'failed';
  const firstVisit = !navigator.serviceWorker?.controller;
  let text = 'Nothing is waiting to be shared. Share files to meshdrop from another app, or start a room.';
  if (inbox?.text) text = `meshdrop shares files, and this share held only text: “${inbox.text}”.`;
  else if (failed) text = 'meshdrop could not keep the files you shared (is this device out of space?). Please try again.';
  else if (firstVisit) text = 'Open meshdrop once before sharing to it: it gets ready on this first visit, and files you share reach it from then on.';
  return (
    <p class="tagline" role="status">
      {text}
    </p>
  );
}

/** In a room page: shares the files waiting from the share picker, if this tab chose this room for them. */
export function useSharedFilesInto(engine: Engine | null, room: Room): void {
  useEffect(() => {
    if (!engine || sessionStorage.getItem(SHARE_INTO) !== room.secret) return;
    sessionStorage.removeItem(SHARE_INTO); // before sharing: a reload must not share them twice
    void deliver(engine).catch((e: unknown) => console.error('meshdrop: could not share the files shared to meshdrop', e));
  }, [engine, room]);
}

async function deliver(engine: Engine): Promise<void> {
  const inbox = await readSharedInbox();
  if (!inbox || inbox.files.length === 0) return;
  await engine.share(inbox.files);
  await clearSharedInbox();
}
