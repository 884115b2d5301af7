import { topFolder } from './folder-path.ts';

/**
 * The room's files arranged as the person shared them: files with a folder
 * path grouped under their top folder, which the room shows as one entry.
 * Pure: built from the files' own paths, sizes and progress on every render,
 * so a folder's totals can never disagree with its files. Folders with the
 * same top name from different sharers are one entry (as on a shared drive);
 * a file stays where its own path puts it.
 */
export interface TreeFile {
  meta: { id: string; name: string; size: number; path?: string };
  bytesDone: number;
  status: string;
}

export interface FolderNode<F extends TreeFile> {
  name: string;
  /** The full folder path ("photos/2024"): a stable key. */
  path: string;
  folders: FolderNode<F>[];
  files: F[];
  /** Totals over everything below. */
  size: number;
  bytesDone: number;
  fileCount: number;
  completeCount: number;
}

export interface RoomTree<F extends TreeFile> {
  folders: FolderNode<F>[];
  /** Files shared on their own. */
  loose: F[];
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

function emptyNode<F extends TreeFile>(name: string, path: string): FolderNode<F> {
  return { name, path, folders: [], files: [], size: 0, bytesDone: 0, fileCount: 0, completeCount: 0 };
}

/** The chain of nodes from the top folder down to `path`'s own, made on the way down. */
function nodeAt<F extends TreeFile>(roots: Map<string, FolderNode<F>>, path: string): FolderNode<F>[] {
  const segments = path.split('/');
  const top = topFolder(path);
  let node: FolderNode<F> = roots.get(top) ?? emptyNode<F>(top, top);
  roots.set(top, node);
  const chain = [node];
  for (let i = 1; i < segments.length; i++) {
    const sub = segments.slice(0, i + 1).join('/');
    let child: FolderNode<F> | undefined = node.folders.find((f) => f.path === sub);
    if (!child) node.folders.push((child = emptyNode<F>(segments[i]!, sub)));
    node = child;
    chain.push(node);
  }
  return chain;
}

function sortNode<F extends TreeFile>(node: FolderNode<F>): void {
  node.folders.sort(byName);
  node.files.sort((a, b) => a.meta.name.localeCompare(b.meta.name));
  node.folders.forEach(sortNode);
}

export function buildFolderTree<F extends TreeFile>(files: readonly F[]): RoomTree<F> {
  const roots = new Map<string, FolderNode<F>>();
  const loose: F[] = [];
  for (const f of files) {
    if (f.meta.path === undefined) {
      loose.push(f);
      continue;
    }
    const chain = nodeAt(roots, f.meta.path);
    chain[chain.length - 1]!.files.push(f);
    for (const node of chain) {
      node.size += f.meta.size;
      node.bytesDone += Math.min(f.bytesDone, f.meta.size);
      node.fileCount++;
      if (f.status === 'complete') node.completeCount++;
    }
  }
  const folders = [...roots.values()].sort(byName);
  folders.forEach(sortNode);
  return { folders, loose: loose.sort((a, b) => a.meta.name.localeCompare(b.meta.name)) };
}

/** Every file below a folder, depth first (what its Download all zips). */
export function filesUnder<F extends TreeFile>(node: FolderNode<F>): F[] {
  return [...node.files, ...node.folders.flatMap((f) => filesUnder(f))];
}
