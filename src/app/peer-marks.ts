import type { Sha256 } from '../core/hash.ts';
import { safetyNumber } from '../core/crypto/safety-number.ts';
import type { Store } from '../storage/store.ts';
import type { Session } from './session.ts';

/**
 * What this browser remembers about people, by identity (a peer id is derived
 * from its identity key, so it cannot be worn by anyone else):
 * - bans, remembered for the room: a banned identity is not connected to again;
 * - "verified" marks, set by the person after comparing safety numbers;
 * - the safety number of each linked peer (computed, not stored).
 */
export interface PeerMarksDeps {
  store: Store;
  room: string;
  selfKey: Uint8Array;
  sha256: Sha256;
  changed(): void;
}

/** Bans kept per room: enough for any real room, bounded against a flood of fresh identities. */
const MAX_BANS = 1_000;

export class PeerMarks {
  private bans: string[] = [];
  private verified = new Set<string>();
  private numbers = new Map<string, string>();

  constructor(private readonly deps: PeerMarksDeps) {}

  async load(): Promise<void> {
    const [bans, verified] = await Promise.all([
      this.deps.store.getPref(`bans:${this.deps.room}`),
      this.deps.store.getPref('verified'),
    ]);
    this.bans = parseList(bans);
    this.verified = new Set(parseList(verified));
  }

  banned(): string[] {
    return this.bans;
  }

  ban(peer: string): void {
    if (this.bans.includes(peer)) return;
    this.bans = [...this.bans, peer].slice(-MAX_BANS);
    this.save(`bans:${this.deps.room}`, this.bans);
  }

  /** The peer proved its identity on a link: compute the safety number both screens show. */
  identify(session: Session): void {
    if (!session.publicKey || this.numbers.has(session.id)) return;
    void safetyNumber(this.deps.selfKey, session.publicKey, this.deps.sha256).then((n) => {
      this.numbers.set(session.id, n);
      this.deps.changed();
    });
  }

  safetyNumber(peer: string): string | null {
    return this.numbers.get(peer) ?? null;
  }

  isVerified(peer: string): boolean {
    return this.verified.has(peer);
  }

  setVerified(peer: string, verified: boolean): void {
    if (verified) this.verified.add(peer);
    else this.verified.delete(peer);
    this.save('verified', [...this.verified]);
    this.deps.changed();
  }

  private save(key: string, list: string[]): void {
    this.deps.store.setPref(key, JSON.stringify(list)).catch((e: Error) => console.warn(`meshdrop: could not store ${key}`, e));
  }
}

function parseList(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
