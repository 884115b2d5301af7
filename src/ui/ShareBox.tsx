import { useRef } from 'preact/hooks';

/** A real file input behind a big button; dropping anywhere on the page works too (see RoomView). */
export function ShareBox({ onFiles, dragging }: { onFiles(files: File[]): void; dragging: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <section class={`card share ${dragging ? 'dragging' : ''}`}>
      <label class="share-button primary big" for="file-input">
        Share files
      </label>
      <input
        ref={input}
        id="file-input"
        class="visually-hidden"
        type="file"
        multiple
        onChange={(e) => {
          const el = e.target as HTMLInputElement;
          const files = [...(el.files ?? [])];
          el.value = ''; // the same file can be chosen again
          if (files.length) onFiles(files);
        }}
      />
      <p class="hint">or drop files anywhere on this page</p>
    </section>
  );
}
