import type { BrowserContext, Page } from '@playwright/test';

/**
 * Packet counters of every RTCPeerConnection a page makes, from WebRTC's own
 * stats (the nominated candidate pair). They explain stalls that no app
 * counter shows: `packetsDiscardedOnSend` counts packets Chromium dropped
 * before they reached the socket (its send queue to the network service was
 * full), which SCTP then recovers by retransmission and timeouts, seconds
 * in which nothing moves. Runs with none were fast; runs with thousands stalled.
 *
 * The init script only remembers each connection the page creates; the app
 * gets the very same object.
 */
const TRACK = `(() => {
  if (window.__benchPcs) return;
  const Native = window.RTCPeerConnection;
  window.__benchPcs = [];
  window.RTCPeerConnection = function (...args) { const pc = new Native(...args); window.__benchPcs.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Native.prototype;
})()`;

const READ = `(async () => {
  const out = { packetsSent: 0, packetsReceived: 0, discardedOnSend: 0 };
  for (const pc of window.__benchPcs || []) {
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type !== 'candidate-pair' || !s.nominated) return;
      out.packetsSent += s.packetsSent || 0;
      out.packetsReceived += s.packetsReceived || 0;
      out.discardedOnSend += s.packetsDiscardedOnSend || 0;
    });
  }
  return out;
})()`;

export interface PacketStats {
  packetsSent: number;
  packetsReceived: number;
  discardedOnSend: number;
}

/** For pages the app will open: every page of the context, from its first script on. */
export const trackContext = (context: BrowserContext) => context.addInitScript(TRACK);

/** For a page already open (the raw channel test): connections made from now on. */
export const trackPage = (page: Page) => page.evaluate(TRACK);

/** Summed over pages; a page whose stats cannot be read (closing) counts as zero. */
export async function packetStats(pages: Page[]): Promise<PacketStats> {
  const all = await Promise.all(pages.map((p) => (p.evaluate(READ) as Promise<PacketStats>).catch(() => null)));
  const sum = { packetsSent: 0, packetsReceived: 0, discardedOnSend: 0 };
  for (const s of all) {
    if (!s) continue;
    sum.packetsSent += s.packetsSent;
    sum.packetsReceived += s.packetsReceived;
    sum.discardedOnSend += s.discardedOnSend;
  }
  return sum;
}
