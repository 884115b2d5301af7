/** Where membership comes from; each source tells RoomMembers when it changes (see `changed`). */
export interface RoomMembersSources {
  /** The relay's word (the peer manager's present set). */
  present(): Iterable<string>;
  /** Peers on a link whose HELLO proved who they are. */
  linked(): Iterable<string>;
  /** Presence by gossip: non-neighbours too. */
  here(): Iterable<string>;
  /** Blocked by the person: never a member, whatever the others say. */
  blocked(id: string): boolean;
}

/**
 * Everyone we know is in the room: the relay's word, our proven links, and
 * presence by gossip, less whom the person blocked. The one owner of that
 * set: it is made once per change of any source, not for each statement
 * judged (gossip asks for it twice per statement, and a catalogue sync brings
 * thousands). The engine calls `changed` wherever a source changes: the peer
 * manager's presence event, a link proven or closed, presence arriving,
 * leaving or expiring, the relay's word on who left, and a block.
 */
export class RoomMembers {
  private cached: ReadonlySet<string> | null = null;

  constructor(private readonly sources: RoomMembersSources) {}

  readonly get = (): ReadonlySet<string> => {
    const s = this.sources;
    this.cached ??= new Set([...s.present(), ...s.linked(), ...s.here()].filter((p) => !s.blocked(p)));
    return this.cached;
  };

  /** A source changed: the set is made afresh when next asked for. */
  changed(): void {
    this.cached = null;
  }
}
