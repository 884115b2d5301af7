import type { PeerManager } from '../net/peer-manager.ts';
import type { RelayStatus, SignalClient, SignalHandlers } from '../net/signal-client.ts';
import type { RoomGossip } from './room-gossip.ts';
import type { RoomPresence } from './room-presence.ts';
import type { Notices } from './state.ts';

/** Relay messages held before the peer manager exists; signals beyond it are dropped (the dialler retries). */
export const MAX_HELD = 512;

export interface RelayLinkDeps {
  connect(h: SignalHandlers): SignalClient;
  peers(): PeerManager | undefined;
  gossip: RoomGossip;
  presence: Pick<RoomPresence, 'absent' | 'here'>;
  /** Forget what `peer` said about its files unless something still says it is here. */
  forgetIfGone(peer: string): void;
  /** Peers we have an open session with: their links outlive the relay's word. */
  sessionIds(): Iterable<string>;
  notices: Notices;
  changed(): void;
}

/**
 * The engine's side of the relay: what the relay says goes to the peer manager
 * (membership, signals) and to gossip (who is gone); its status and errors reach
 * the person. The relay only introduces: open links never depend on it.
 */
export class RelayLink {
  status: RelayStatus = 'connecting';
  private client: SignalClient | null = null;
  /**
   * What the relay said before the peer manager existed, in order. The engine
   * connects while it still reads whom this browser refuses (bans), so the
   * relay's round trips overlap that read; nobody is dialled or answered
   * before it is done.
   */
  private held: (() => void)[] = [];
  /** Signals dropped because too many came before the peer manager existed (storage hung, or a flood). */
  droppedEarly = 0;

  constructor(private readonly d: RelayLinkDeps) {}

  /** The peer manager exists now: what the relay said meanwhile is acted on, in the order it came. */
  peersReady(): void {
    const held = this.held;
    this.held = [];
    for (const fn of held) fn();
  }

  /** Runs `fn` now if the peer manager exists and nothing is held before it, else after peersReady(). */
  private withPeers(fn: () => void, signal = false): void {
    if (this.held.length === 0 && this.d.peers()) return fn();
    if (signal && this.held.length >= MAX_HELD) return void this.droppedEarly++;
    this.held.push(fn);
  }

  start(): void {
    this.client ??= this.d.connect(this.handlers());
  }

  send(to: string, data: string): void {
    this.client?.sendSignal(to, data);
  }

  /** After a network change: a new socket now, rather than one that may be dead. */
  reconnect(): void {
    this.client?.reconnect();
  }

  close(): void {
    this.client?.close();
  }

  private handlers(): SignalHandlers {
    const { d } = this;
    return {
      onWelcome: (list, size) => this.withPeers(() => {
        const complete = list.length === size - 1;
        d.peers()?.welcome(list, complete);
        // Only the whole membership says who is gone; a sample leaves out most of a large room. Whom
        // presence holds and a complete welcome does not list has left (a newer statement brings them back).
        if (complete) {
          const listed = new Set([...list, ...d.sessionIds()]);
          for (const p of d.presence.here()) if (!listed.has(p)) d.presence.absent(p);
          d.gossip.keepOnly(listed);
        }
        d.changed();
      }),
      onPeerJoined: (p) => this.withPeers(() => d.peers()?.joined(p)),
      onPeerLeft: (p) => this.withPeers(() => {
        d.peers()?.left(p);
        d.presence.absent(p); // the relay's word is timely; a statement from p newer than the one we hold undoes it
        d.forgetIfGone(p);
        d.changed();
      }),
      onSignal: (from, data) => this.withPeers(() => d.peers()?.signal(from, data), true),
      onStatus: (status) => {
        this.status = status;
        d.changed();
      },
      onError: (code, message) => d.notices.error(relayErrorText(code, message)),
    };
  }
}

function relayErrorText(code: string, message: string): string {
  switch (code) {
    case 'room-full': return 'This room is full. Try again later or start a new room.';
    case 'server-full': return 'The meshdrop server is busy. It will retry by itself.';
    case 'rate-limited': return 'Too many messages to the server; slowing down.';
    case 'unauthenticated': return message;
    default: return `The signalling server reported a problem (${code}): ${message}`;
  }
}
