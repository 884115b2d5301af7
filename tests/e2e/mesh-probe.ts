import type { BrowserContext, Page } from '@playwright/test';

/**
 * What a test sees of a tab's place in the mesh, measured from outside the
 * app where it can be: every RTCPeerConnection the tab constructs is recorded
 * by a wrapper installed before the page's own scripts run, so the count of
 * constructions does not depend on the app counting its own (the budget the
 * app promises is checked against the browser's truth), and a test can close
 * one of the tab's real connections to cause a lost link for real.
 */

/** The tab's own counters (src/app/browser.ts `__meshdrop.stats().links`); fields a version does not report are absent. */
export interface LinkStats {
  iceRestarts: number;
  replacedLost: number;
  /** Peer connections the mesh counted against its budget, and how many it may still construct. */
  created?: number;
  remaining?: number;
  /** Mesh neighbours, and extra links opened to fetch a file. */
  degree?: number;
  transfer?: number;
}

export interface LinkSample {
  /** Peers this tab has an open link to. */
  open: number;
  /** RTCPeerConnections this tab has constructed since it loaded, closed ones included. */
  constructed: number;
  stats: LinkStats;
}

/** Installs the construction recorder in every page `context` opens from now on. */
export async function recordPeerConnections(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const made: RTCPeerConnection[] = [];
    // A subclass, so the page's code sees a real RTCPeerConnection (instanceof, static generateCertificate).
    class Recorded extends RTCPeerConnection {
      constructor(config?: RTCConfiguration) {
        super(config);
        made.push(this);
      }
    }
    Object.assign(globalThis, { RTCPeerConnection: Recorded, __peerConnections: made });
  });
}

interface ProbeGlobals {
  __peerConnections: RTCPeerConnection[];
  __meshdrop: { stats(): { links: LinkStats }; routes(): Record<string, unknown> };
}

export const sampleLinks = (page: Page): Promise<LinkSample> =>
  page.evaluate(() => {
    const g = globalThis as unknown as ProbeGlobals;
    return { open: Object.keys(g.__meshdrop.routes()).length, constructed: g.__peerConnections.length, stats: g.__meshdrop.stats().links };
  });

/** The peers `page` has an open link to. */
export const openPeers = (page: Page): Promise<string[]> =>
  page.evaluate(() => Object.keys((globalThis as unknown as ProbeGlobals).__meshdrop.routes()));

/** Closes one of the tab's connected RTCPeerConnections, as a network path dying would end it; false if none is connected. */
export const closeOneConnection = (page: Page): Promise<boolean> =>
  page.evaluate(() => {
    const pc = (globalThis as unknown as ProbeGlobals).__peerConnections.find((c) => c.connectionState === 'connected');
    pc?.close();
    return pc !== undefined;
  });
