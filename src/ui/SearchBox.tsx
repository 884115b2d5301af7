import type { FileCategory } from '../core/file-category.ts';
import './search.css';

/** The kinds a person picks with a chip; "other" is whatever is none of these, not something one looks for. */
const CHIPS: readonly [FileCategory, string][] = [
  ['image', 'Images'],
  ['video', 'Video'],
  ['audio', 'Audio'],
  ['document', 'Documents'],
  ['archive', 'Archives'],
];

export interface SearchInput {
  text: string;
  chips: readonly FileCategory[];
}

/**
 * The search box over the room's files: it filters as one types (on input,
 * no timer: matching a thousand files takes well under a millisecond), and
 * chips (toggle buttons) narrow to kinds of file. Says how many files match.
 */
export function SearchBox({ value, onChange, matched, total }: { value: SearchInput; onChange(v: SearchInput): void; matched: number; total: number }) {
  const toggle = (kind: FileCategory) =>
    onChange({ ...value, chips: value.chips.includes(kind) ? value.chips.filter((c) => c !== kind) : [...value.chips, kind] });
  const active = value.text.trim() !== '' || value.chips.length > 0;
  return (
    <div class="search" role="search">
      <input
        type="search"
        class="search-input"
        aria-label="Search files"
        placeholder="Search by name, kind or person"
        value={value.text}
        onInput={(e) => onChange({ ...value, text: (e.target as HTMLInputElement).value })}
      />
      <div class="chips" role="group" aria-label="Kinds of file">
        {CHIPS.map(([kind, label]) => (
          <button type="button" class="chip" key={kind} aria-pressed={value.chips.includes(kind)} onClick={() => toggle(kind)}>
            {label}
          </button>
        ))}
      </div>
      <p class="hint match-count" role="status">
        {active ? `${count(matched)} of ${count(total)} ${total === 1 ? 'file' : 'files'}` : ''}
      </p>
    </div>
  );
}

const count = (n: number) => n.toLocaleString('en-US');
