import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectMediaBridge } from '../../src/app/media-bridge.ts';
import { focusMessage, storedMessage } from '../../src/sw/media-protocol.ts';

/** The page's half of the media route, with the browser's ServiceWorkerContainer played by an EventTarget. */
const ID = 'cd'.repeat(32);

function setup() {
  const posted: unknown[] = [];
  const sw = Object.assign(new EventTarget(), { controller: { postMessage: (m: unknown) => posted.push(m) }, startMessages: () => undefined });
  const focused: [string, number | null][] = [];
  let now = 0;
  const bridge = connectMediaBridge({ focus: (id, at) => void focused.push([id, at]) }, sw as unknown as ServiceWorkerContainer, () => now);
  const fromWorker = (data: unknown) => sw.dispatchEvent(new MessageEvent('message', { data }));
  return { bridge, posted, focused, fromWorker, later: (ms: number) => (now += ms) };
}

test('where the worker says a player reads becomes the engine focus; anything else is ignored', () => {
  const w = setup();
  w.fromWorker(focusMessage(ID, 1234));
  w.fromWorker({ type: 'meshdrop-media-focus', fileId: ID, offset: 'x' });
  w.fromWorker('hello');
  assert.deepEqual(w.focused, [[ID, 1234]]);
  w.bridge.close();
  w.fromWorker(focusMessage(ID, 99));
  assert.equal(w.focused.length, 1, 'a closed bridge passes nothing on');
});

test('stored pieces are announced to the worker only for files a player read lately', () => {
  const w = setup();
  const other = 'ef'.repeat(32);
  w.bridge.stored(ID);
  assert.deepEqual(w.posted, [], 'no player asked: the worker is not woken for nothing');
  w.fromWorker(focusMessage(ID, 0));
  w.bridge.stored(ID);
  w.bridge.stored(other);
  assert.deepEqual(w.posted, [storedMessage(ID)]);
  w.later(121_000);
  w.bridge.stored(ID);
  assert.equal(w.posted.length, 1, 'two minutes after the last read nobody is waiting');
});
