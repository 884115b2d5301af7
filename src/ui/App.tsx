import { useEffect, useMemo, useState } from 'preact/hooks';
import { startBrowserEngine } from '../app/browser.ts';
import type { Engine } from '../app/engine.ts';
import { recordRoomVisit } from '../app/recent-rooms.ts';
import { createIdbStore } from '../storage/idb-store.ts';
import { parseRoomFragment, roomPartOf, type Room } from '../core/room.ts';
import type { FileIntents } from './FileRow.tsx';
import { Landing } from './Landing.tsx';
import { MediaContext } from './media-context.ts';
import { RoomView } from './RoomView.tsx';
import { isShareRoute, SharePicker, useSharedFilesInto } from './SharePicker.tsx';
import { usePageLife } from './use-page-life.ts';
import { save } from './use-save.ts';

/**
 * Routes on the URL fragment: no room -> landing page; a room -> its engine.
 * An engine serves one room for the page's life, so moving between rooms
 * reloads the page rather than tearing the mesh down by hand.
 */
export function App() {
  const [sharing] = useState(() => isShareRoute(location.hash));
  const [room] = useState<Room | null>(() => (sharing ? null : parseRoomFragment(location.hash)));
  useEffect(() => {
    const onHash = () => {
      if (isShareRoute(location.hash) !== sharing) return location.reload();
      const next = parseRoomFragment(location.hash);
      // A file link typed into this room's address is followed by the fresh page.
      if (next?.secret !== room?.secret || roomPartOf(location.hash) !== location.hash) location.reload();
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [room, sharing]);
  if (sharing) return <SharePicker />;
  return room ? <RoomPage room={room} /> : <Landing />;
}

type Phase = 'starting' | 'running' | 'open-elsewhere' | 'moved';

function RoomPage({ room }: { room: Room }) {
  const [engine, setEngine] = useState<Engine | null>(null);
  const [phase, setPhase] = useState<Phase>('starting');
  /** Times the person asked to use the room here: each asks the other tab to let go. */
  const [takeOvers, setTakeOvers] = useState(0);
  const [failure, setFailure] = useState<string | null>(null);
  /** Fresh engines after the page came back from the background (see usePageLife). */
  const [restarts, setRestarts] = useState(0);
  useEffect(() => {
    let live: Engine | null = null;
    let cancelled = false;
    const onTakenOver = () => {
      setEngine(null);
      setPhase('moved');
    };
    startBrowserEngine(room, { takeOver: takeOvers > 0, onTakenOver }).then(
      (started) => {
        if (started.kind === 'open-elsewhere') return setPhase('open-elsewhere');
        live = started.engine;
        if (cancelled) return live.close();
        setEngine(live);
        setPhase('running');
        rememberVisit(room);
      },
      (e: Error) => setFailure(e.message),
    );
    return () => {
      cancelled = true;
      live?.close();
    };
  }, [room, takeOvers, restarts]);
  usePageLife(phase === 'running' ? engine : null, () => {
    setEngine(null);
    setPhase('starting');
    setRestarts((n) => n + 1);
  });
  const intents = useFileIntents(engine);
  useSharedFilesInto(engine, room);
  if (failure) return <p class="fatal" role="alert">meshdrop could not start: {failure}</p>;
  if (phase === 'open-elsewhere' || phase === 'moved') {
    const useHere = () => {
      setPhase('starting');
      setTakeOvers((n) => n + 1);
    };
    return <OpenElsewhere moved={phase === 'moved'} useHere={useHere} />;
  }
  if (!engine || !intents) return <p class="loading">Joining the room…</p>;
  return (
    <MediaContext.Provider value={engine}>
      <RoomView engine={engine} room={room} intents={intents} />
    </MediaContext.Provider>
  );
}

/** Lists the room on the landing page's recent rooms; failing to is worth a warning, not the room. */
function rememberVisit(room: Room): void {
  recordRoomVisit(createIdbStore(), room, Date.now()).catch((e: Error) => console.warn('meshdrop: could not remember the room', e));
}

/** The room is open in another tab of this browser: one tab per room (the same person twice would confuse everyone). */
function OpenElsewhere({ moved, useHere }: { moved: boolean; useHere(): void }) {
  return (
    <main class="landing">
      <h1 class="logo">
        mesh<span>drop</span>
      </h1>
      <p class="tagline" role="status">
        {moved ? 'This room is now open in another tab of this browser.' : 'This room is already open in another tab of this browser.'}
      </p>
      <button class="primary big" onClick={useHere}>
        Use it here
      </button>
      <p class="hint">The other tab leaves the room; transfers carry on here.</p>
    </main>
  );
}

/**
 * File intents; a second click on Download is the same download. (Files the
 * person asked for are saved when ready by the room: use-save.ts.)
 */
function useFileIntents(engine: Engine | null): FileIntents | null {
  return useMemo(() => {
    if (!engine) return null;
    return {
      download: (id: string) => void engine.download(id),
      cancel: (id: string) => void engine.cancel(id),
      save: (id: string) => {
        engine.keepFile(id); // saved by the person: Undo of the rule that fetched it leaves it
        void save(engine, id);
      },
      read: (id: string) => engine.save(id).then((f) => f?.blob ?? null),
      pause: (id: string) => engine.pause(id),
      resume: (id: string) => engine.resume(id),
      remove: (id: string) => void engine.remove(id),
      stopSharing: (id: string) => void engine.stopSharing(id),
      widen: (id: string, people: string[] | 'room') => engine.widen(id, people),
    };
  }, [engine]);
}
