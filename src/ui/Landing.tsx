import { useState } from 'preact/hooks';
import { MAX_ROOM_NAME, newRoomSecret, roomFragmentForName } from '../core/room.ts';

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
