import type { Engine } from '../app/engine.ts';
import type { FileView } from '../app/state.ts';
import { buildFolderTree } from '../core/folder-tree.ts';
import { FileRow, type FileIntents } from './FileRow.tsx';
import { FolderEntry } from './FolderEntry.tsx';
import { SelectionBar, type Selection } from './SelectionBar.tsx';
import { usePage } from './ShowMore.tsx';
import { useZipSave } from './use-zip-save.ts';
import { ZipButton } from './ZipButton.tsx';
import './folders.css';

/**
 * The room's files as the list shows them: each shared folder one entry, then
 * the files shared on their own, a page at a time. While a search is on
 * (`search` is its key), only matching files are given, folders open to show
 * them, and a new search starts again at the first page.
 */
export function FileTree({ files, engine, intents, selection, search = '' }: { files: readonly FileView[]; engine: Engine; intents: FileIntents; selection: Selection; search?: string }) {
  const tree = buildFolderTree(files);
  const { limit, more } = usePage(tree.folders.length + tree.loose.length, search);
  const folders = tree.folders.slice(0, limit);
  const loose = tree.loose.slice(0, limit - folders.length);
  const searching = search !== '';
  return (
    <>
      {folders.map((folder) => (
        // Keyed by search mode too: entering a search opens the folders, leaving it closes them again.
        <FolderEntry key={`${folder.path}${searching ? '\0s' : ''}`} folder={folder} engine={engine} intents={intents} selection={selection} matching={searching} />
      ))}
      {loose.map((f) => (
        <FileRow key={f.meta.id} file={f} intents={intents} selection={selection} />
      ))}
      {more}
    </>
  );
}

/**
 * Above the list, below the search box they depend on: Download all (the
 * room's files as one zip; while a search is on, only the `shown` matches,
 * and labelled so) and, once files are ticked, what to do with them.
 */
export function FileActions({ files, shown = files, searching = false, engine, selection }: { files: readonly FileView[]; shown?: readonly FileView[]; searching?: boolean; engine: Engine; selection: Selection }) {
  const [phase, startZip] = useZipSave(engine);
  // Only a search's labels give the count: formatting it cost ~0.5 ms per render on a throttled phone (profiled).
  const count = searching ? shown.length.toLocaleString('en-US') : '';
  return (
    <div class="file-list-actions">
      {shown.length > 1 && <ZipButton
        files={shown}
        label={searching ? `Download ${count} matches` : 'Download all'}
        name={searching ? `Download the ${count} files matching the search as a zip` : 'Download all files of this room as a zip'}
        phase={phase}
        onStart={() => startZip(shown.map((f) => f.meta.id), searching ? 'meshdrop matches' : 'meshdrop room')}
      />}
      <SelectionBar files={files} shown={shown} selection={selection} engine={engine} />
    </div>
  );
}
