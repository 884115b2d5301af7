import { fileCategory, type FileCategory } from './file-category.ts';
import type { FileMeta } from './manifest/manifest.ts';

/**
 * Rules that fetch for the person, per room: "everything new from Alice up
 * to 100 MiB", "every new image". Pure: the app passes in what the room
 * offers, what we hold and how much storage is free; this says which files
 * start and which are skipped (and why), and remembers what each rule did.
 *
 * What "new" means: a file is new to a rule when the rule has not seen it
 * match before. When a rule is made, every file already in the room that
 * matches it is marked seen (unless the person asks for those too), and so is
 * every file it decides about after; seen ids are stored with the rule, so a
 * reload, or a sharer reloading and announcing again, fetches nothing twice,
 * and a file Undo deleted is not fetched again. A file first heard of after
 * the rule was made is new, even if its sharer shared it while we were away:
 * it is new to us.
 *
 * A finished draft keeps its rule: "add F was D" inherits what the rule did
 * with D (its download becomes F's by itself, see app/draft-fetch.ts).
 */
export interface FetchRule {
  id: string;
  /** The sharer's peer id (from its identity key: stable across names and reloads). */
  from?: string;
  /** The name they went by when the rule was made, shown while they are away. */
  fromName?: string;
  category?: FileCategory;
  /** Files larger than this are skipped (per file, in bytes). */
  maxBytes?: number;
  /** Wall-clock ms. */
  createdAt: number;
}

/** fetched: the rule started its download; skipped: it matched but did not fit; undone: fetched, then deleted by Undo. */
export type EntryOutcome = 'fetched' | 'skipped' | 'undone';

export interface RuleEntry {
  fileId: string;
  name: string;
  size: number;
  outcome: EntryOutcome;
  /** Why it was skipped, in words. */
  reason?: string;
  /** The person saved or asked for it themselves: Undo leaves it. */
  kept?: boolean;
  /** Wall-clock ms. */
  at: number;
}

export interface RuleRecord {
  rule: FetchRule;
  /** Ids this rule has decided about or found already here (in the order seen, bounded). */
  seen: Set<string>;
  /** What it did, oldest first, bounded. */
  log: RuleEntry[];
}

/** A file the room offers, as the app sees it. */
export interface Candidate {
  meta: Pick<FileMeta, 'id' | 'name' | 'size' | 'mime'>;
  /** Who announced it (its whole holders and a draft's origin). */
  holders: readonly string[];
  /** The draft id it was, when its sharer finished hashing it. */
  was?: string;
  /** Stored here or being fetched already (by anyone's wish). */
  held: boolean;
}

export interface Budget {
  /** Bytes of storage still free after what running downloads will need; null when the browser cannot tell. */
  free: number | null;
  /** How many more downloads rules may start now (the rest wait for a slot). */
  slots: number;
}

export interface Decision {
  start: { fileId: string; ruleId: string }[];
  skip: { fileId: string; ruleId: string; reason: string }[];
  /** New matching files left for a later pass: no slot free. */
  waiting: number;
  /** Something was recorded (seen, decided, or a draft's entry renamed): worth storing. */
  changed: boolean;
}

export const MAX_RULES = 10;
/** Ids kept per rule: a room's catalogue holds 1,000 files per person; the oldest seen are forgotten first. */
export const MAX_SEEN = 2000;
export const MAX_LOG = 200;
/** Rules fetch a few files at a time, so a burst of new files does not open hundreds of downloads at once. */
export const MAX_RULE_DOWNLOADS = 4;

export function matches(rule: FetchRule, file: Candidate): boolean {
  if (rule.from !== undefined && !file.holders.includes(rule.from)) return false;
  return rule.category === undefined || fileCategory(file.meta.mime, file.meta.name) === rule.category;
}

export const MiB = 1024 * 1024;
const mib = (n: number) => `${Number((n / MiB).toFixed(n < 10 * MiB ? 1 : 0))} MiB`;

/** The rule in words: "Everything new from Alice up to 100 MiB", "Every new image". */
export function describeRule(rule: FetchRule, nameOf: (peer: string) => string | null): string {
  const who = rule.from === undefined ? '' : ` from ${nameOf(rule.from) ?? rule.fromName ?? 'someone'}`;
  const what = rule.category === undefined ? 'Everything new' : `Every new ${rule.category === 'other' ? 'file of another kind' : rule.category}`;
  return `${what}${who}${rule.maxBytes === undefined ? '' : ` up to ${mib(rule.maxBytes)}`}`;
}

export class FetchRules {
  private records: RuleRecord[];
  /** fileId -> the rule that fetched it, rebuilt after any change (the file list asks for every row). */
  private index: Map<string, FetchRule> | null = null;

  constructor(private readonly self: string, records: RuleRecord[] = []) {
    this.records = records;
  }

  all(): readonly RuleRecord[] {
    return this.records;
  }

  get(ruleId: string): RuleRecord | undefined {
    return this.records.find((r) => r.rule.id === ruleId);
  }

  /**
   * A new rule; the files already here that it matches are seen (old) unless
   * `existing` is 'fetch'. False when there are MAX_RULES already.
   */
  add(rule: FetchRule, here: readonly Candidate[], existing: 'old' | 'fetch'): boolean {
    if (this.records.length >= MAX_RULES) return false;
    const record: RuleRecord = { rule, seen: new Set(), log: [] };
    if (existing === 'old') for (const c of here) if (matches(rule, c)) record.seen.add(c.meta.id);
    trim(record, here);
    this.records.push(record);
    return true;
  }

  /** The rule goes: it decides nothing more. Returns what it had fetched (the app stops what still runs). */
  remove(ruleId: string): RuleEntry[] {
    const record = this.get(ruleId);
    this.records = this.records.filter((r) => r !== record);
    this.index = null;
    return record?.log.filter((e) => e.outcome === 'fetched') ?? [];
  }

  /** Undo: what the rule fetched and the person did not keep is to be deleted; it stays seen, so it is not fetched again. */
  undo(ruleId: string): RuleEntry[] {
    const undone = this.get(ruleId)?.log.filter((e) => e.outcome === 'fetched' && !e.kept) ?? [];
    for (const e of undone) e.outcome = 'undone';
    this.index = null;
    return undone;
  }

  /** The person saved or asked for this file themselves. True if a rule had fetched it. */
  keep(fileId: string): boolean {
    const entry = this.fetchedEntry(fileId);
    if (!entry || entry.kept) return false;
    entry.kept = true;
    return true;
  }

  /** The rule whose download brought this file here, if any. */
  fetchedBy(fileId: string): FetchRule | undefined {
    if (!this.index) {
      this.index = new Map();
      for (const r of this.records) for (const e of r.log) if (e.outcome === 'fetched' && !this.index.has(e.fileId)) this.index.set(e.fileId, r.rule);
    }
    return this.index.get(fileId);
  }

  /**
   * Which new files to start and which to skip. A file two rules match is
   * fetched once, for the first rule that accepts it; over every accepting
   * rule's size limit it is skipped for the first matching rule. Files that
   * do not fit the free storage are skipped (never a half-filled disk). Each
   * decision is recorded; files left waiting for a slot are not.
   * `candidates` is everything the room offers: what it no longer offers is
   * what a rule may forget first (see trim).
   */
  decide(candidates: readonly Candidate[], budget: Budget, now: number): Decision {
    const decision: Decision = { start: [], skip: [], waiting: 0, changed: false };
    let { free, slots } = budget;
    for (const file of candidates) {
      const rules = this.inherit(file, decision);
      const fresh = rules.filter((r) => !r.seen.has(file.meta.id) && matches(r.rule, file));
      if (fresh.length === 0) continue;
      if (file.held || !file.holders.some((h) => h !== this.self)) {
        for (const r of fresh) see(r, file.meta.id); // ours, or already here: nothing to fetch, now or later
        decision.changed = true;
        continue;
      }
      const accepting = fresh.find((r) => r.rule.maxBytes === undefined || file.meta.size <= r.rule.maxBytes);
      if (accepting && slots <= 0) {
        decision.waiting++;
        continue;
      }
      const fits = free === null || file.meta.size <= free;
      const reason = !accepting ? `over ${mib(fresh[0]!.rule.maxBytes!)}` : fits ? undefined : `not enough storage: it needs ${mib(file.meta.size)}, about ${mib(Math.max(0, free!))} is free`;
      const by = accepting ?? fresh[0]!;
      for (const r of fresh) see(r, file.meta.id);
      decision.changed = true;
      this.index = null;
      record(by, { fileId: file.meta.id, name: file.meta.name, size: file.meta.size, outcome: reason ? 'skipped' : 'fetched', ...(reason ? { reason } : {}), at: now });
      if (reason) {
        decision.skip.push({ fileId: file.meta.id, ruleId: by.rule.id, reason });
        continue;
      }
      decision.start.push({ fileId: file.meta.id, ruleId: by.rule.id });
      slots--;
      if (free !== null) free -= file.meta.size;
    }
    for (const r of this.records) trim(r, candidates);
    return decision;
  }

  /**
   * Rules that saw the draft this file was are done with the file too: it is
   * seen, and their entry names the final id. The rest are returned.
   */
  private inherit(file: Candidate, decision: Decision): RuleRecord[] {
    if (file.was === undefined) return this.records;
    const rest: RuleRecord[] = [];
    for (const r of this.records) {
      if (!r.seen.has(file.was)) {
        rest.push(r);
        continue;
      }
      if (r.seen.has(file.meta.id)) continue;
      see(r, file.meta.id);
      for (const e of r.log) if (e.fileId === file.was) e.fileId = file.meta.id;
      decision.changed = true;
      this.index = null;
    }
    return rest;
  }

  private fetchedEntry(fileId: string): RuleEntry | undefined {
    for (const r of this.records) {
      const e = r.log.find((x) => x.fileId === fileId && x.outcome === 'fetched');
      if (e) return e;
    }
    return undefined;
  }
}

function see(r: RuleRecord, fileId: string): void {
  r.seen.add(fileId);
}

/**
 * Keeps MAX_SEEN ids, forgetting the oldest the room no longer offers first:
 * a forgotten id that is still offered would look new. Only a room offering
 * more than MAX_SEEN files that match one rule makes it forget those.
 */
function trim(r: RuleRecord, offered: readonly Candidate[]): void {
  let over = r.seen.size - MAX_SEEN;
  if (over <= 0) return;
  const present = new Set(offered.map((c) => c.meta.id));
  for (const id of r.seen) {
    if (over === 0) break;
    if (present.has(id)) continue;
    r.seen.delete(id);
    over--;
  }
  for (const id of r.seen) {
    if (over-- <= 0) break;
    r.seen.delete(id);
  }
}

function record(r: RuleRecord, entry: RuleEntry): void {
  r.log.push(entry);
  if (r.log.length > MAX_LOG) r.log.splice(0, r.log.length - MAX_LOG);
}
