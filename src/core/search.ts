import { FILE_CATEGORIES, fileCategory, type FileCategory } from './file-category.ts';

/**
 * Searching the room's files: what a person types, parsed once, matched
 * against a lowercase text made once per file (its name, folder path, other
 * names, kind and the people who hold it). Pure, so the search box and the
 * answers to a room query (gossip/query.ts) match by the same rules.
 *
 * A query is words, every one of which must occur in the file's text
 * ("beach 2024" finds "2024/beach.jpg"), and kinds ("type:image", or the
 * chips the search box passes in), one of which the file must be. Case and
 * accents do not matter: "cafe" finds "Café.pdf".
 */
export interface SearchQuery {
  words: readonly string[];
  /** Empty: any kind. */
  categories: ReadonlySet<FileCategory>;
}

/** What a file is known by, for matching. */
export interface Searchable {
  name: string;
  path?: string | undefined;
  mime: string;
  otherNames?: readonly string[];
  /** Display names of the people who share or hold it. */
  people?: readonly (string | null)[];
}

export interface SearchEntry<T> {
  item: T;
  category: FileCategory;
  text: string;
}

/** Words a person might type for a kind: the text of a file of that kind holds them all, so "photos" finds images. */
const CATEGORY_WORDS: Record<FileCategory, string> = {
  image: 'image images photo photos picture pictures',
  video: 'video videos movie movies film',
  audio: 'audio music song songs sound',
  document: 'document documents doc docs text',
  archive: 'archive archives compressed',
  other: '',
};

/** "type:" values a person may write, by kind. */
const TYPE_NAMES = new Map<string, FileCategory>(
  FILE_CATEGORIES.flatMap((c) => CATEGORY_WORDS[c].split(' ').filter(Boolean).map((w): [string, FileCategory] => [w, c])).concat(
    FILE_CATEGORIES.map((c): [string, FileCategory] => [c, c]),
  ),
);

/** Lowercase, accents dropped, so the person need not type them. */
export function foldText(text: string): string {
  return text.toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '');
}

/** Parses what was typed; `chips` are kinds chosen apart from the text (the search box's buttons). */
export function parseQuery(text: string, chips: readonly FileCategory[] = []): SearchQuery {
  const categories = new Set<FileCategory>(chips);
  const words: string[] = [];
  for (const token of foldText(text).split(/\s+/)) {
    if (token === '') continue;
    const kind = token.startsWith('type:') ? TYPE_NAMES.get(token.slice(5)) : undefined;
    if (kind) categories.add(kind);
    else words.push(token); // an unknown "type:x" stays a word, and so matches only a file that says it
  }
  return { words, categories };
}

/** Whether the query asks anything: an empty one matches every file. */
export function isEmptyQuery(q: SearchQuery): boolean {
  return q.words.length === 0 && q.categories.size === 0;
}

export function searchEntry<T>(item: T, file: Searchable): SearchEntry<T> {
  const category = fileCategory(file.mime, file.name);
  const parts = [file.name, file.path ?? '', ...(file.otherNames ?? []), ...(file.people ?? []).filter((p): p is string => p !== null), CATEGORY_WORDS[category]];
  return { item, category, text: foldText(parts.join('\n')) };
}

export function entryMatches(entry: SearchEntry<unknown>, q: SearchQuery): boolean {
  if (q.categories.size > 0 && !q.categories.has(entry.category)) return false;
  return q.words.every((w) => entry.text.includes(w));
}

/** The items whose entries match, in the entries' order. */
export function search<T>(entries: readonly SearchEntry<T>[], q: SearchQuery): T[] {
  if (isEmptyQuery(q)) return entries.map((e) => e.item);
  const out: T[] = [];
  for (const e of entries) if (entryMatches(e, q)) out.push(e.item);
  return out;
}

/** Whether one file matches: for answering a query without an index. */
export function fileMatches(file: Searchable, q: SearchQuery): boolean {
  return entryMatches(searchEntry(null, file), q);
}
