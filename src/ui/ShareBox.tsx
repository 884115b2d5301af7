import { useRef } from 'preact/hooks';
import type { ShareInput } from '../app/intents.ts';

/**
 * A real button that opens a hidden file input (a label would take no focus
 * ring); dropping anywhere on the page works too (see RoomView). On touch
 * screens the button fills the box and the drop hint is hidden (styles.css).
 */
export function ShareBox({ onFiles, dragging }: { onFiles(files: ShareInput[]): void; dragging: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const picked = (e: Event) => {
    const el = e.target as HTMLInputElement;
    const files = [...(el.files ?? [])];
    el.value = ''; // the same file or folder can be chosen again
    if (files.length) onFiles(files);
  };
  return (
    <section class={`card share ${dragging ? 'dragging' : ''}`}>
      <button type="button" class="share-button primary big" onClick={() => input.current?.click()}>
        Share files
      </button>
      <button type="button" class="share-folder" onClick={() => folderInput.current?.click()}>
        Share a folder
      </button>
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
