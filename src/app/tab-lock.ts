/**
 * Tabs of one browser share one identity and one store. Two tabs in the same
 * room would be the same peer twice (the relay keeps one socket per identity
 * and room) and would serve and delete the same pieces, so a room is open in
 * one tab at a time: the tab holds the Web Lock `meshdrop-room:<topic>` for
 * as long as it is in the room. Another tab may ask for the room over a
 * BroadcastChannel; the holder lets go and says so.
 *
 * Browsers without Web Locks (old ones) simply skip this.
 */
const PREFIX = 'meshdrop-room:';

export interface RoomHold {
  /** Lets the room go (the engine is closed first). */
  release(): void;
}

const locks = (): LockManager | undefined => (typeof navigator !== 'undefined' ? navigator.locks : undefined);

/**
 * Takes the room for this tab. `wait` false: null at once if another tab has it.
 * `onTakenOver` runs when another tab asks for the room: this tab must close its engine.
 */
export async function holdRoom(topic: string, wait: boolean, onTakenOver: () => void): Promise<RoomHold | null> {
  const lm = locks();
  if (!lm) return { release: () => undefined };
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const acquired = await new Promise<boolean>((answer) => {
    void lm.request(PREFIX + topic, wait ? {} : { ifAvailable: true }, async (lock) => {
      answer(lock !== null);
      if (lock) await held; // held until released
    });
  });
  if (!acquired) return null;
  const channel = new BroadcastChannel(PREFIX + topic);
  channel.onmessage = (e: MessageEvent) => {
    if (e.data !== 'take-over') return;
    onTakenOver();
    done();
  };
  const done = () => {
    channel.close();
    release();
  };
  return { release: done };
}

/** Asks the tab that has the room to let it go. */
export function askForRoom(topic: string): void {
  const channel = new BroadcastChannel(PREFIX + topic);
  channel.postMessage('take-over');
  channel.close();
}

/** Whether another tab has one of these rooms open. */
export async function roomsOpenElsewhere(rooms: string[], ownRoom: string): Promise<boolean> {
  const lm = locks();
  if (!lm) return false;
  const state = await lm.query();
  const open = new Set((state.held ?? []).map((l) => l.name));
  return rooms.some((r) => r !== ownRoom && open.has(PREFIX + r));
}
