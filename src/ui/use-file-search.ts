import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { FileView } from '../app/state.ts';
import { parseQuery, search, searchEntry, isEmptyQuery, type SearchEntry } from '../core/search.ts';
import type { SearchInput } from './SearchBox.tsx';

/** A pause in typing this long sends the search to the room: one query per search, not one per keystroke. */
const ASK_AFTER_MS = 500;

interface Cached {
  key: string;
  entry: SearchEntry<string>;
}

/**
 * The search box's state and the files it lets through. Each file's search
 * text is made once and kept until what it is made of changes (the state is
 * rebuilt ten times a second while anything moves; folding a thousand names
 * each time would be waste), so a keystroke costs one pass of substring tests.
 * Once typing pauses, the search is also asked of the room (`askRoom`: the
 * engine sends it only where the catalogue may lack files), and answers
 * arrive as files of the same list.
 */
export function useFileSearch(files: readonly FileView[], askRoom: (text: string) => void) {
  const [input, setInput] = useState<SearchInput>({ text: '', chips: [] });
  useEffect(() => {
    if (input.text.trim() === '') return; // a kind alone (a chip) would ask for a good part of the room
    const timer = setTimeout(() => askRoom([input.text, ...input.chips.map((c) => `type:${c}`)].join(' ')), ASK_AFTER_MS);
    return () => clearTimeout(timer);
  }, [input]);
  const cache = useRef(new Map<string, Cached>());
  const query = useMemo(() => parseQuery(input.text, input.chips), [input]); // folds the text: not again on each render
  const searching = !isEmptyQuery(query);
  let shown: readonly FileView[] = files;
  if (searching) {
    const byId = new Map(files.map((f) => [f.meta.id, f]));
    shown = search(files.map((f) => entryFor(cache.current, f)), query).map((id) => byId.get(id)!);
  }
  // The key of the current search: a new search starts its list at one page again.
  const key = searching ? `${[...query.categories].sort().join(',')}|${query.words.join(' ')}` : '';
  return { input, setInput, searching, key, shown };
}

function entryFor(cache: Map<string, Cached>, f: FileView): SearchEntry<string> {
  const people = f.holders.map((h) => h.name);
  const key = [f.meta.name, f.meta.path ?? '', f.meta.mime, ...f.otherNames, '\0', ...people].join('\n');
  const hit = cache.get(f.meta.id);
  if (hit?.key === key) return hit.entry;
  if (cache.size > 50_000) cache.clear(); // files that left the room: a bound, not a policy
  const entry = searchEntry(f.meta.id, { name: f.meta.name, path: f.meta.path, mime: f.meta.mime, otherNames: f.otherNames, people });
  cache.set(f.meta.id, { key, entry });
  return entry;
}
