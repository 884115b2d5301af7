import { useState } from 'preact/hooks';
import type { NewRule, RuleEntryView, RuleIntents as AllRuleIntents, RuleView } from '../app/auto-fetch.ts';
import type { AppState } from '../app/state.ts';
import { MiB } from '../core/fetch-rules.ts';
import { FILE_CATEGORIES, type FileCategory } from '../core/file-category.ts';
import { formatBytes } from './format.ts';
import { sameProps, skipUnchanged } from './skip-unchanged.ts';
import './rules.css';

type RuleIntents = Pick<AllRuleIntents, 'addRule' | 'removeRule' | 'undoRule'>;

const KIND_LABEL: Record<FileCategory, string> = {
  image: 'Images', video: 'Videos', audio: 'Audio', document: 'Documents', archive: 'Archives', other: 'Other files',
};

export interface RulePerson {
  id: string;
  name: string;
}

/** People a rule can name: those present, sharers of files listed here (a sharer may be known only by gossip), people met before. */
export function rulePeople(state: AppState): RulePerson[] {
  const byId = new Map<string, string>();
  for (const p of state.peers) if (p.name !== null) byId.set(p.id, p.name);
  for (const p of state.known) if (!byId.has(p.id)) byId.set(p.id, p.name);
  for (const f of state.files) for (const h of f.holders) if (!h.self && h.name !== null && !byId.has(h.id)) byId.set(h.id, h.name);
  return [...byId].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * "Fetch automatically": the room's rules, collapsed until opened. A rule
 * names a person, a kind of file and a size limit; the list says what each
 * rule fetched or skipped, and each can be removed or undone.
 */
export const AutoFetchPanel = skipUnchanged(AutoFetchPanelView, sameProps);

interface PanelProps {
  rules: AppState['rules'];
  /** rulePeople(state), the same array while it is equal (RoomView): the panel then skips renders during a transfer. */
  people: readonly RulePerson[];
  intents: RuleIntents;
}

function AutoFetchPanelView({ rules, people, intents }: PanelProps) {
  const { list, waiting } = rules;
  return (
    <details class="card rules">
      <summary>
        <h2 id="rules-title">
          Fetch automatically {list.length > 0 && <span class="count">{list.length}</span>}
        </h2>
      </summary>
      <p class="hint">Rules download new files for you as they are shared here, within this browser's storage.</p>
      <RuleForm choices={people} add={intents.addRule} />
      {list.length > 0 && (
        <ul class="rule-list" aria-label="Your rules">
          {list.map((r) => <RuleItem key={r.id} rule={r} intents={intents} />)}
        </ul>
      )}
      {waiting > 0 && <p class="hint">{waiting} more {waiting === 1 ? 'file waits' : 'files wait'} for a running download to finish.</p>}
    </details>
  );
}

function RuleForm({ choices, add }: { choices: readonly RulePerson[]; add(rule: NewRule): boolean }) {
  const [from, setFrom] = useState('');
  const [kind, setKind] = useState('');
  const [limit, setLimit] = useState('');
  const [existing, setExisting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = (e: Event) => {
    e.preventDefault();
    const mib = limit.trim() === '' ? undefined : Number(limit);
    if (mib !== undefined && !(mib > 0 && Number.isFinite(mib))) return setError('The size limit must be a number of MiB above 0.');
    const name = choices.find((p) => p.id === from)?.name;
    const rule: NewRule = {
      ...(from ? { from, ...(name ? { fromName: name } : {}) } : {}),
      ...(kind ? { category: kind as FileCategory } : {}),
      ...(mib === undefined ? {} : { maxBytes: Math.round(mib * MiB) }),
      existing,
    };
    if (!add(rule)) return setError('The rule could not be added.');
    setError(null);
    setLimit('');
    setExisting(false);
  };
  return (
    <form class="rule-form" onSubmit={submit}>
      <div class="rule-fields">
        <span>
          <label for="rule-from">From</label>
          <select id="rule-from" value={from} onChange={(e) => setFrom((e.target as HTMLSelectElement).value)}>
            <option value="">Anyone</option>
            {choices.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
          </select>
        </span>
        <span>
          <label for="rule-kind">Kind</label>
          <select id="rule-kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
            <option value="">Any kind</option>
            {FILE_CATEGORIES.map((c) => <option key={c} value={c}>{KIND_LABEL[c]}</option>)}
          </select>
        </span>
        <span>
          <label for="rule-limit">Up to (MiB, optional)</label>
          <input id="rule-limit" type="number" inputMode="decimal" min="0" step="any" value={limit} onInput={(e) => setLimit((e.target as HTMLInputElement).value)} />
        </span>
      </div>
      <label class="check">
        <input type="checkbox" checked={existing} onChange={(e) => setExisting((e.target as HTMLInputElement).checked)} />
        Also fetch matching files already here
      </label>
      {error && <p class="status error" role="alert">{error}</p>}
      <button type="submit" class="primary">Add rule</button>
    </form>
  );
}

function RuleItem({ rule, intents }: { rule: RuleView; intents: RuleIntents }) {
  const [confirming, setConfirming] = useState(false);
  return (
    <li class="rule">
      <div class="rule-head">
        <div class="rule-text">
          <strong>{rule.text}</strong>
          <div class="status">
            Fetched {rule.fetched} · skipped {rule.skipped}
          </div>
        </div>
        <div class="file-actions">
          {rule.canUndo && !confirming && (
            <button onClick={() => setConfirming(true)} aria-label={`Undo what “${rule.text}” fetched`}>
              Undo…
            </button>
          )}
          <button class="quiet" onClick={() => intents.removeRule(rule.id)} aria-label={`Remove rule “${rule.text}”`}>
            Remove
          </button>
        </div>
      </div>
      {confirming && (
        <div class="warning rule-confirm" role="group" aria-label="Confirm undo">
          <p>
            Delete the files this rule fetched from this device, and stop its downloads? Files you saved stay. The rule stays, and
            will not fetch them again.
          </p>
          <button class="primary" onClick={() => void intents.undoRule(rule.id).finally(() => setConfirming(false))}>
            Delete them
          </button>
          <button onClick={() => setConfirming(false)}>Keep them</button>
        </div>
      )}
      {rule.entries.length > 0 && (
        <ul class="rule-entries">
          {rule.entries.map((e) => <li key={e.fileId}>{e.name} · {formatBytes(e.size)} · {entryText(e)}</li>)}
        </ul>
      )}
    </li>
  );
}

function entryText(e: RuleEntryView): string {
  if (e.outcome === 'skipped') return `skipped: ${e.reason ?? 'did not fit'}`;
  if (e.outcome === 'undone') return 'undone';
  const kept = e.kept ? ', kept by you' : '';
  return e.state === 'fetching' ? `fetching${kept}` : e.state === 'here' ? `fetched${kept}` : 'removed since';
}
