import { toBase64Url } from '../core/bytes.ts';
import { MAX_HOPS } from '../core/gossip/announcement.ts';
import {
  parsePresence, PresenceBook, PRESENCE_PER_SECOND, REFRESH_MS, signPresence, verifyPresence, type Presence,
  type PresenceOptions, type PresenceStatus,
} from '../core/gossip/presence.ts';
import { originHops } from '../core/gossip/rules.ts';
import { cleanDisplayName } from '../core/names.ts';

/**
 * Who is in the room by their own signed word (core/gossip/presence.ts):
 * we say we are here on every new link and every REFRESH_MS, and that we are
 * gone when we close; everyone's statements are verified, judged by the
 * PresenceBook and flooded on. A new neighbour also gets the statements of
 * everyone we know is here, so it can accept their announcements at once.
 * Links are banned only on proof (malformed, forged, signed for another room).
 */
export interface RoomPresenceDeps {
  self: { id: string; publicKey: Uint8Array; sign(data: Uint8Array): Promise<Uint8Array> };
  /** The relay topic HELLO binds links to: statements are signed for this room only. */
  room: string;
  /** Wall-clock ms this session (page load) began: our statements say so, and no seq of ours is below it. */
  since: number;
  verify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean>;
  idOf(publicKey: Uint8Array): string;
  /** Links our HELLO went out on. */
  neighbours(): string[];
  /** Everyone we know is here (relay, links, presence): whether our statements need forwarding. */
  members(): ReadonlySet<string>;
  send(peer: string, json: Presence): void;
  /** Monotonic clock (ms): budgets and expiry. */
  now(): number;
  /** Wall clock (ms): our seq numbers, so they keep growing across reloads. */
  wallClock(): number;
  /** Our display name as it is now. */
  name(): string;
  /** Whether we are at the page now (core/gossip/presence.ts pageStatus). */
  status(): PresenceStatus;
  /** Identities this person blocked: what they say is not taken in (nor passed on by us). */
  refused(origin: string): boolean;
  ban(peer: string, code: string, detail: string): void;
  /** Someone is here we did not know of (it may not be our neighbour): a mesh candidate. */
  arrived?(origin: string): void;
  /** Presence no longer says `origin` is here: it said so, or went silent. */
  departed(origin: string): void;
  /** A session of `origin` that began at `since` (a reload, or first word): what it said before is no longer its word. */
  restarted(origin: string, since: number): void;
  changed(): void;
  limits?: Omit<PresenceOptions, 'self'>;
}

/** Our own statements no more often than receivers' budgets refill, so none of them is dropped. */
const MIN_INTERVAL_MS = 1000 / PRESENCE_PER_SECOND;

export class RoomPresence {
  readonly book: PresenceBook;
  private ours: Presence | null = null;
  /** Signed along with each 'here' (seq one above), so closing can say goodbye without waiting for a signature. */
  private goodbye: Presence | null = null;
  private lastSeq: number;
  private lastSigned = -Infinity;
  private dirty = true;
  private signing = false;
  /** Verifications in flight per origin: an announcement from that origin waits for them (see pending()). */
  private verifying = new Map<string, Promise<void>>();

  constructor(private readonly deps: RoomPresenceDeps) {
    const { self } = deps;
    this.book = new PresenceBook({ get self() { return self.id; }, ...deps.limits });
    this.lastSeq = deps.since - 2;
  }

  /** Every tick: refresh our statement when due (or renamed), and let the silent expire. */
  tick(): void {
    const now = this.deps.now();
    // Shown or hidden since we last signed (or hidden long enough to be away): say so.
    if (this.ours && this.ours.status !== this.deps.status()) this.dirty = true;
    const due = now - this.lastSigned >= (this.dirty ? MIN_INTERVAL_MS : REFRESH_MS);
    if (due && !this.signing) void this.refresh();
    const expired = this.book.expire(now);
    for (const origin of expired) this.deps.departed(origin);
    if (expired.length > 0) this.deps.changed();
  }

  /**
   * Our name or status changed: say so, within the budget others give us (one
   * statement per MIN_INTERVAL_MS): toggles in between are coalesced, and the
   * statement signed when the slot comes says how things are then.
   */
  restate(): void {
    this.dirty = true;
    this.tick();
  }

  /**
   * A new link: our statement (flooded on, unless we reach everyone ourselves:
   * whoever is linked to the new neighbour may not know us yet), then everyone
   * else's we hold, with one hop: a sync, it goes no further.
   */
  greet(peer: string): void {
    if (this.ours) this.deps.send(peer, { ...this.ours, hops: this.hops() });
    for (const p of this.book.statements()) this.deps.send(peer, { ...p, hops: 1 });
  }

  /** Closing: our goodbye to every neighbour, best effort (a link torn down at once may drop it; expiry covers that). */
  leave(): void {
    if (!this.goodbye) return;
    const hops = this.hops();
    for (const peer of this.deps.neighbours()) this.deps.send(peer, { ...this.goodbye, hops });
  }

  /** A PRESENCE frame from neighbour `from`. */
  receive(from: string, json: unknown): Promise<void> {
    const parsed = parsePresence(json);
    if (!parsed.ok) {
      this.book.count('malformed');
      this.deps.ban(from, 'ERR_BAD_GOSSIP', parsed.error);
      return Promise.resolve();
    }
    const p = parsed.value;
    if (this.deps.refused(p.origin)) {
      this.book.count('blocked');
      return Promise.resolve();
    }
    if (!this.book.screen(p, this.deps.now()).ok) return Promise.resolve();
    const done = this.consider(from, p);
    this.verifying.set(p.origin, done);
    void done.finally(() => this.verifying.get(p.origin) === done && this.verifying.delete(p.origin));
    return done;
  }

  /**
   * A statement from `origin` still being verified, if any. Frames from one link
   * arrive in order but verify concurrently: the catalogue a new neighbour sends
   * right after its presence sync must not be judged before that sync is.
   */
  pending(origin: string): Promise<void> | undefined {
    return this.verifying.get(origin);
  }

  /** The relay says `origin` left: presence stops saying it is here until it says so anew. */
  absent(origin: string): boolean {
    return this.book.absent(origin);
  }

  isHere(origin: string): boolean {
    return this.book.isHere(origin);
  }

  here(): string[] {
    return this.book.here();
  }

  /** The name `origin` gives itself, cleaned like a HELLO name; null when unknown or nothing visible. */
  nameOf(origin: string): string | null {
    const raw = this.book.nameOf(origin);
    return raw === null ? null : cleanDisplayName(raw) || null;
  }

  /** Active, idle or away, by `origin`'s own word; null when unknown (or from a peer too old to say). */
  statusOf(origin: string): PresenceStatus | null {
    return this.book.statusOf(origin);
  }

  stats(): Record<string, number> {
    return { ...this.book.counters, here: this.book.here().length };
  }

  /** One hop when every member we know of is our neighbour (rules.ts originHops), else a flood. */
  private hops(): number {
    return originHops(this.deps.self.id, this.deps.neighbours(), this.deps.members());
  }

  private async consider(from: string, p: Presence): Promise<void> {
    const verified = await verifyPresence(p, this.deps.room, (k, d, s) => this.deps.verify(k, d, s), (k) => this.deps.idOf(k));
    if (!verified.ok) {
      this.book.count(verified.code);
      if (verified.code === 'verify-failed') return; // our verifier failed: no proof against the sender
      return this.deps.ban(from, verified.code === 'bad-origin' ? 'ERR_BAD_ORIGIN' : 'ERR_BAD_SIGNATURE', verified.error);
    }
    const verdict = this.book.admit(p, from, this.deps.neighbours(), this.deps.now());
    if (verdict.action === 'drop') return;
    for (const peer of verdict.forwardTo) this.deps.send(peer, verdict.message);
    if (verdict.restarted) this.deps.restarted(p.origin, p.since);
    if (verdict.change === 'arrived') this.deps.arrived?.(p.origin);
    if (verdict.change === 'left') this.deps.departed(p.origin);
    if (verdict.change !== 'none') this.deps.changed();
  }

  /** Signs our 'here' (and the goodbye one seq above it) and sends it to every neighbour. */
  private async refresh(): Promise<void> {
    this.signing = true;
    this.dirty = false;
    this.lastSigned = this.deps.now();
    const { self } = this.deps;
    const seq = (this.lastSeq = Math.max(this.lastSeq + 2, Math.floor(this.deps.wallClock())));
    const fields = { origin: self.id, key: toBase64Url(self.publicKey), seq, since: this.deps.since, name: this.deps.name(), status: this.deps.status(), hops: MAX_HOPS };
    const sign = (data: Uint8Array) => self.sign(data);
    try {
      const [here, gone] = await Promise.all([
        signPresence({ ...fields, kind: 'here' }, this.deps.room, sign),
        signPresence({ ...fields, kind: 'gone', seq: seq + 1 }, this.deps.room, sign),
      ]);
      this.ours = here;
      this.goodbye = gone;
      const hops = this.hops();
      for (const peer of this.deps.neighbours()) this.deps.send(peer, { ...here, hops });
    } finally {
      this.signing = false;
    }
  }
}
