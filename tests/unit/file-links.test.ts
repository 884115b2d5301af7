import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FileLinks, type FileLinksDeps, type LinkOutcome } from '../../src/app/file-links.ts';
import { RateMeter } from '../../src/core/rate.ts';
import { formatTimeLeft } from '../../src/ui/format.ts';
import { fileLinkFor, parseFileLink, parseRoomFragment, roomFragmentForName, roomPartOf } from '../../src/core/room.ts';

/** File links: the fragment format, and the wait-then-start logic on its own (the engine's side is in file-links-engine.test.ts). */
const SECRET = 'AbCdEfGhIjKlMnOpQrStUv';
const ID = 'a'.repeat(40) + '0123456789abcdef01234567';

describe('file link fragments', () => {
  test('a file link is the room link plus the id, for every kind of room link', () => {
    for (const roomLink of [`#${SECRET}`, `#${roomFragmentForName('Book Club')}`, `#${roomFragmentForName(SECRET)}`, '#my-family', `#${roomFragmentForName('a/file/b')}`]) {
      const link = fileLinkFor(`https://meshdrop.example/app/${roomLink}`, ID);
      assert.ok(link.startsWith('https://meshdrop.example/app/#'), link);
      const hash = link.slice(link.indexOf('#'));
      assert.deepEqual(parseRoomFragment(hash), parseRoomFragment(roomLink), `${link} opens the same room`);
      assert.deepEqual(parseFileLink(hash), { ok: true, value: ID });
      assert.equal(roomPartOf(hash), roomLink);
    }
  });

  test('old room links are unchanged and name no file', () => {
    for (const hash of [`#${SECRET}`, '#my-family', '#name:abc', '#Book%20Club', '', '#']) {
      assert.deepEqual(parseFileLink(hash), { ok: true, value: null }, hash);
      assert.equal(roomPartOf(hash), hash === '' ? '#' : hash);
    }
    assert.deepEqual(parseRoomFragment(`#${SECRET}`), { secret: SECRET, named: false });
    assert.deepEqual(parseRoomFragment('#a%2Ffile%2Fb'), { secret: 'a/file/b', named: true }, 'an escaped marker is part of a name');
  });

  test('the link of a page opened by a file link names the new file, not both', () => {
    const other = 'f'.repeat(64);
    const link = fileLinkFor(`http://h/#${SECRET}/file/${ID}`, other);
    assert.equal(link, `http://h/#${SECRET}/file/${other}`);
    assert.equal(fileLinkFor('http://h/', ID), `http://h/#/file/${ID}`, 'no room: the link says so when read');
  });

  test('ids are read case-insensitively and with stray spaces, written in lower case', () => {
    assert.deepEqual(parseFileLink(`#${SECRET}/file/${ID.toUpperCase()}`), { ok: true, value: ID });
    assert.deepEqual(parseFileLink(`#${SECRET}/file/ ${ID} `), { ok: true, value: ID });
  });

  test('damaged or forged file parts are error values, never exceptions', () => {
    const bad = ['', 'abc', ID.slice(1), `${ID}0`, `${ID.slice(1)}g`, `${ID}/file/${ID}`.slice(0, 70), '%zz', '%00'.repeat(64), 'x'.repeat(1_000_000), `../${ID}`];
    for (const file of bad) {
      const r = parseFileLink(`#${SECRET}/file/${file}`);
      assert.equal(r.ok, false, file.slice(0, 80));
      if (!r.ok) assert.equal(r.code, 'bad-file-id');
    }
    const noRoom = parseFileLink(`#/file/${ID}`);
    assert.equal(noRoom.ok, false);
    if (!noRoom.ok) assert.equal(noRoom.code, 'no-room');
    assert.equal(parseFileLink(`#%E0%A4/file/${ID}`).ok, false, 'a malformed room part names no room');
    // The room of a damaged file link still opens: the page can say what is wrong inside the room.
    assert.deepEqual(parseRoomFragment(`#${SECRET}/file/nonsense`), { secret: SECRET, named: false });
  });

  test('the last marker wins, so a room name cannot smuggle a second file id', () => {
    assert.deepEqual(parseFileLink(`#x/file/${'b'.repeat(64)}/file/${ID}`), { ok: true, value: ID });
    assert.deepEqual(parseRoomFragment(`#x/file/${'b'.repeat(64)}/file/${ID}`), { secret: `x/file/${'b'.repeat(64)}`, named: true });
  });
});

describe('time remaining', () => {
  test('unknown until two samples, then remaining bytes over the measured rate', () => {
    const m = new RateMeter(3000);
    assert.equal(m.secondsFor(1000, 0), null, 'nothing measured');
    m.add(1000, 0);
    assert.equal(m.secondsFor(1000, 0), null, 'one piece says nothing about a rate');
    m.add(1000, 1000);
    assert.equal(m.secondsFor(4000, 1000), 2, '2000 bytes over 1 s: 4000 more take 2 s');
    assert.equal(m.secondsFor(-5, 1000), 0);
    assert.equal(m.secondsFor(1000, 10_000), null, 'a stalled download has no estimate');
  });

  test('is shown rounded up, in the largest unit that reads well', () => {
    assert.equal(formatTimeLeft(0.2), '1 s left');
    assert.equal(formatTimeLeft(59.5), '1 min left');
    assert.equal(formatTimeLeft(61), '2 min left');
    assert.equal(formatTimeLeft(3600), '1 h left');
    assert.equal(formatTimeLeft(3661), '1 h 2 min left');
  });
});

/** A room and a browser reduced to what FileLinks asks about. */
function world() {
  const w = {
    held: new Map<string, 'complete' | 'partial' | 'elsewhere'>(),
    announced: new Map<string, string>(),
    fetching: new Map<string, string>(),
    downloads: [] as { id: string; end(complete: boolean): void }[],
    shared: [] as string[],
    cancelled: [] as string[],
    changes: 0,
  };
  const deps: FileLinksDeps = {
    held: (id) => w.held.get(id) ?? null,
    announced: (id) => w.announced.get(id) ?? null,
    fetching: (id) => w.fetching.get(id) ?? null,
    download: (id) => new Promise<boolean>((resolve) => w.downloads.push({ id, end: resolve })),
    shareHere(id) {
      w.shared.push(id);
      w.held.set(id, 'partial');
    },
    async cancel(id) {
      w.cancelled.push(id);
    },
    changed: () => w.changes++,
  };
  return { w, links: new FileLinks(deps) };
}

const outcome = (p: Promise<LinkOutcome>) => Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), 20))]);

describe('FileLinks: waiting, then starting', () => {
  test('opened before anyone announced the file: waits with the id only, starts on the announcement, ends once stored', async () => {
    const { w, links } = world();
    const done = links.open(ID);
    assert.deepEqual(links.waiting(), [{ fileId: ID, name: null }]);
    links.check();
    assert.equal(w.downloads.length, 0, 'nothing to ask for yet');
    w.announced.set(ID, 'photo.png');
    links.check();
    links.check();
    assert.deepEqual(w.downloads.map((d) => d.id), [ID], 'asked once, however often the engine changes');
    // The holder left before the manifest came: the announcement went with it, the download waits on.
    w.announced.delete(ID);
    w.fetching.set(ID, 'photo.png');
    links.check();
    assert.deepEqual(links.waiting(), [{ fileId: ID, name: 'photo.png' }], 'the wait now has a name');
    assert.equal(await outcome(done), 'pending');
    w.held.set(ID, 'partial'); // the manifest arrived: the file has a stored record and a row
    links.check();
    assert.equal(await done, 'started');
    assert.deepEqual(links.waiting(), []);
  });

  test('a file already complete here needs nothing fetched', async () => {
    const { w, links } = world();
    w.held.set(ID, 'complete');
    w.announced.set(ID, 'x');
    assert.equal(await links.open(ID), 'complete');
    assert.equal(w.downloads.length, 0);
  });

  test('a file stored in part (a reload mid-download, or paused) is asked for again: resumed and saved once complete', async () => {
    const { w, links } = world();
    w.held.set(ID, 'partial');
    assert.equal(await links.open(ID), 'started');
    assert.deepEqual(w.downloads.map((d) => d.id), [ID]);
  });

  test('a file kept for another room is offered here too', async () => {
    const { w, links } = world();
    w.held.set(ID, 'elsewhere');
    assert.equal(await links.open(ID), 'started');
    assert.deepEqual(w.shared, [ID]);
  });

  test('a download that stops before anything is stored (cancel, no space) ends the wait', async () => {
    const { w, links } = world();
    const done = links.open(ID);
    w.announced.set(ID, 'x');
    links.check();
    w.downloads[0]!.end(false);
    assert.equal(await done, 'dismissed');
  });

  test('a file that never appears waits until the person stops waiting; opening it twice is one wait', async () => {
    const { w, links } = world();
    const first = links.open(ID);
    const second = links.open(ID);
    for (let i = 0; i < 5; i++) links.check();
    assert.equal(await outcome(first), 'pending');
    links.dismiss(ID);
    assert.equal(await first, 'dismissed');
    assert.equal(await second, 'dismissed');
    assert.deepEqual(links.waiting(), []);
    links.dismiss(ID); // a second dismissal is harmless
    assert.deepEqual(w.cancelled, [], 'nothing was asked for, nothing to cancel');
  });

  test('stopping the wait for a download that stored nothing yet stops it; one with a row of its own carries on', async () => {
    const { w, links } = world();
    const other = 'b'.repeat(64);
    w.announced.set(ID, 'a');
    w.announced.set(other, 'b');
    void links.open(ID);
    void links.open(other);
    w.held.set(other, 'partial'); // its manifest came: a stored record, a row with its own Cancel
    links.check();
    links.dismiss(ID);
    links.dismiss(other);
    assert.deepEqual(w.cancelled, [ID]);
  });

  test('checks started from inside a check (starting a download changes the engine) are run, not lost', async () => {
    const { w, links } = world();
    const other = 'b'.repeat(64);
    const a = links.open(ID);
    const b = links.open(other);
    // Sharing one file here makes the engine change, which checks again mid-check; the other completes meanwhile.
    w.held.set(ID, 'elsewhere');
    const realShare = w.shared.push.bind(w.shared);
    w.shared.push = (...ids: string[]) => {
      w.held.set(other, 'complete');
      links.check();
      return realShare(...ids);
    };
    links.check();
    assert.equal(await a, 'started');
    assert.equal(await b, 'complete');
  });
});

describe('what opens in place', () => {
  test('by type or by extension; anything else has no preview', async () => {
    const { previewKind } = await import('../../src/core/preview-kind.ts');
    assert.equal(previewKind('image/png', 'a.png'), 'image');
    assert.equal(previewKind('', 'HOLIDAY.JPG'), 'image', 'no type: the extension decides');
    assert.equal(previewKind('application/pdf', 'x'), 'pdf');
    assert.equal(previewKind('application/octet-stream', 'paper.pdf'), 'pdf');
    assert.equal(previewKind('text/plain; charset=utf-8', 'notes'), 'text');
    assert.equal(previewKind('text/html', 'page.html'), 'text', 'HTML is shown as its text, never rendered');
    assert.equal(previewKind('application/json', 'data'), 'text');
    assert.equal(previewKind('application/octet-stream', 'movie.mkv'), null);
    assert.equal(previewKind('application/x-msdownload', 'setup.exe'), null);
    assert.equal(previewKind('', 'noextension'), null);
  });
});
