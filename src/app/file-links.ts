import type { Catalogue } from '../core/gossip/catalogue.ts';
import type { Downloads } from './downloads.ts';
import type { Intents } from './intents.ts';
import type { Library } from './library.ts';

/**
 * Files asked for by link (#room/file/<id>): each starts as soon as this page
 * can start it, and until then the person sees what we wait for. Opening a
 * link is the same wish as pressing Download, so it goes through the same
 * intent: saved once complete, resumed after a reload, a paused file resumed.
 *
 * What we may learn, in any order, each re-checked on every engine change:
 * - the file is here whole: nothing to fetch (its row offers Save);
 * - it is stored here for another room: it is offered here too, which
 *   completes it at once or resumes fetching it;
 * - it is here in part: its download resumes, and its row shows it;
 * - someone announced it: the download starts. Until its manifest arrives
 *   there is no stored record to show a row for (and the announcement goes
 *   when its holder leaves), so the wait goes on, now with the file's name;
 * - nothing yet (no holder online, or the catalogue not synced): wait.
 * A wait ends with the file here ('complete'/'started') or when the person
 * or a stopped download ends it ('dismissed'). It survives a reload because
 * the page keeps the link in its address until the wait ends.
 */
export type LinkOutcome = 'complete' | 'started' | 'dismissed';

export interface LinkWaitView {
  fileId: string;
  /** Null until someone announces the file: before that, a link gives only its id. */
  name: string | null;
}

export interface FileLinksDeps {
  /** Where the file stands in this browser. */
  held(fileId: string): 'complete' | 'partial' | 'elsewhere' | null;
  /** Its name, if someone in the room announced it. */
  announced(fileId: string): string | null;
  /** Its name, if a download of it is running (perhaps still waiting for its manifest). */
  fetching(fileId: string): string | null;
  /** The Download intent: resolves true once complete, false if it stops first. */
  download(fileId: string): Promise<boolean>;
  shareHere(fileId: string): void;
  cancel(fileId: string): Promise<void>;
  changed(): void;
}

interface Wait {
  settle(outcome: LinkOutcome): void;
  done: Promise<LinkOutcome>;
  /** The download was asked for (the announcement came); its end decides what the wait became. */
  asked: boolean;
}

export class FileLinks {
  private waits = new Map<string, Wait>();
  private checking = false;
  private again = false;

  constructor(private readonly deps: FileLinksDeps) {}

  /** Follows a link to `fileId`; resolves when the wait ends. Opening the same link twice is one wait. */
  open(fileId: string): Promise<LinkOutcome> {
    let wait = this.waits.get(fileId);
    if (!wait) {
      let settle!: (o: LinkOutcome) => void;
      const done = new Promise<LinkOutcome>((resolve) => (settle = resolve));
      wait = { settle, done, asked: false };
      this.waits.set(fileId, wait);
      this.check();
      this.deps.changed();
    }
    return wait.done;
  }

  /**
   * The person stops waiting. A download asked for that has stored nothing
   * yet has no row of its own to cancel it from (its announcement may have
   * gone with its holder), so it stops too.
   */
  dismiss(fileId: string): void {
    const asked = this.waits.get(fileId)?.asked ?? false;
    this.end(fileId, 'dismissed');
    if (asked && this.deps.held(fileId) === null) void this.deps.cancel(fileId);
  }

  waiting(): LinkWaitView[] {
    return [...this.waits.keys()].map((fileId) => ({ fileId, name: this.deps.fetching(fileId) ?? this.deps.announced(fileId) }));
  }

  /** Re-examines every wait. Reentrant calls (starting a download changes the engine) run once more afterwards. */
  check(): void {
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.again = false;
        for (const fileId of [...this.waits.keys()]) this.step(fileId);
      } while (this.again);
    } finally {
      this.checking = false;
    }
  }

  private step(fileId: string): void {
    const wait = this.waits.get(fileId);
    if (!wait) return;
    let held = this.deps.held(fileId);
    if (held === 'elsewhere') {
      this.deps.shareHere(fileId);
      held = this.deps.held(fileId);
    }
    if (held === 'complete') return this.end(fileId, 'complete');
    if (held === 'partial') {
      this.ask(fileId, wait);
      return this.end(fileId, 'started');
    }
    if (!wait.asked && this.deps.announced(fileId) !== null) this.ask(fileId, wait);
  }

  private ask(fileId: string, wait: Wait): void {
    wait.asked = true;
    void this.deps.download(fileId).then((complete) => {
      // Cancelled or refused before any of it was stored: nothing left to wait for.
      if (this.waits.get(fileId) === wait) this.end(fileId, complete ? 'complete' : 'dismissed');
    });
  }

  private end(fileId: string, outcome: LinkOutcome): void {
    const wait = this.waits.get(fileId);
    if (!wait) return;
    this.waits.delete(fileId);
    wait.settle(outcome);
    this.deps.changed();
  }
}

/** The engine's side of FileLinks: what the library, the catalogue and the downloads know. */
export function wireFileLinks(x: {
  library: Library; catalogue: Catalogue; downloads: Downloads; intents: Pick<Intents, 'download' | 'shareHere' | 'cancel'>; changed(): void;
}): FileLinks {
  return new FileLinks({
    held(fileId) {
      const local = x.library.get(fileId);
      if (!local) return null;
      if (!x.library.inRoom(fileId)) return 'elsewhere';
      return local.have.complete && !x.downloads.get(fileId) ? 'complete' : 'partial';
    },
    announced: (fileId) => x.catalogue.meta(fileId)?.name ?? null,
    fetching: (fileId) => x.downloads.get(fileId)?.meta.name ?? null,
    download: (fileId) => x.intents.download(fileId),
    shareHere: (fileId) => x.intents.shareHere(fileId),
    cancel: (fileId) => x.intents.cancel(fileId),
    changed: x.changed,
  });
}
