import type { Sha256 } from '../core/hash.ts';
import { safetyNumber } from '../core/crypto/safety-number.ts';
import type { Store } from '../storage/store.ts';
import type { Session } from './session.ts';

/**
 * What this room remembers about peers, by identity (a peer id is derived
 * from its identity key, so it cannot be worn by anyone else):
 * - bans for proof, remembered for the room: a banned identity is not connected to again;
 * - the safety number of each linked peer (computed, not stored).
 * What the person knows and decides about people in every room (names, verified
 * and blocked marks) is the roster's (roster.ts).
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
  private numbers = new Map<string, string>();

  constructor(private readonly deps: PeerMarksDeps) {}

  async load(): Promise<void> {
    this.bans = parseList(await this.deps.store.getPref(`bans:${this.deps.room}`));
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

  private save(key: string, list: string[]): void {
    this.deps.store.setPref(key, JSON.stringify(list)).catch((e: Error) => console.warn(`meshdrop: could not store ${key}`, e));
  }
}

/** A stored JSON list of strings; anything else is an empty list (an old or broken value must not stop the room). */
export function parseList(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
