import { useState } from 'preact/hooks';
import type { Engine } from '../app/engine.ts';
import type { FileView } from '../app/state.ts';
import { filesUnder, type FolderNode } from '../core/folder-tree.ts';
import { FileRow, type FileIntents } from './FileRow.tsx';
import { barStyle, formatBytes, percent } from './format.ts';
import { SelectFolderBox, type Selection } from './SelectionBar.tsx';
import { usePage } from './ShowMore.tsx';
import { useZipSave } from './use-zip-save.ts';
import { ZipButton } from './ZipButton.tsx';

interface TreeProps {
  intents: FileIntents;
  selection: Selection;
}

/**
 * A shared folder: one entry in the room, with its total size and how much of
 * it is here, that expands (a disclosure button, aria-expanded) into its
 * tree of subfolders and files. Its Download all saves the whole folder as
 * one zip. While a search is on (`matching`), it holds only the files that
 * match, says so, opens to show them, and its zip is of those.
 */
export function FolderEntry({ folder, engine, matching = false, ...tree }: TreeProps & { folder: FolderNode<FileView>; engine: Engine; matching?: boolean }) {
  const [open, setOpen] = useState(matching);
  const [phase, startZip] = useZipSave(engine);
  const files = filesUnder(folder);
  const pct = percent(folder.bytesDone, folder.size);
  const listId = `folder-${encodeURIComponent(folder.path)}`; // ids cannot hold spaces
  return (
    <li class="folder" data-folder={folder.path}>
      <SelectFolderBox name={folder.path} fileIds={files.map((f) => f.meta.id)} selection={tree.selection} />
      <div class="file-main">
        <button type="button" class="disclosure" aria-expanded={open} aria-controls={listId} onClick={() => setOpen(!open)}>
          <span class="twisty" aria-hidden="true">{open ? '▾' : '▸'}</span>
          <span class="file-name">{folder.name}</span>
        </button>
        <div class="file-meta">
          Folder · {folder.fileCount} {matching ? 'matching ' : ''}{folder.fileCount === 1 ? 'file' : 'files'} · {formatBytes(folder.size)} ·{' '}
          {folder.completeCount === folder.fileCount ? 'all here' : `${pct}% here`}
        </div>
        <div class="progress" role="progressbar" aria-label={`${folder.name}: share of the folder on this device`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
          <div class="bar" style={barStyle(pct)} />
        </div>
      </div>
      <div class="file-actions">
        <ZipButton files={files} label={matching ? 'Download matches' : 'Download all'} name={matching ? `Download the matching files of ${folder.name} as a zip` : `Download all of ${folder.name} as a zip`} phase={phase} onStart={() => startZip(files.map((f) => f.meta.id), folder.name)} />
      </div>
      <ul class="tree" id={listId} hidden={!open}>
        {open && <Branch node={folder} {...tree} />}
      </ul>
    </li>
  );
}

/** A folder's contents: its subfolders (each a disclosure, open by default) then its files, a page at a time. */
function Branch({ node, ...tree }: TreeProps & { node: FolderNode<FileView> }) {
  const { limit, more } = usePage(node.folders.length + node.files.length);
  const folders = node.folders.slice(0, limit);
  return (
    <>
      {folders.map((sub) => (
        <SubFolder key={sub.path} node={sub} {...tree} />
      ))}
      {node.files.slice(0, limit - folders.length).map((f) => (
        <FileRow key={f.meta.id} file={f} intents={tree.intents} selection={tree.selection} />
      ))}
      {more}
    </>
  );
}

function SubFolder({ node, ...tree }: TreeProps & { node: FolderNode<FileView> }) {
  const [open, setOpen] = useState(true);
  const listId = `folder-${encodeURIComponent(node.path)}`;
  return (
    <li class="subfolder" data-folder={node.path}>
      <button type="button" class="disclosure" aria-expanded={open} aria-controls={listId} onClick={() => setOpen(!open)}>
        <span class="twisty" aria-hidden="true">{open ? '▾' : '▸'}</span>
        <span class="file-name">{node.name}</span>
        <span class="hint"> · {node.fileCount} {node.fileCount === 1 ? 'file' : 'files'} · {formatBytes(node.size)}</span>
      </button>
      <ul class="tree" id={listId} hidden={!open}>
        {open && <Branch node={node} {...tree} />}
      </ul>
    </li>
  );
}
