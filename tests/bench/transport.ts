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
  const sends = window.__benchSends = { messages: 0, bytes: 0, small: 0, idle: 0, idleGapMs: 0 };
  const send = RTCDataChannel.prototype.send;
  const lastBulk = new WeakMap();
  RTCDataChannel.prototype.send = function (data) {
    const n = data.byteLength ?? data.size ?? String(data).length;
    sends.messages++;
    sends.bytes += n;
    if (n < 1024) sends.small++;
    else {
      const at = performance.now();
      if (this.bufferedAmount === 0) {
        sends.idle++;
        if (lastBulk.has(this)) sends.idleGapMs += at - lastBulk.get(this);
      }
      lastBulk.set(this, at);
    }
    return send.call(this, data);
  };
})()`;

const READ = `(async () => {
  const s = window.__benchSends || { messages: 0, bytes: 0, small: 0, idle: 0, idleGapMs: 0 };
  const out = {
    packetsSent: 0, packetsReceived: 0, discardedOnSend: 0,
    messages: s.messages, smallMessages: s.small, idleSends: s.idle, idleGapMs: Math.round(s.idleGapMs),
  };
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
  /** Data-channel messages the pages sent (since the page's tracking began), those under 1 KiB (control frames). */
  messages: number;
  smallMessages: number;
  /** Bulk sends (1 KiB or more) that found nothing queued: the channel had run dry before them. */
  idleSends: number;
  /** Time from the previous bulk send to each of those: the dry spells, plus the drain of what was queued then. */
  idleGapMs: number;
}

/** For pages the app will open: every page of the context, from its first script on. */
export const trackContext = (context: BrowserContext) => context.addInitScript(TRACK);

/** For a page already open (the raw channel test): connections made from now on. */
export const trackPage = (page: Page) => page.evaluate(TRACK);

/** Summed over pages; a page whose stats cannot be read (closing) counts as zero. */
export async function packetStats(pages: Page[]): Promise<PacketStats> {
  const all = await Promise.all(pages.map((p) => (p.evaluate(READ) as Promise<PacketStats>).catch(() => null)));
  const sum: PacketStats = { packetsSent: 0, packetsReceived: 0, discardedOnSend: 0, messages: 0, smallMessages: 0, idleSends: 0, idleGapMs: 0 };
  for (const s of all) {
    if (!s) continue;
    for (const k of Object.keys(sum) as (keyof PacketStats)[]) sum[k] += s[k];
  }
  return sum;
}

/** What was sent between two readings of packetStats: a phase's own traffic, not the page's whole life. */
export function packetsSince(before: PacketStats, after: PacketStats): PacketStats {
  const out = { ...after };
  for (const k of Object.keys(out) as (keyof PacketStats)[]) out[k] -= before[k];
  return out;
}
