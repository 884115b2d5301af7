import type { Engine } from '../app/engine.ts';
import type { FileView } from '../app/state.ts';
import { buildFolderTree } from '../core/folder-tree.ts';
import { FileRow, type FileIntents } from './FileRow.tsx';
import { FolderEntry } from './FolderEntry.tsx';
import { SelectionBar, type Selection } from './SelectionBar.tsx';
import { useZipSave } from './use-zip-save.ts';
import { ZipButton } from './ZipButton.tsx';
import './folders.css';

/** The room's files as the list shows them: each shared folder one entry, then the files shared on their own. */
export function FileTree({ files, engine, intents, selection }: { files: readonly FileView[]; engine: Engine; intents: FileIntents; selection: Selection }) {
  const tree = buildFolderTree(files);
  return (
    <>
      {tree.folders.map((folder) => (
        <FolderEntry key={folder.path} folder={folder} engine={engine} intents={intents} selection={selection} />
      ))}
      {tree.loose.map((f) => (
        <FileRow key={f.meta.id} file={f} intents={intents} selection={selection} />
      ))}
    </>
  );
}

/** Above the list: Download all (the whole room as one zip) and, once files are ticked, what to do with them. */
export function FileActions({ files, engine, selection }: { files: readonly FileView[]; engine: Engine; selection: Selection }) {
  const [phase, startZip] = useZipSave(engine);
  return (
    <div class="file-list-actions">
      {files.length > 1 && <ZipButton
        files={files}
        label="Download all"
        name="Download all files of this room as a zip"
        phase={phase}
        onStart={() => startZip(files.map((f) => f.meta.id), 'meshdrop room')}
      />}
      <SelectionBar files={files} selection={selection} engine={engine} />
    </div>
  );
}
