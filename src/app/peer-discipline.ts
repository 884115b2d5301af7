import type { PeerManager } from '../net/peer-manager.ts';
import type { PeerMarks } from './peer-marks.ts';
import type { RoomGossip } from './room-gossip.ts';
import type { RoomPresence } from './room-presence.ts';
import type { Session } from './session.ts';
import type { Notices } from './state.ts';

/** Pieces or manifests failing verification before a peer is dropped (each failure is proof). */
export const MAX_STRIKES = 3;

export interface PeerDisciplineDeps {
  sessions: ReadonlyMap<string, Session>;
  marks: PeerMarks;
  notices: Notices;
  /** Undefined until storage is read (whom we refuse is known). */
  peers(): PeerManager | undefined;
  /** Created after us: the roster's block list is read first. */
  presence(): RoomPresence;
  gossip(): RoomGossip;
  changed(): void;
}

export interface PeerDiscipline {
  /** Every ban goes through here: the person is told, the link ends, and the identity stays refused in this room. */
  ban(peer: string, code: string, detail: string): void;
  /** Bad data from a peer: three strikes and it is out. */
  strike(peer: string, what: string): void;
  /** The person's block list changed (here or in another tab): newly blocked are refused, unblocked let in unless banned. */
  blockChanged(now: ReadonlySet<string>, before: ReadonlySet<string>): void;
}

/** Ending links for proof of misbehaviour, and for the person's blocks: the only places an identity is refused. */
export function createPeerDiscipline(w: PeerDisciplineDeps): PeerDiscipline {
  const ban = (peer: string, code: string, detail: string) => {
    w.notices.info(`Disconnected ${w.sessions.get(peer)?.name ?? 'a peer'}: ${detail}`);
    w.marks.ban(peer);
    w.peers()?.ban(peer, code, detail);
  };

  /**
   * Blocked by the person (here or in another tab): the link ends, the peer
   * manager refuses the identity from now on, and what it said is forgotten.
   */
  const refuse = (peer: string) => {
    w.peers()?.ban(peer, 'ERR_BLOCKED', 'you blocked this person');
    w.presence().absent(peer);
    w.gossip().peerGone(peer);
    w.changed();
  };

  const strike = (peer: string, what: string) => {
    const s = w.sessions.get(peer);
    if (!s) return;
    s.strikes++;
    if (s.strikes >= MAX_STRIKES) ban(peer, 'ERR_BAD_DATA', `${MAX_STRIKES} pieces failed verification; last: ${what}`);
  };

  const blockChanged = (now: ReadonlySet<string>, before: ReadonlySet<string>) => {
    for (const id of now) if (!before.has(id)) refuse(id);
    for (const id of before) if (!now.has(id) && !w.marks.banned().includes(id)) w.peers()?.unban(id);
  };

  return { ban, strike, blockChanged };
}
