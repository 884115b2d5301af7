import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { PeerConnection } from '../../src/net/link.ts';
import { createRtcPeer } from '../../src/net/rtc-peer.ts';
import { createFakeWebRtc, type FakeChannel } from './helpers/fake-webrtc.ts';
import { until } from './helpers/relay-client.ts';

/**
 * src/net/rtc-peer.ts with the real simple-peer over a fake WebRTC
 * (helpers/fake-webrtc.ts): rtc-peer reads the data channel's messages
 * itself, not through simple-peer's stream, and must still hand over every
 * frame exactly once, in order, including frames that arrive after the
 * channel opened but before simple-peer says 'connect'.
 */
interface End {
  conn: PeerConnection;
  frames: number[];
  opened: boolean;
  closed: string | null;
}

let rtc = createFakeWebRtc();
let made: End[] = [];
// Every link ends with its test: simple-peer's timers would keep the process alive.
afterEach(() => {
  for (const end of made) end.conn.destroy('ERR_TEST_DONE');
  made = [];
  rtc.uninstall();
});

function pair(): { a: End; b: End } {
  rtc = createFakeWebRtc();
  rtc.install();
  const make = (initiator: boolean, other: () => End): End => {
    const end: End = { conn: null as unknown as PeerConnection, frames: [], opened: false, closed: null };
    end.conn = createRtcPeer({ initiator, iceServers: () => [] }, {
      onSignal: (s) => other().conn.signal(s),
      onOpen: () => (end.opened = true),
      onFrame: (f) => end.frames.push(frameNumber(f)),
      onClose: (code) => (end.closed = code),
    });
    made.push(end);
    return end;
  };
  const a = make(true, () => b);
  const b = make(false, () => a);
  return { a, b };
}

/** Frame i is the 4 bytes of i (binary frames), or its decimal text (a text message). */
const frame = (i: number) => new Uint8Array(new Uint32Array([i]).buffer);
const frameNumber = (f: Uint8Array) => (f.length === 4 ? new Uint32Array(f.slice().buffer)[0]! : Number(new TextDecoder().decode(f)));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const channelsOpen = () => rtc.connections.length === 2 && rtc.connections.every((pc) => pc.channel?.readyState === 'open');
const channelOf = (i: number): FakeChannel => rtc.connections[i]!.channel!;
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('frames sent before simple-peer connects are held, then delivered once and in order, both ways', async () => {
  const { a, b } = pair();
  await until(channelsOpen, 'both channels open');
  // Open channels, no 'connect' yet (it waits for getStats): each side sends 10 frames.
  for (const i of range(0, 10)) a.conn.send(frame(i));
  for (const i of range(100, 110)) b.conn.send(frame(i));
  await settle();
  assert.deepEqual([a.frames, b.frames, a.opened, b.opened], [[], [], false, false]);
  rtc.openGate();
  await until(() => a.opened && b.opened, 'both links open');
  for (const i of range(10, 20)) a.conn.send(frame(i));
  for (const i of range(110, 120)) b.conn.send(frame(i));
  await until(() => b.frames.length >= 20 && a.frames.length >= 20, 'twenty frames each way');
  await settle(); // a doubled frame would land by now
  assert.deepEqual(b.frames, range(0, 20));
  assert.deepEqual(a.frames, range(100, 120));
  assert.deepEqual([a.closed, b.closed], [null, null]);
});

test('a text message reaches the app as its UTF-8 bytes, for the frame decoder to judge', async () => {
  const { a, b } = pair();
  rtc.openGate();
  await until(() => a.opened && b.opened, 'both links open');
  channelOf(1).deliver('7');
  a.conn.send(frame(8));
  await until(() => b.frames.length >= 2, 'two frames');
  assert.deepEqual(b.frames, [7, 8]);
});

test('more than 64 frames before the link opens: ERR_FLOOD, and nothing is handed over', async () => {
  const { a, b } = pair();
  await until(channelsOpen, 'both channels open');
  for (const i of range(0, 65)) a.conn.send(frame(i));
  await until(() => b.closed !== null, 'the flooded link closed');
  assert.equal(b.closed, 'ERR_FLOOD');
  rtc.openGate();
  await settle();
  assert.deepEqual(b.frames, []);
});

test('after destroy, frames still in flight are not handed over', async () => {
  const { a, b } = pair();
  rtc.openGate();
  await until(() => a.opened && b.opened, 'both links open');
  a.conn.send(frame(1));
  b.conn.destroy('ERR_TEST');
  await settle();
  assert.deepEqual(b.frames, []);
  assert.equal(b.closed, 'ERR_TEST');
});
