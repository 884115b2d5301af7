import { toHex } from '../core/bytes.ts';
import { decodeFetchRules, encodeFetchRules } from '../core/fetch-rules-codec.ts';
import { describeRule, FetchRules, MAX_RULE_DOWNLOADS, MAX_RULES, type Candidate, type EntryOutcome } from '../core/fetch-rules.ts';
import type { FileCategory } from '../core/file-category.ts';
import type { Catalogue } from '../core/gossip/catalogue.ts';
import type { Store } from '../storage/store.ts';
import type { Downloads } from './downloads.ts';
import type { Library } from './library.ts';
import type { Notices } from './state.ts';

/**
 * The room's fetch rules at work (decisions: core/fetch-rules.ts). Whenever
 * the catalogue gains a file, after storage is loaded, when a rule is made,
 * and each tick while files wait for a slot, it asks the rules what to start,
 * starts it through the same Download intent a click uses (without saving:
 * nobody asked for a file dialog), and keeps the rules and what they did in
 * the Store's prefs, per room, so a reload restores both.
 *
 * Undo: Remove stops a rule and cancels its downloads still running (their
 * partial data goes, as with Cancel); what it finished stays. Undo keeps the
 * rule and deletes what it fetched, finished or not, except files the person
 * saved or asked for themselves; those files are not fetched again.
 */
export interface AutoFetchDeps {
  store: Store;
  room: string;
  self: string;
  catalogue: Catalogue;
  library: Library;
  downloads: Downloads;
  /** Bytes of storage still free (StorageBudget.free), null when unknown. */
  free(): Promise<number | null>;
  /** The Download intent, without saving. */
  download(fileId: string): Promise<boolean>;
  /** The Cancel and Remove intents. */
  cancel(fileId: string): Promise<void>;
  remove(fileId: string): Promise<void>;
  wallClock(): number;
  randomBytes(n: number): Uint8Array;
  notices: Notices;
  changed(): void;
}

export interface NewRule {
  from?: string;
  fromName?: string;
  category?: FileCategory;
  maxBytes?: number;
  /** Also fetch the matching files the room offers already (default: only new ones). */
  existing?: boolean;
}

export interface RuleIntents {
  /** False (with a notice) when the rule cannot be made. */
  addRule(rule: NewRule): boolean;
  removeRule(ruleId: string): void;
  undoRule(ruleId: string): Promise<void>;
  /** The person saved this file themselves: Undo leaves it. */
  keepFile(fileId: string): void;
}

/** Where a file a rule fetched stands now, from the library and downloads (they own that). */
export type EntryState = 'fetching' | 'here' | 'gone';

export interface RuleEntryView {
  fileId: string;
  name: string;
  size: number;
  outcome: EntryOutcome;
  reason: string | null;
  kept: boolean;
  state: EntryState;
}

export interface RuleView {
  id: string;
  text: string;
  fetched: number;
  skipped: number;
  /** Newest first, a few. */
  entries: RuleEntryView[];
  /** Undo would delete something. */
  canUndo: boolean;
}

export interface RulesView {
  list: RuleView[];
  /** New matching files waiting for one of the rules' download slots. */
  waiting: number;
}

const SHOWN_ENTRIES = 8;

export class AutoFetch implements RuleIntents {
  private rules: FetchRules;
  private loaded = false;
  /** The decision pass on its way, if any (with the ones asked for meanwhile, chained). */
  private current: Promise<void> | null = null;
  private again = false;
  private waiting = 0;
  private writing = false;
  private unsaved = false;
  private readonly key: string;

  constructor(private readonly deps: AutoFetchDeps) {
    this.rules = new FetchRules(deps.self);
    this.key = `fetch-rules:${deps.room}`;
  }

  /** Reads the room's rules; afterwards rules act on what the catalogue holds. */
  async load(): Promise<void> {
    const decoded = decodeFetchRules(await this.deps.store.getPref(this.key));
    if (decoded.ok) this.rules = new FetchRules(this.deps.self, decoded.value);
    else this.deps.notices.error(`Your rules that fetch files here could not be read back (${decoded.error}); they are off until you make them again.`);
    this.loaded = true;
    this.pass();
  }

  /** The catalogue gained a holder of a file. */
  added(): void {
    if (this.rules.all().length > 0) this.pass();
  }

  /** Each engine tick: files left waiting for a slot get another look. */
  tick(): void {
    if (this.waiting > 0) this.pass();
  }

  addRule(spec: NewRule): boolean {
    if (!this.loaded) return false;
    if (spec.maxBytes !== undefined && !(Number.isSafeInteger(spec.maxBytes) && spec.maxBytes > 0)) return false;
    const rule = {
      id: toHex(this.deps.randomBytes(8)), createdAt: this.deps.wallClock(),
      ...(spec.from === undefined ? {} : { from: spec.from, ...(spec.fromName === undefined ? {} : { fromName: spec.fromName }) }),
      ...(spec.category === undefined ? {} : { category: spec.category }),
      ...(spec.maxBytes === undefined ? {} : { maxBytes: spec.maxBytes }),
    };
    if (!this.rules.add(rule, this.candidates(), spec.existing ? 'fetch' : 'old')) {
      this.deps.notices.error(`A room can have ${MAX_RULES} rules at most: remove one first.`);
      return false;
    }
    this.save();
    this.pass();
    return true;
  }

  removeRule(ruleId: string): void {
    for (const e of this.rules.remove(ruleId)) if (!e.kept && this.deps.downloads.get(e.fileId)) void this.deps.cancel(e.fileId);
    this.save();
  }

  async undoRule(ruleId: string): Promise<void> {
    const undone = this.rules.undo(ruleId);
    this.save();
    await Promise.all(undone.filter((e) => this.deps.library.get(e.fileId) || this.deps.downloads.get(e.fileId)).map((e) => this.deps.remove(e.fileId)));
  }

  keepFile(fileId: string): void {
    if (this.rules.keep(fileId)) this.save();
  }

  /** The rule that fetched this file, in words. */
  fetchedBy(fileId: string, nameOf: (peer: string) => string | null): string | null {
    const rule = this.rules.fetchedBy(fileId);
    return rule ? describeRule(rule, nameOf) : null;
  }

  view(nameOf: (peer: string) => string | null): RulesView {
    const list = this.rules.all().map((r): RuleView => ({
      id: r.rule.id,
      text: describeRule(r.rule, nameOf),
      fetched: r.log.filter((e) => e.outcome === 'fetched').length,
      skipped: r.log.filter((e) => e.outcome === 'skipped').length,
      entries: r.log.slice(-SHOWN_ENTRIES).reverse().map((e) => ({
        fileId: e.fileId, name: e.name, size: e.size, outcome: e.outcome, reason: e.reason ?? null, kept: e.kept ?? false, state: this.stateOf(e.fileId),
      })),
      canUndo: r.log.some((e) => e.outcome === 'fetched' && !e.kept),
    }));
    return { list, waiting: this.waiting };
  }

  private stateOf(fileId: string): EntryState {
    if (this.deps.downloads.get(fileId)) return 'fetching';
    return this.deps.library.get(fileId) ? 'here' : 'gone';
  }

  /** Every file the room offers, as the rules see it. */
  private candidates(): Candidate[] {
    const { catalogue, library, downloads } = this.deps;
    return catalogue.entries().map((entry) => {
      const id = entry.meta.id;
      const was = entry.holders.map((h) => catalogue.latest(h, id)?.was).find((w) => w !== undefined);
      return { meta: entry.meta, holders: entry.holders, held: library.get(id) !== undefined || downloads.get(id) !== undefined, ...(was === undefined ? {} : { was }) };
    });
  }

  /** One decision pass at a time; calls meanwhile make one more pass afterwards. */
  private pass(): void {
    if (!this.loaded) return;
    if (this.current) {
      this.again = true;
      return;
    }
    this.current = this.decide()
      .catch((e: Error) => this.deps.notices.error(`A rule could not start its downloads: ${e.message}`))
      .finally(() => {
        this.current = null;
        if (!this.again) return;
        this.again = false;
        this.pass();
      });
  }

  /** Resolves once no decision pass is running or asked for (tests wait on it before saying nothing started). */
  async settled(): Promise<void> {
    while (this.current) await this.current;
  }

  private async decide(): Promise<void> {
    if (this.rules.all().length === 0) return;
    const free = await this.deps.free();
    const running = this.deps.downloads.all();
    // Bytes running downloads will still store are spoken for; a download waiting for its sharer to return holds no slot.
    const committed = running.reduce((sum, d) => sum + Math.max(0, d.meta.size - d.bytesDone), 0);
    const busy = running.filter((d) => this.rules.fetchedBy(d.fileId) && this.deps.catalogue.holders(d.fileId).length > 0).length;
    const before = this.waiting;
    const decision = this.rules.decide(this.candidates(), { free: free === null ? null : free - committed, slots: MAX_RULE_DOWNLOADS - busy }, this.deps.wallClock());
    this.waiting = decision.waiting;
    for (const { fileId } of decision.start) void this.deps.download(fileId);
    if (decision.changed) this.save();
    else if (before !== this.waiting) this.deps.changed();
  }

  /**
   * Stores the rules, one write at a time: changes made while one is on its
   * way are written together after it (a burst of new files costs two writes).
   */
  private save(): void {
    this.deps.changed();
    if (this.writing) {
      this.unsaved = true;
      return;
    }
    this.writing = true;
    this.deps.store.setPref(this.key, encodeFetchRules(this.rules.all()))
      .catch((e: Error) => this.deps.notices.error(`Could not keep your rules for the next visit: ${e.message}`))
      .finally(() => {
        this.writing = false;
        if (!this.unsaved) return;
        this.unsaved = false;
        this.save();
      });
  }
}
