import { FILE_CATEGORIES, type FileCategory } from './file-category.ts';
import { MAX_LOG, MAX_RULES, MAX_SEEN, type EntryOutcome, type FetchRule, type RuleEntry, type RuleRecord } from './fetch-rules.ts';
import { err, ok, type Result } from './result.ts';

/**
 * Rules and what they did, as kept in the Store's prefs (one JSON value per
 * room). Read back from storage, an older or damaged value is an error value
 * (the app starts with no rules and says so), never an exception; limits are
 * checked, as for anything decoded.
 */
export const FETCH_RULES_VERSION = 1;

interface Stored {
  v: number;
  rules: { rule: FetchRule; seen: string[]; log: RuleEntry[] }[];
}

export function encodeFetchRules(records: readonly RuleRecord[]): string {
  const stored: Stored = { v: FETCH_RULES_VERSION, rules: records.map((r) => ({ rule: r.rule, seen: [...r.seen], log: r.log })) };
  return JSON.stringify(stored);
}

const FILE_ID_RE = /^[0-9a-f]{64}$/;
const PEER_ID_RE = /^[A-Za-z0-9_-]{16}$/;
const RULE_ID_RE = /^[0-9a-f]{8,64}$/;
const MAX_TEXT = 1000;
const OUTCOMES: readonly EntryOutcome[] = ['fetched', 'skipped', 'undone'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function decodeFetchRules(raw: string | undefined): Result<RuleRecord[]> {
  if (raw === undefined) return ok([]);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    return err('ERR_RULES', `stored rules are not JSON (${(e as Error).message})`);
  }
  if (!isObject(value) || value.v !== FETCH_RULES_VERSION || !Array.isArray(value.rules)) return err('ERR_RULES', 'stored rules have an unknown format');
  if (value.rules.length > MAX_RULES) return err('ERR_RULES', `more than ${MAX_RULES} stored rules`);
  const records: RuleRecord[] = [];
  for (const item of value.rules) {
    const record = decodeRecord(item);
    if (typeof record === 'string') return err('ERR_RULES', `a stored rule is damaged: ${record}`);
    records.push(record);
  }
  return ok(records);
}

function decodeRecord(item: unknown): RuleRecord | string {
  if (!isObject(item)) return 'not an object';
  const rule = decodeRule(item.rule);
  if (typeof rule === 'string') return rule;
  const { seen, log } = item;
  if (!Array.isArray(seen) || seen.length > MAX_SEEN || !seen.every((id) => typeof id === 'string' && FILE_ID_RE.test(id))) return 'bad seen list';
  if (!Array.isArray(log) || log.length > MAX_LOG) return 'bad log';
  const entries: RuleEntry[] = [];
  for (const e of log) {
    const entry = decodeEntry(e);
    if (!entry) return 'bad log entry';
    entries.push(entry);
  }
  return { rule, seen: new Set(seen as string[]), log: entries };
}

function decodeRule(v: unknown): FetchRule | string {
  if (!isObject(v)) return 'no rule';
  const { id, from, fromName, category, maxBytes, createdAt } = v;
  if (typeof id !== 'string' || !RULE_ID_RE.test(id) || !isTime(createdAt)) return 'bad id or time';
  if (from !== undefined && (typeof from !== 'string' || !PEER_ID_RE.test(from))) return 'bad person';
  if (fromName !== undefined && !isText(fromName)) return 'bad name';
  if (category !== undefined && !FILE_CATEGORIES.includes(category as FileCategory)) return 'bad category';
  if (maxBytes !== undefined && !isCount(maxBytes)) return 'bad size limit';
  return {
    id, createdAt,
    ...(from === undefined ? {} : { from }),
    ...(fromName === undefined ? {} : { fromName }),
    ...(category === undefined ? {} : { category: category as FileCategory }),
    ...(maxBytes === undefined ? {} : { maxBytes }),
  };
}

function decodeEntry(v: unknown): RuleEntry | null {
  if (!isObject(v)) return null;
  const { fileId, name, size, outcome, reason, kept, at } = v;
  if (typeof fileId !== 'string' || !FILE_ID_RE.test(fileId) || !isText(name) || !isCount(size) || !isTime(at)) return null;
  if (!OUTCOMES.includes(outcome as EntryOutcome) || (reason !== undefined && !isText(reason)) || (kept !== undefined && typeof kept !== 'boolean')) return null;
  return { fileId, name, size, outcome: outcome as EntryOutcome, at, ...(reason === undefined ? {} : { reason }), ...(kept === undefined ? {} : { kept }) };
}
