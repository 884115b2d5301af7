/**
 * The relay's socket, opened as a room page starts rather than once its
 * engine exists: the TCP and WebSocket handshakes and the relay's challenge
 * then overlap reading the identity and storage, and the signed join goes out
 * as soon as the identity can sign. The socket is handed once to the first
 * signal client that opens its URL, and what the relay said meanwhile is
 * replayed to that client's handler, in order. A socket that closed before it
 * was wanted is not handed out (its close could never reach the client, which
 * would wait on it for ever); the client then opens its own.
 */
export interface EarlySocket {
  /** The held socket if it is for `url`, still open and not yet taken; else null. */
  take(url: string): WebSocket | null;
  /** Not wanted after all (the room is open in another tab; startup failed). */
  close(): void;
}

export function openEarlySocket(WS: typeof WebSocket, url: string): EarlySocket {
  const ws = new WS(url);
  const early: MessageEvent[] = [];
  let closed = false;
  let taken = false;
  const keep = (ev: Event) => void early.push(ev as MessageEvent);
  ws.addEventListener('message', keep);
  ws.addEventListener('close', () => void (closed = true));
  return {
    take(wanted) {
      if (taken || closed || wanted !== url) return null;
      taken = true;
      // The taker sets its handlers right after opening (signal-client.ts); no message event can be
      // dispatched before this microtask runs, so the order holds: held ones first, then live ones.
      queueMicrotask(() => {
        ws.removeEventListener('message', keep);
        for (const ev of early.splice(0)) ws.onmessage?.call(ws, ev);
      });
      return ws;
    },
    close() {
      if (taken) return;
      taken = true;
      ws.close();
    },
  };
}

/**
 * A WebSocket constructor that hands out the early socket when asked for its
 * URL the first time, and opens a new socket otherwise (reconnects, other
 * engines of the page).
 */
export function withEarlySocket(WS: typeof WebSocket, early: EarlySocket | null): typeof WebSocket {
  function Opening(url: string | URL): WebSocket {
    return early?.take(String(url)) ?? new WS(url);
  }
  return Object.assign(Opening, { CONNECTING: WS.CONNECTING, OPEN: WS.OPEN, CLOSING: WS.CLOSING, CLOSED: WS.CLOSED }) as unknown as typeof WebSocket;
}
