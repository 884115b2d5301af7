import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Engine } from '../app/engine.ts';
import type { ShareInput } from '../app/intents.ts';
import type { AppState } from '../app/state.ts';
import type { Room } from '../core/room.ts';
import { PeopleContext, type Person } from './AudiencePicker.tsx';
import { AutoFetchPanel, rulePeople } from './AutoFetchPanel.tsx';
import { FileLinkWaits } from './FileLinkWaits.tsx';
import type { FileIntents } from './FileRow.tsx';
import { FileActions, FileTree } from './FileTree.tsx';
import { droppedFiles } from './dropped-files.ts';
import { currentRoomLink, InvitePanel } from './InvitePanel.tsx';
import { formatBytes, percent } from './format.ts';
import { NameEditor } from './NameEditor.tsx';
import { SearchBox } from './SearchBox.tsx';
import { Notices } from './Notices.tsx';
import { PeerList } from './PeerList.tsx';
import { useSelection } from './SelectionBar.tsx';
import { ShareBox } from './ShareBox.tsx';
import { sameProps, skipUnchanged, useUnchanged } from './skip-unchanged.ts';
import { StorageMeter, storageWatch } from './StorageMeter.tsx';
import { useEngineState } from './use-engine.ts';
import { useFileSearch } from './use-file-search.ts';
import { useSaveWhenReady } from './use-save.ts';

const RELAY_TEXT: Record<AppState['relay'], string> = {
  online: 'Online',
  connecting: 'Connecting…',
  offline: 'Server unreachable; open transfers continue, retrying…',
};

/** A list this short is read at a glance: a search box would only push it down (off a phone's first screen). */
const SEARCH_FROM_FILES = 6;

/**
 * The room. It is rendered up to ten times a second while a file moves
 * (use-engine.ts); its parts are given the state's views, which keep their
 * identity while unchanged (app/view-reuse.ts), and callbacks made once per
 * engine, so every part but the moving file rows skips those renders.
 */
export function RoomView({ engine, room, intents }: { engine: Engine; room: Room; intents: FileIntents }) {
  const state = useEngineState(engine);
  useSaveWhenReady(engine, state.files);
  const act = useRoomActions(engine);
  const dragging = usePageDrop(act.shareDropped, act.dropFailed);
  const online = useOnline();
  const selection = useSelection();
  const files = useMemo(() => [...state.files].sort((a, b) => a.meta.name.localeCompare(b.meta.name)), [state.files]);
  const search = useFileSearch(files, act.searchRoom);
  const people = useMemo(() => peopleOf(state), [state.peers, state.known]);
  const ruleChoices = useUnchanged(rulePeople(state));
  return (
    <PeopleContext.Provider value={people}>
    <div class="room">
      <header class="topbar">
        <a class="logo small" href="#" onClick={() => (location.hash = '')}>
          mesh<span>drop</span>
        </a>
        <span class={`relay ${online ? state.relay : 'offline'}`} role="status">
          {online ? RELAY_TEXT[state.relay] : 'You are offline; waiting for the network…'}
        </span>
        <InvitePanel link={currentRoomLink()} />
      </header>
      <NamedRoomWarning room={room} />
      <Notices notices={state.notices} dismiss={act.dismissNotice} />
      <FileLinkWaits engine={engine} waits={state.linkWaits} />
      <div class="layout">
        <aside>
          <NameEditor name={state.self.name} onRename={act.rename} />
          <PeerList self={state.self} peers={state.peers} blocked={state.blocked} privacy={state.privacy} intents={act.peers} />
        </aside>
        <main>
          <ShareBox onFiles={act.share} dragging={dragging} />
          <section class="card files" aria-labelledby="files-title">
            <h2 id="files-title">
              Files <span class="count">{files.length}</span>
            </h2>
            {(files.length >= SEARCH_FROM_FILES || search.searching) && <SearchBox value={search.input} onChange={search.setInput} matched={search.shown.length} total={files.length} />}
            <FileActions files={files} shown={search.shown} searching={search.searching} engine={engine} selection={selection} />
            <ul>
              {state.imports.filter((i) => i.fileId === undefined).map((i) => (
                <li class="file importing" key={`import-${i.id}`}>
                  <div class="file-main">
                    <div class="file-name">{i.name}</div>
                    <div class="status">
                      Preparing to share: {percent(i.done, i.size)}% of {formatBytes(i.size)}
                    </div>
                  </div>
                </li>
              ))}
              <FileTree files={search.shown} engine={engine} intents={intents} selection={selection} search={search.key} />
            </ul>
            {search.searching && search.shown.length === 0 && <p class="hint empty">No file here matches your search.</p>}
            {files.length === 0 && state.imports.length === 0 && (
              <p class="hint empty">
                No files here yet. Share a file with the button above, or send the room link to someone who has one.
              </p>
            )}
            <StorageMeter watch={storageWatch(state)} />
          </section>
          {/* Below the files: on a phone the file list comes first, the rules a scroll away. */}
          <AutoFetchPanel rules={state.rules} people={ruleChoices} intents={engine} />
          {state.elsewhere.length > 0 && <StoredElsewhere files={state.elsewhere} shareHere={act.shareHere} />}
        </main>
      </div>
    </div>
    </PeopleContext.Provider>
  );
}

/** Whom a file can be shared with: the people here whose names we know, then people met before (told when they come). */
const peopleOf = (state: AppState): Person[] => [
  ...state.peers.filter((p) => p.name !== null).map((p) => ({ id: p.id, name: p.name!, present: true })),
  ...state.known.map((p) => ({ id: p.id, name: p.name, present: false })),
];

/** What the room's parts ask of the engine: made once per engine, so a part given them can skip renders. */
function useRoomActions(engine: Engine) {
  return useMemo(() => ({
    share: (files: ShareInput[], withPeople?: string[]) => void engine.share(files, withPeople),
    shareDropped: (files: ShareInput[]) => void engine.share(files),
    dropFailed: (e: Error) => engine.reportError(`Could not read what was dropped: ${e.message}`),
    searchRoom: (text: string) => engine.searchRoom(text),
    dismissNotice: (id: number) => engine.dismissNotice(id),
    rename: (name: string) => engine.setName(name),
    shareHere: (id: string) => engine.shareHere(id),
    peers: {
      setVerified: (peer: string, v: boolean) => engine.setVerified(peer, v),
      setBlocked: (peer: string, b: boolean) => void engine.setBlocked(peer, b),
      setHideAddress: (h: boolean) => void engine.setHideAddress(h),
    },
  }), [engine]);
}

/** Files this browser keeps for other rooms: never offered here unless the person says so. */
const StoredElsewhere = skipUnchanged(StoredElsewhereView, sameProps);

function StoredElsewhereView({ files, shareHere }: { files: AppState['elsewhere']; shareHere(id: string): void }) {
  return (
    <section class="card files elsewhere" aria-labelledby="elsewhere-title">
      <h2 id="elsewhere-title">
        On this device, from other rooms <span class="count">{files.length}</span>
      </h2>
      <p class="hint">Only you see these. Nobody in this room can see or fetch them unless you share them here.</p>
      <ul>
        {files.map((f) => (
          <li class="file" key={f.meta.id}>
            <div class="file-main">
              <div class="file-name" title={f.meta.name}>{f.meta.name}</div>
              <div class="file-meta">{formatBytes(f.meta.size)}{f.complete ? '' : ' · incomplete'}</div>
            </div>
            <div class="file-actions">
              <button onClick={() => shareHere(f.meta.id)} aria-label={`Share ${f.meta.name} in this room`}>
                Share here
              </button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A named room is guessable: say so where everyone in it can see. */
function NamedRoomWarning({ room }: { room: Room }) {
  if (!room.named) return null;
  return (
    <p class="warning named-room" role="note">
      This room has a name, not a secret key: anyone who guesses “{room.secret}” can join and see its files. Start a new
      room for a private link.
    </p>
  );
}

/** Files and folders dropped anywhere on the page are shared; returns whether something is being dragged over it. */
function usePageDrop(onFiles: (files: ShareInput[]) => void, onError: (e: Error) => void): boolean {
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth++;
      setDragging(true);
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (e: DragEvent) => {
      if (hasFiles(e)) e.preventDefault(); // allows the drop
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      if (!e.dataTransfer) return;
      droppedFiles(e.dataTransfer).then(
        (files) => files.length > 0 && onFiles(files),
        onError,
      );
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);
  return dragging;
}

function useOnline(): boolean {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, []);
  return online;
}
