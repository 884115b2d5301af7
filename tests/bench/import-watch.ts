import type { Page } from '@playwright/test';

/**
 * Moments in a page, stamped by the page itself on its own clock (Date.now(),
 * the machine's wall clock, which the bench's Date.now() reads too, so page
 * and bench times need no conversion). A loop in the page checks every
 * POLL_MS, so a moment is late by at most that; asking from the bench over
 * CDP would add a round trip per look and its CPU to the very page measured.
 *
 * Files are found by NAME: on a branch with drafts, a dropped file's id
 * changes when its hashing ends, and its row and download change id with it.
 * Every id the row has shown is remembered, so a download begun under the
 * draft id still counts after the row moved to the final one.
 */
export interface Moments {
  /** The file went into the share input (its `input` event, before the app's handler). */
  droppedAt?: number;
  /** The file's row is in the room's list. */
  rowAt?: number;
  /** The sharer's import (hash + store) finished: `stats().imports` if the build has it, else the row says "Shared by you". */
  importedAt?: number;
  /** From `stats().imports` (builds with drafts): the page's own end of hashing and of storing. */
  hashedAt?: number;
  storedAt?: number;
  /** A download of the file holds its first verified, stored piece (`stats().downloads[id].have > 0`). */
  firstStoredAt?: number;
  /** Every id the file's row has had. */
  ids: string[];
}

const POLL_MS = 20;

/** The helper tsx wraps named functions in (esbuild keepNames); pages need it for functions sent from here. */
export const prepare = (page: Page) => page.evaluate('globalThis.__name ??= (f) => f');

/**
 * Starts stamping the moments of `name` in the page. A sharer's page looks
 * for the end of its import, a friend's for its first stored piece: each asks
 * the app's counters only for what it waits for.
 */
export async function watchFile(page: Page, name: string, role: 'sharer' | 'friend'): Promise<void> {
  await prepare(page);
  await page.evaluate(startWatch, { name, role, input: 'file-input', pollMs: POLL_MS });
}

/** The moments so far; `stop` also ends the page's loop. */
export async function moments(page: Page, name: string, stop = false): Promise<Moments> {
  return page.evaluate(({ name, stop }) => {
    const w = (globalThis as unknown as { __benchWatch?: Record<string, { m: Moments; stop(): void }> }).__benchWatch?.[name];
    if (!w) throw new Error(`no watch for ${name} in this page`);
    if (stop) w.stop();
    return w.m;
  }, { name, stop });
}

/** Resolves with the moments once `key` is stamped; throws after `timeoutMs`. */
export async function waitForMoment(page: Page, name: string, key: keyof Omit<Moments, 'ids'>, timeoutMs: number): Promise<Moments> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await moments(page, name);
    if (m[key] !== undefined) return m;
    if (Date.now() > deadline) throw new Error(`${name}: no ${key} after ${Math.round(timeoutMs / 1000)} s (so far: ${JSON.stringify(m)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs in the page. */
function startWatch(o: { name: string; role: 'sharer' | 'friend'; input: string; pollMs: number }): void {
  type Report = { have?: number };
  type Import = { name: string; hashedAt?: number; storedAt?: number };
  type Stats = { downloads?: Record<string, Report>; imports?: Import[] };
  const g = globalThis as unknown as {
    __benchWatch?: Record<string, { m: Moments; stop(): void }>;
    __meshdrop?: { stats(): Stats };
  };
  const m: Moments = { ids: [] };
  const stamp = (key: keyof Omit<Moments, 'ids'>, at = Date.now()) => {
    if (m[key] === undefined) m[key] = at;
  };
  const onInput = (e: Event) => {
    const el = e.target as HTMLInputElement | null;
    if (el?.id === o.input && [...(el.files ?? [])].some((f) => f.name === o.name)) stamp('droppedAt');
  };
  document.addEventListener('input', onInput, true);
  // Not the sharer's "Preparing to share" line (li.file.importing): the file's own row.
  const row = () => [...document.querySelectorAll('li.file:not(.importing)')].find((li) => li.querySelector('.file-name')?.textContent === o.name);
  const look = () => {
    const li = row();
    if (li) {
      stamp('rowAt');
      const id = li.getAttribute('data-file-id');
      if (id && !m.ids.includes(id)) m.ids.push(id);
    }
    const waiting = o.role === 'friend' ? m.firstStoredAt === undefined && m.ids.length > 0 : m.importedAt === undefined;
    const stats = waiting ? g.__meshdrop?.stats() : undefined;
    if (!stats) return;
    if (o.role === 'friend') {
      if (m.ids.some((id) => (stats.downloads?.[id]?.have ?? 0) > 0)) stamp('firstStoredAt');
    } else if (Array.isArray(stats.imports)) {
      const i = stats.imports.find((x) => x.name === o.name);
      if (i?.hashedAt !== undefined && i.storedAt !== undefined) {
        m.hashedAt = i.hashedAt;
        m.storedAt = i.storedAt;
        stamp('importedAt', Math.max(i.hashedAt, i.storedAt));
      }
    } else if (li?.textContent?.includes('Shared by you')) {
      stamp('importedAt');
    }
  };
  const timer = setInterval(look, o.pollMs);
  g.__benchWatch ??= {};
  g.__benchWatch[o.name] = {
    m,
    stop: () => {
      clearInterval(timer);
      document.removeEventListener('input', onInput, true);
    },
  };
}
