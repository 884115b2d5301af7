import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { FileView } from '../app/state.ts';

/**
 * Share with chosen people (core/gossip/audience.ts): the picker of whom a
 * file is for. It takes people as {id, name, present}, so the room's present
 * people feed it now and a roster of known people (absent ones too) can later.
 */
export interface Person {
  id: string;
  name: string;
  present: boolean;
}

/** Whom the person can choose from; provided once per room (RoomView), read by the rows' Share with more… */
export const PeopleContext = createContext<readonly Person[]>([]);

export interface Choice {
  people: string[];
  /** "Everyone in the room" instead of chosen people (only where widening allows it). */
  room: boolean;
}

interface PickerProps {
  title: string;
  people: readonly Person[];
  /** The text of the button that confirms. */
  confirm: string;
  /** Offer "Everyone in the room" too. */
  roomOption: boolean;
  onChoose(choice: Choice): void;
  onClose(): void;
}

/**
 * A native <dialog> (Escape, focus trap, backdrop) with a checkbox per person,
 * labelled with the name they go by. Rendered only while open: each opening starts with nobody chosen.
 */
export function AudiencePicker({ title, people, confirm, roomOption, onChoose, onClose }: PickerProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [room, setRoom] = useState(false);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const toggle = (id: string, on: boolean) => setChosen((old) => {
    const next = new Set(old);
    if (on) next.add(id);
    else next.delete(id);
    return next;
  });
  const ready = room || chosen.size > 0;
  return (
    <dialog ref={dialog} class="audience-picker" aria-labelledby="audience-title" onClose={onClose}>
      <div class="invite-head">
        <h2 id="audience-title">{title}</h2>
        <button class="close" onClick={onClose} aria-label="Close">✕</button>
      </div>
      {people.length === 0 && !roomOption && <p class="hint">Nobody else is here yet. Invite people first.</p>}
      <fieldset disabled={room}>
        <legend class="visually-hidden">People</legend>
        {people.map((p) => (
          <label class="person-choice" key={p.id}>
            <input type="checkbox" checked={chosen.has(p.id)} onChange={(e) => toggle(p.id, (e.target as HTMLInputElement).checked)} />
            <span class="person-name">{p.name}</span>
            {!p.present && <span class="hint"> · away</span>}
          </label>
        ))}
      </fieldset>
      {roomOption && (
        <label class="person-choice everyone">
          <input type="checkbox" checked={room} onChange={(e) => setRoom((e.target as HTMLInputElement).checked)} />
          <span>Everyone in the room</span>
        </label>
      )}
      <p class="hint">Only the people you choose see the file's name and size, and only they can fetch it.</p>
      <button class="primary wide" disabled={!ready} onClick={() => onChoose({ people: [...chosen], room })}>
        {confirm}
      </button>
    </dialog>
  );
}

/**
 * "Shared with Bob, Dave" and More people… for our own file; "Shared with you"
 * and who else can see it, for one shared with us.
 */
export function AudienceLine({ file, widen }: { file: FileView; widen(id: string, people: string[] | 'room'): void }) {
  const audience = file.audience;
  if (!audience) return null;
  const names = audience.others.map((p) => p.name ?? 'someone not here now');
  if (!file.sharedByMe) return <div class="file-audience">Shared with you · only {listed([...names, 'you'])} can see it</div>;
  return (
    <div class="file-audience">
      Shared with {names.join(', ')} <WidenButton file={file} widen={widen} />
    </div>
  );
}

/** "a", "a and b", "a, b and c". */
const listed = (names: string[]): string => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`);

/** On our own file with an audience: widen it to more people, or to the whole room. It never narrows. */
function WidenButton({ file, widen }: { file: FileView; widen(id: string, people: string[] | 'room'): void }) {
  const people = useContext(PeopleContext);
  const [open, setOpen] = useState(false);
  const inIt = new Set(file.audience?.others.map((p) => p.id));
  const more = people.filter((p) => !inIt.has(p.id));
  const choose = (c: Choice) => {
    setOpen(false);
    widen(file.meta.id, c.room ? 'room' : c.people);
  };
  return (
    <>
      <button class="quiet small" onClick={() => setOpen(true)} aria-haspopup="dialog" aria-label={`Share with more people: ${file.meta.name}`}>
        More people…
      </button>
      {open && (
        <AudiencePicker
          title={`Share ${file.meta.name} with more people`} people={more} confirm="Share with them" roomOption
          onChoose={choose} onClose={() => setOpen(false)}
        />
      )}
    </>
  );
}
