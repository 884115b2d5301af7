import type { Page } from '@playwright/test';
import { DATA_CHUNK } from '../../src/core/wire/frames.ts';
import { HIGH_WATER, LOW_WATER } from '../../src/net/link.ts';
import { MiB, withTimeout } from './infra.ts';
import { packetStats, trackPage, type PacketStats } from './transport.ts';

/**
 * (a) The bare rate: one RTCDataChannel between two pages, no app, with the
 * app's message size and backpressure (pause above HIGH_WATER = 1 MiB queued,
 * resume on 'bufferedamountlow' at LOW_WATER = 256 KiB, as src/net/link.ts and
 * src/net/rtc-peer.ts do). We do the offer/answer ourselves and wait for ICE
 * gathering to complete, so each side's SDP carries its candidates (no trickle).
 *
 * The in-page code is a plain-JS string: tsx (esbuild keepNames) would wrap
 * named functions in a `__name` helper that does not exist inside the page.
 */
const IN_PAGE = String.raw`
window.__raw = (() => {
  const now = () => performance.timeOrigin + performance.now();
  const s = { pc: null, ch: null, received: 0, target: Infinity, lastAt: 0, done: null };
  const gathered = (pc) => pc.iceGatheringState === 'complete' ? Promise.resolve() : new Promise((r) =>
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') r(); }));
  const opened = (ch) => ch.readyState === 'open' ? Promise.resolve() : new Promise((r) => ch.addEventListener('open', () => r(), { once: true }));
  const count = (ch) => {
    ch.binaryType = 'arraybuffer';
    ch.onmessage = (e) => {
      s.received += e.data.byteLength;
      if (s.received >= s.target && s.done) { s.lastAt = now(); s.done(s.lastAt); s.done = null; }
    };
  };
  return {
    async offer() {
      s.pc = new RTCPeerConnection({ iceServers: [] });
      s.ch = s.pc.createDataChannel('bench');
      await s.pc.setLocalDescription(await s.pc.createOffer());
      await gathered(s.pc);
      return s.pc.localDescription.toJSON();
    },
    async answer(offer) {
      s.pc = new RTCPeerConnection({ iceServers: [] });
      s.pc.addEventListener('datachannel', (e) => { s.ch = e.channel; count(e.channel); }, { once: true });
      await s.pc.setRemoteDescription(offer);
      await s.pc.setLocalDescription(await s.pc.createAnswer());
      await gathered(s.pc);
      return s.pc.localDescription.toJSON();
    },
    async accept(answer) { await s.pc.setRemoteDescription(answer); await opened(s.ch); },
    async ready() { while (!s.ch) await new Promise((r) => setTimeout(r, 10)); await opened(s.ch); },
    finished(total) {
      s.target = total;
      return new Promise((r) => { s.done = r; if (s.received >= total) { s.done = null; r(now()); } });
    },
    async send(total, size, high, low) {
      const ch = s.ch;
      ch.bufferedAmountLowThreshold = low;
      const msg = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) crypto.getRandomValues(msg.subarray(i, Math.min(size, i + 65536)));
      const drained = () => new Promise((r) => ch.addEventListener('bufferedamountlow', () => r(), { once: true }));
      const start = now();
      for (let sent = 0; sent < total; sent += size) {
        while (ch.bufferedAmount > high) await drained();
        ch.send(sent + size <= total ? msg : msg.subarray(0, total - sent));
      }
      return { start, sendDone: now() };
    },
    close() { s.pc && s.pc.close(); },
    /** For benches that move their own bytes over the connected channel (raw-stored.ts). */
    channel() { return s.ch; },
  };
})();
`;

/** What the bare channel sends: by default the app's DATA frame size and water marks (src/net/link.ts). */
export interface RawShape {
  message: number;
  high: number;
  low: number;
}

export const APP_SHAPE: RawShape = { message: DATA_CHUNK, high: HIGH_WATER, low: LOW_WATER };

export interface RawResult {
  bytes: number;
  seconds: number;
  mibPerSec: number;
  /** When the sender had queued its last message: the rest is the queue draining. */
  sendLoopSeconds: number;
  packets: PacketStats;
}

/** Connects sender -> receiver with a fresh peer connection each. */
export async function connect(sender: Page, receiver: Page): Promise<void> {
  await Promise.all([trackPage(sender), trackPage(receiver)]);
  await sender.evaluate(IN_PAGE);
  await receiver.evaluate(IN_PAGE);
  const offer = await sender.evaluate('window.__raw.offer()');
  const answer = await receiver.evaluate(`window.__raw.answer(${JSON.stringify(offer)})`);
  await Promise.all([sender.evaluate(`window.__raw.accept(${JSON.stringify(answer)})`), receiver.evaluate('window.__raw.ready()')]);
}

/** Time from the first send to the last byte received, clocks compared as epoch ms (same machine). */
export async function rawRate(sender: Page, receiver: Page, mib: number, shape: RawShape = APP_SHAPE): Promise<RawResult> {
  const bytes = mib * MiB;
  await connect(sender, receiver);
  try {
    const lastAt = receiver.evaluate(`window.__raw.finished(${bytes})`) as Promise<number>;
    lastAt.catch(() => undefined); // if sending fails we report that error, not this one
    // A channel that stalls (seen twice under heavy load) fails the phase instead of hanging the bench.
    const limit = Math.max(120_000, mib * 1_000);
    const sending = sender.evaluate(`window.__raw.send(${bytes}, ${shape.message}, ${shape.high}, ${shape.low})`) as Promise<{ start: number; sendDone: number }>;
    const sent = await withTimeout(sending, limit, `the bare channel sending ${mib} MiB`);
    const seconds = ((await withTimeout(lastAt, limit, `the bare channel delivering ${mib} MiB`)) - sent.start) / 1000;
    const packets = await packetStats([sender, receiver]);
    return { bytes, seconds, mibPerSec: mib / seconds, sendLoopSeconds: (sent.sendDone - sent.start) / 1000, packets };
  } finally {
    await Promise.all([sender.evaluate('window.__raw.close()'), receiver.evaluate('window.__raw.close()')]).catch(() => undefined);
  }
}
