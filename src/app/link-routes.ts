import type { LinkRoute, PeerConnection } from '../net/link.ts';

/**
 * How each open link runs (direct, or relayed through TURN), read from the link's
 * own stats when it opens and again on every poll: ICE can move a link at any time
 * (a phone leaving Wi-Fi, a direct path failing over to the relay).
 */
export class LinkRoutes {
  private readonly routes = new Map<string, { link: PeerConnection; via: LinkRoute | null }>();

  constructor(private readonly changed: () => void) {}

  opened(peer: string, link: PeerConnection): void {
    this.routes.set(peer, { link, via: null });
    this.read(peer, link);
  }

  closed(peer: string): void {
    this.routes.delete(peer);
  }

  /** Reads every open link's route again; the UI hears only of changes. */
  poll(): void {
    for (const [peer, r] of this.routes) this.read(peer, r.link);
  }

  via(peer: string): LinkRoute | null {
    return this.routes.get(peer)?.via ?? null;
  }

  private read(peer: string, link: PeerConnection): void {
    void link.route?.().then((via) => {
      const r = this.routes.get(peer);
      if (r?.link !== link || r.via === via) return; // replaced or closed meanwhile, or unchanged
      r.via = via;
      this.changed();
    });
  }
}
