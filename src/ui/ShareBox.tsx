import { useRef } from 'preact/hooks';

/**
 * A real button that opens a hidden file input (a label would take no focus
 * ring); dropping anywhere on the page works too (see RoomView). On touch
 * screens the button fills the box and the drop hint is hidden (styles.css).
 */
export function ShareBox({ onFiles, dragging }: { onFiles(files: File[]): void; dragging: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <section class={`card share ${dragging ? 'dragging' : ''}`}>
      <button type="button" class="share-button primary big" onClick={() => input.current?.click()}>
        Share files
      </button>
      <input
        ref={input}
        id="file-input"
        class="visually-hidden"
        type="file"
        multiple
        tabIndex={-1}
        aria-hidden="true"
        onChange={(e) => {
          const el = e.target as HTMLInputElement;
          const files = [...(el.files ?? [])];
          el.value = ''; // the same file can be chosen again
          if (files.length) onFiles(files);
        }}
      />
      <p class="hint drop-hint">or drop files anywhere on this page</p>
    </section>
  );
}
