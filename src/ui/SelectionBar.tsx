import { useState } from 'preact/hooks';
import type { Engine } from '../app/engine.ts';
import type { FileView } from '../app/state.ts';
import { useZipSave } from './use-zip-save.ts';
import { ZipButton } from './ZipButton.tsx';

/** Which files the person ticked, by id. Ids of files that left the room simply match nothing. */
export interface Selection {
  has(id: string): boolean;
  toggle(id: string): void;
  /** Ticks (or unticks) all of these at once: a folder's box. */
  setAll(ids: readonly string[], on: boolean): void;
  clear(): void;
  ids: ReadonlySet<string>;
}

export function useSelection(): Selection {
  const [ids, setIds] = useState<ReadonlySet<string>>(new Set());
  return {
    ids,
    has: (id) => ids.has(id),
    toggle: (id) =>
      setIds((prev) => {
        const next = new Set(prev);
        if (!next.delete(id)) next.add(id);
        return next;
      }),
    setAll: (some, on) =>
      setIds((prev) => {
        const next = new Set(prev);
        for (const id of some) if (on) next.add(id); else next.delete(id);
        return next;
      }),
    clear: () => setIds(new Set()),
  };
}

/** A folder's checkbox: ticked when every file below is, and ticking it ticks them all. */
export function SelectFolderBox({ name, fileIds, selection }: { name: string; fileIds: readonly string[]; selection: Selection }) {
  const all = fileIds.length > 0 && fileIds.every((id) => selection.has(id));
  return (
    <label class="select-box">
      <input type="checkbox" checked={all} onChange={() => selection.setAll(fileIds, !all)} />
      <span class="visually-hidden">Select all files in {name}</span>
    </label>
  );
}

/** A file's checkbox, labelled with its name (a real <input>, so Space toggles it and screen readers say what it selects). */
export function SelectBox({ file, selection }: { file: FileView; selection: Selection }) {
  return (
    <label class="select-box">
      <input type="checkbox" checked={selection.has(file.meta.id)} onChange={() => selection.toggle(file.meta.id)} />
      {/* The folder is in the name: two folders can each hold an a.jpg. */}
      <span class="visually-hidden">Select {file.meta.path ? `${file.meta.path}/` : ''}{file.meta.name}</span>
    </label>
  );
}

/**
 * What the bar says: how many are ticked and, while a search hides some of
 * them, how many of those it hides. The selection outlives a search (tick
 * some, search again, tick more, download them together), so the bar acts on
 * every ticked file, and says so rather than acting on files out of sight.
 */
function selectionText(selected: number, hidden: number): string {
  return hidden === 0 ? `${selected} selected` : `${selected} selected, ${hidden} hidden by the search`;
}

/**
 * Actions on the ticked files (`shown` is what the search lets through):
 * Download selected (one zip, fetching what is not here first), Remove
 * selected (from this device; files only listed, not held, have nothing to
 * remove), and clearing the selection.
 */
export function SelectionBar({ files, shown, selection, engine }: { files: readonly FileView[]; shown: readonly FileView[]; selection: Selection; engine: Engine }) {
  const [phase, startZip] = useZipSave(engine);
  const chosen = files.filter((f) => selection.has(f.meta.id));
  if (chosen.length === 0 && (phase.kind === 'idle' || phase.kind === 'saved')) return null;
  const visible = new Set(shown.map((f) => f.meta.id));
  const hiddenOf = (some: readonly FileView[]) => some.filter((f) => !visible.has(f.meta.id)).length;
  const unseen = (n: number) => (n === 0 ? '' : ` (${n} hidden by the search)`);
  const removable = chosen.filter((f) => f.status === 'complete' || f.bytesDone > 0 || f.status === 'error');
  const remove = () => {
    for (const f of removable) void engine.remove(f.meta.id);
    selection.clear();
  };
  return (
    <div class="selection-bar" role="region" aria-label="Selected files">
      <span class="selection-count">{selectionText(chosen.length, hiddenOf(chosen))}</span>
      <ZipButton files={chosen} label="Download selected" name={`Download selected files as a zip${unseen(hiddenOf(chosen))}`} phase={phase} onStart={() => startZip(chosen.map((f) => f.meta.id), 'meshdrop selection')} />
      <button type="button" onClick={remove} disabled={removable.length === 0} aria-label={`Remove the ${removable.length} selected files held on this device${unseen(hiddenOf(removable))}`}>
        Remove selected
      </button>
      <button type="button" class="quiet" onClick={selection.clear}>
        Clear selection
      </button>
    </div>
  );
}
