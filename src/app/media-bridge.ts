import { parseFocus, storedMessage } from '../sw/media-protocol.ts';
import type { Engine } from './engine.ts';

/**
 * The page's half of the media route (src/sw/media-route.ts): the service
 * worker says where a player reads a file and the engine fetches from there
 * first; the engine stores pieces of a file a player reads and the worker
 * hears so at once, instead of on its next poll. Only files a player read
 * lately are announced: a message to a stopped worker would start it for nothing.
 */
const RECENT_MS = 120_000;

export interface MediaBridge {
  /** The engine stored a piece of `fileId`. */
  stored(fileId: string): void;
  close(): void;
}

export function connectMediaBridge(engine: Pick<Engine, 'focus'>, sw: ServiceWorkerContainer | undefined, now: () => number): MediaBridge {
  if (!sw) return { stored: () => undefined, close: () => undefined };
  const readAt = new Map<string, number>();
  const onMessage = (event: MessageEvent) => {
    const focus = parseFocus(event.data);
    if (!focus) return;
    readAt.set(focus.fileId, now());
    engine.focus(focus.fileId, focus.offset);
  };
  sw.addEventListener('message', onMessage);
  sw.startMessages();
  return {
    stored(fileId) {
      const at = readAt.get(fileId);
      if (at === undefined) return;
      if (now() - at > RECENT_MS) return void readAt.delete(fileId);
      sw.controller?.postMessage(storedMessage(fileId));
    },
    close: () => sw.removeEventListener('message', onMessage),
  };
}
