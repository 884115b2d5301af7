import { useEffect, useState } from 'preact/hooks';
import { MAX_DISPLAY_NAME_BYTES, cleanDisplayName } from '../core/names.ts';
import { sameProps, skipUnchanged } from './skip-unchanged.ts';

const EMPTY_NAME = 'A name needs at least one visible character';

/**
 * Your display name, editable in place; saved on blur or Enter. A name with
 * nothing visible is refused out loud, not silently swapped for the old one.
 */
export const NameEditor = skipUnchanged(NameEditorView, sameProps);

function NameEditorView({ name, onRename }: { name: string; onRename(name: string): void }) {
  const [draft, setDraft] = useState(name);
  const [refused, setRefused] = useState(false);
  useEffect(() => {
    setDraft(name);
    setRefused(false);
  }, [name]);
  const commit = () => {
    const clean = cleanDisplayName(draft);
    setRefused(!clean);
    if (!clean) return; // keep the draft on screen so it can be fixed
    if (clean !== name) onRename(draft);
    setDraft(clean); // show what everyone else will see
  };
  return (
    <section class="card you">
      <label for="display-name">Your name in this room</label>
      <input
        id="display-name"
        value={draft}
        // A loose bound: cleanDisplayName cuts by graphemes, and one emoji can be 11 code units.
        maxLength={MAX_DISPLAY_NAME_BYTES}
        autocomplete="nickname"
        aria-invalid={refused}
        aria-describedby={refused ? 'display-name-error' : undefined}
        onInput={(e) => {
          setDraft((e.target as HTMLInputElement).value);
          setRefused(false);
        }}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
        }}
      />
      {refused && (
        <p id="display-name-error" class="status error" role="alert">
          {EMPTY_NAME}
        </p>
      )}
    </section>
  );
}
