import { useEffect, useState } from 'preact/hooks';
import { MAX_DISPLAY_NAME } from '../core/names.ts';

/** Your display name, editable in place; saved on blur or Enter. */
export function NameEditor({ name, onRename }: { name: string; onRename(name: string): void }) {
  const [draft, setDraft] = useState(name);
  useEffect(() => setDraft(name), [name]);
  const commit = () => {
    if (draft.trim() && draft.trim() !== name) onRename(draft);
    else setDraft(name);
  };
  return (
    <section class="card you">
      <label for="display-name">Your name in this room</label>
      <input
        id="display-name"
        value={draft}
        maxLength={MAX_DISPLAY_NAME}
        autocomplete="nickname"
        onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
        }}
      />
    </section>
  );
}
