import type { RelayConnector } from '../net/mesh-transport.ts';

/**
 * When this page load first reached each step of joining its room, on the
 * page's clock (in the browser, ms since navigation start). Only the first
 * time counts: the question it answers is "how long from opening the link to
 * being in the room", and later links or reconnects would blur it. A step
 * costs one Map lookup; the benchmark reads it as `__meshdrop.timeline()`,
 * people in the console may too.
 */
export type JoinStep =
  /** The app's code is running (browser.ts evaluated). */
  | 'script'
  /** Room topic and signalling key derived from the link's secret. */
  | 'keys'
  /** This tab holds the room (Web Locks: no other tab of this browser has it). */
  | 'tab'
  /** Our identity key pair is loaded (or made, on a first visit). */
  | 'identity'
  /** The engine exists: the room view can render. */
  | 'engine'
  /** What this browser remembers of the room's peers (bans, verified marks) is loaded: dialling may start. */
  | 'storage'
  /** The relay admitted us and said who is here. */
  | 'welcome'
  /** Our first peer connection is made: we dial, or answer an offer. */
  | 'dial'
  /** First sealed signal sent / opened (an offer, answer or ICE candidate). */
  | 'signal-out'
  | 'signal-in'
  /** First data channel open. */
  | 'link-open'
  /** Our HELLO went out on it; the peer's HELLO checked (its identity proven on this link). */
  | 'hello-sent'
  | 'hello-ok'
  /** First catalogue from a peer taken in (its signed announcements verified). */
  | 'catalogue'
  /** This browser's stored files are loaded and re-announced. */
  | 'library';

export type TimelineView = Partial<Record<JoinStep, number>>;

export class JoinTimeline {
  private readonly at = new Map<JoinStep, number>();

  constructor(private readonly now: () => number) {}

  mark(step: JoinStep): void {
    if (!this.at.has(step)) this.at.set(step, Math.round(this.now() * 10) / 10);
  }

  view(): TimelineView {
    return Object.fromEntries(this.at);
  }
}

/** The relay connector with its first welcome and first signals each way marked. */
export function timedRelay(connect: RelayConnector, timeline: JoinTimeline): RelayConnector {
  return (h, mesh) => {
    const client = connect({
      ...h,
      onWelcome(peers, size) {
        timeline.mark('welcome');
        h.onWelcome(peers, size);
      },
      onSignal(from, data) {
        timeline.mark('signal-in');
        h.onSignal(from, data);
      },
    }, mesh);
    return {
      sendSignal(to, data) {
        timeline.mark('signal-out');
        client.sendSignal(to, data);
      },
      reconnect: () => client.reconnect(),
      close: () => client.close(),
    };
  };
}
