import { useEffect, useState } from 'preact/hooks';
import { forgetRoom, loadRecentRooms, timeAgo, type RecentRoom } from '../app/recent-rooms.ts';
import { MAX_ROOM_NAME, newRoomSecret, roomFragmentForName } from '../core/room.ts';
import { createIdbStore } from '../storage/idb-store.ts';

/** The first screen: start a private room, or type a room name. */
export function Landing() {
  const [name, setName] = useState('');
  const start = () => {
    location.hash = newRoomSecret((b) => crypto.getRandomValues(b));
  };
  const joinNamed = (e: Event) => {
    e.preventDefault();
    const fragment = roomFragmentForName(name); // always a named room, even if it looks like a key
    if (fragment) location.hash = fragment;
  };
  return (
    <main class="landing">
      <h1 class="logo">
        mesh<span>drop</span>
      </h1>
      <p class="tagline">Share files straight between browsers. Nothing to install; files never touch a server.</p>
      <button class="primary big" onClick={start}>
        Start a room
      </button>
      <p class="hint">You get a private link. Send it to the people you want to share with.</p>
      <RecentRooms />
      <form class="named" onSubmit={joinNamed}>
        <label for="room-name">Or join a room by name</label>
        <div class="row">
          <input
            id="room-name"
            value={name}
            maxLength={MAX_ROOM_NAME}
            placeholder="e.g. my-family"
            autocomplete="off"
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
          <button type="submit" disabled={!name.trim()}>
            Join
          </button>
        </div>
        <p class="warning">A room name can be guessed: anyone who tries the same name joins the same room.</p>
      </form>
      <ul class="how">
        <li>
          <strong>Private by link.</strong> The room key is in the part of the link after <code>#</code>, which is never sent
          to the server.
        </li>
        <li>
          <strong>Verified.</strong> Every piece is checked against its SHA-256 before it is kept.
        </li>
        <li>
          <strong>Swarmed.</strong> Everyone who has a file helps send it, like BitTorrent.
        </li>
      </ul>
    </main>
  );
}

/** Rooms this browser opened before, newest first: back in with one tap, or forgotten. */
function RecentRooms() {
  const [store] = useState(() => createIdbStore());
  const [rooms, setRooms] = useState<RecentRoom[]>([]);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    loadRecentRooms(store).then(setRooms, (e: Error) => console.warn('meshdrop: could not read recent rooms', e));
    const tick = setInterval(() => setNow(Date.now()), 60_000); // keeps "5 minutes ago" true while the page stays open
    return () => clearInterval(tick);
  }, [store]);
  const forget = (fragment: string) =>
    forgetRoom(store, fragment).then(setRooms, (e: Error) => console.warn('meshdrop: could not forget the room', e));
  if (rooms.length === 0) return null;
  return (
    <section class="recent card" aria-labelledby="recent-title">
      <h2 id="recent-title">Recent rooms</h2>
      <ul>
        {rooms.map((r) => (
          <li key={r.fragment}>
            <a href={`#${r.fragment}`}>
              <span class="recent-name">{r.name}</span>
              <span class="recent-when">last visit {timeAgo(r.lastVisit, now)}</span>
            </a>
            <button class="quiet" onClick={() => void forget(r.fragment)} aria-label={`Forget ${r.name}`}>
              Forget
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
