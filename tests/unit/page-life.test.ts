import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  LONG_HIDDEN_MS, shouldRestart, transferRunning, wantWakeLock, watchPageLife, type PageLifeDeps, type WakeLockSentinelLike,
} from '../../src/app/page-life.ts';
import type { FileStatus } from '../../src/app/state.ts';

const files = (...statuses: FileStatus[]) => statuses.map((status) => ({ status })) as never[];
const tick = () => new Promise((r) => setImmediate(r));

/** Node's Event has a read-only returnValue; a browser's BeforeUnloadEvent lets it be set. */
function beforeUnload(): Event {
  const e = new Event('beforeunload', { cancelable: true });
  Object.defineProperty(e, 'returnValue', { value: undefined, writable: true });
  return e;
}

/** A page, a wake lock and an engine, all fake, driven by the test. */
function fakePage() {
  const win = new EventTarget();
  const connection = new EventTarget();
  const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  const log: string[] = [];
  const listeners = new Set<() => void>();
  let refuse = false;
  const world = {
    now: 0, running: false, relayOnline: true, log,
    /** What the engine was told of the page's visibility, in order. */
    shown: [] as boolean[],
    wakeLock: {
      request: async (): Promise<WakeLockSentinelLike> => {
        log.push('request');
        if (refuse) throw new Error('NotAllowedError');
        const released = new EventTarget();
        return {
          release: async () => void log.push('release'),
          addEventListener: (t: 'release', fn: () => void) => released.addEventListener(t, fn),
        };
      },
    },
    refuse: (v: boolean) => (refuse = v),
    changed: () => listeners.forEach((fn) => fn()),
    setVisibility(v: 'visible' | 'hidden') {
      doc.visibilityState = v;
      doc.dispatchEvent(new Event('visibilitychange'));
    },
    win, doc, connection,
  };
  const deps: PageLifeDeps = {
    window: win, document: doc, wakeLock: world.wakeLock,
    now: () => world.now, running: () => world.running, relayOnline: () => world.relayOnline,
    subscribe: (fn) => (listeners.add(fn), () => listeners.delete(fn)),
    connection,
    networkChanged: () => log.push('network'),
    visibilityChanged: (visible) => world.shown.push(visible),
    closeEngine: () => log.push('close'),
    restart: () => log.push('restart'),
    warn: () => log.push('warn'),
  };
  return { world, deps };
}

describe('page life decisions', () => {
  test('a transfer runs while a file downloads, waits for its list, or is being imported', () => {
    assert.equal(transferRunning({ files: files('available', 'complete', 'error'), imports: [] }), false);
    assert.equal(transferRunning({ files: files('complete', 'downloading'), imports: [] }), true);
    assert.equal(transferRunning({ files: files('manifest'), imports: [] }), true);
    assert.equal(transferRunning({ files: [], imports: [{ id: 1, name: 'a', size: 1, done: 0 }] }), true);
  });

  test('the wake lock is wanted only while running and visible', () => {
    assert.deepEqual([wantWakeLock(true, true), wantWakeLock(true, false), wantWakeLock(false, true)], [true, false, false]);
  });

  test('a fresh engine after pagehide, after a freeze, or after a long hidden spell with the relay gone', () => {
    const base = { kind: 'visible' as const, closedByPagehide: false, hiddenMs: 0, relayOnline: true };
    assert.equal(shouldRestart(base), false);
    assert.equal(shouldRestart({ ...base, kind: 'pageshow', closedByPagehide: true }), true);
    assert.equal(shouldRestart({ ...base, kind: 'resume' }), true);
    assert.equal(shouldRestart({ ...base, hiddenMs: LONG_HIDDEN_MS, relayOnline: true }), false);
    assert.equal(shouldRestart({ ...base, hiddenMs: LONG_HIDDEN_MS - 1, relayOnline: false }), false);
    assert.equal(shouldRestart({ ...base, hiddenMs: LONG_HIDDEN_MS, relayOnline: false }), true);
  });
});

describe('watchPageLife', () => {
  test('tells the engine how the page is at the start and each time it is shown or hidden (presence status)', () => {
    const { world, deps } = fakePage();
    world.doc.visibilityState = 'hidden'; // opened in a background tab
    const stop = watchPageLife(deps);
    world.setVisibility('visible');
    world.setVisibility('hidden');
    assert.deepEqual(world.shown, [false, true, false]);
    stop();
    world.setVisibility('visible');
    assert.deepEqual(world.shown, [false, true, false], 'unwired: told nothing more');
  });

  test('holds the wake lock while a transfer runs, asks again after the page is shown, lets go when it ends', async () => {
    const { world, deps } = fakePage();
    const stop = watchPageLife(deps);
    await tick();
    assert.deepEqual(world.log, [], 'idle: no wake lock');
    world.running = true;
    world.changed();
    world.changed(); // a second change while the request is in flight asks nothing more
    await tick();
    assert.deepEqual(world.log, ['request']);
    world.setVisibility('hidden'); // the browser drops it; we drop our handle too
    world.setVisibility('visible');
    await tick();
    assert.deepEqual(world.log, ['request', 'release', 'request']);
    world.running = false;
    world.changed();
    await tick();
    assert.deepEqual(world.log, ['request', 'release', 'request', 'release']);
    stop();
  });

  test('a refused wake lock is warned about once, and asked again only when the page is shown anew', async () => {
    const { world, deps } = fakePage();
    world.refuse(true);
    world.running = true;
    const stop = watchPageLife(deps);
    await tick();
    world.changed();
    world.changed();
    await tick();
    assert.deepEqual(world.log, ['request', 'warn']);
    world.refuse(false);
    world.setVisibility('hidden');
    world.setVisibility('visible');
    await tick();
    assert.deepEqual(world.log, ['request', 'warn', 'request']);
    stop();
  });

  test('a network change (back online, or the connection type changed) reaches the engine, without a restart', () => {
    const { world, deps } = fakePage();
    const stop = watchPageLife(deps);
    world.win.dispatchEvent(new Event('online'));
    world.connection.dispatchEvent(new Event('change'));
    assert.deepEqual(world.log, ['network', 'network']);
    stop();
    world.win.dispatchEvent(new Event('online'));
    world.connection.dispatchEvent(new Event('change'));
    assert.deepEqual(world.log, ['network', 'network'], 'unwired');
  });

  test('warns before unload only while a transfer runs', () => {
    const { world, deps } = fakePage();
    const stop = watchPageLife(deps);
    const idle = beforeUnload();
    world.win.dispatchEvent(idle);
    assert.equal(idle.defaultPrevented, false);
    world.running = true;
    const busy = beforeUnload();
    world.win.dispatchEvent(busy);
    assert.equal(busy.defaultPrevented, true);
    assert.equal((busy as unknown as { returnValue: unknown }).returnValue, '');
    stop();
    const after = beforeUnload();
    world.win.dispatchEvent(after);
    assert.equal(after.defaultPrevented, false, 'unwired');
  });

  test('pagehide closes the engine; coming back from the cache restarts it', () => {
    const { world, deps } = fakePage();
    const stop = watchPageLife(deps);
    world.win.dispatchEvent(new Event('pagehide'));
    assert.deepEqual(world.log, ['close']);
    world.win.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    assert.deepEqual(world.log, ['close', 'restart']);
    world.setVisibility('hidden');
    world.setVisibility('visible');
    assert.deepEqual(world.log, ['close', 'restart'], 'a short hidden spell after the restart restarts nothing');
    stop();
  });

  test('a thaw from a freeze, or a long hidden spell with the relay down, restarts; a short one does not', () => {
    const { world, deps } = fakePage();
    const stop = watchPageLife(deps);
    world.doc.dispatchEvent(new Event('resume'));
    assert.deepEqual(world.log, ['restart']);
    world.relayOnline = false;
    world.setVisibility('hidden');
    world.now += LONG_HIDDEN_MS - 1;
    world.setVisibility('visible');
    assert.deepEqual(world.log, ['restart']);
    world.setVisibility('hidden');
    world.now += LONG_HIDDEN_MS;
    world.setVisibility('visible');
    assert.deepEqual(world.log, ['restart', 'restart']);
    stop();
  });
});
