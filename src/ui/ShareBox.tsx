import { useContext, useRef, useState } from 'preact/hooks';
import type { ShareInput } from '../app/intents.ts';
import { AudiencePicker, PeopleContext, type Choice } from './AudiencePicker.tsx';
import { sameProps, skipUnchanged } from './skip-unchanged.ts';

/**
 * A real button that opens a hidden file input (a label would take no focus
 * ring); dropping anywhere on the page works too (see RoomView). On touch
 * screens the button fills the box and the drop hint is hidden (styles.css).
 * Share with… picks people first, then files: those files are announced to
 * the chosen people only. It has an input of its own, so a chooser cancelled
 * there never turns a later Share files into a limited one.
 */
export const ShareBox = skipUnchanged(ShareBoxView, sameProps);

function ShareBoxView({ onFiles, dragging }: { onFiles(files: ShareInput[], withPeople?: string[]): void; dragging: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const chosenInput = useRef<HTMLInputElement>(null);
  const chosen = useRef<string[]>([]);
  const [picking, setPicking] = useState(false);
  const people = useContext(PeopleContext);
  const take = (e: Event) => {
    const el = e.target as HTMLInputElement;
    const files = [...(el.files ?? [])];
    el.value = ''; // the same file or folder can be chosen again
    return files;
  };
  const picked = (e: Event) => {
    const files = take(e);
    if (files.length) onFiles(files);
  };
  const pickedForChosen = (e: Event) => {
    const files = take(e);
    if (files.length && chosen.current.length) onFiles(files, chosen.current);
  };
  const choose = (c: Choice) => {
    chosen.current = c.people;
    setPicking(false);
    chosenInput.current?.click(); // still within the click's user activation
  };
  return (
    <section class={`card share ${dragging ? 'dragging' : ''}`}>
      <button type="button" class="share-button primary big" onClick={() => input.current?.click()}>
        Share files
      </button>
      <button type="button" class="share-folder" onClick={() => folderInput.current?.click()}>
        Share a folder
      </button>
      <button type="button" class="share-with" onClick={() => setPicking(true)} aria-haspopup="dialog">
        Share with…
      </button>
      {picking && (
        <AudiencePicker
          title="Share files with chosen people" people={people} confirm="Choose files for them" roomOption={false}
          onChoose={choose} onClose={() => setPicking(false)}
        />
      )}
      <input ref={chosenInput} id="chosen-file-input" class="visually-hidden" type="file" multiple tabIndex={-1} aria-hidden="true" onChange={pickedForChosen} />
      <input
        ref={input}
        id="file-input"
        class="visually-hidden"
        type="file"
        multiple
        tabIndex={-1}
        aria-hidden="true"
        onChange={picked}
      />
      {/* Each file of a picked folder carries its webkitRelativePath ("photos/2024/a.jpg"): intents.share keeps it. */}
      <input
        ref={folderInput}
        id="folder-input"
        class="visually-hidden"
        type="file"
        {...{ webkitdirectory: true }}
        tabIndex={-1}
        aria-hidden="true"
        onChange={picked}
      />
      <p class="hint drop-hint">or drop files or folders anywhere on this page</p>
    </section>
  );
}
