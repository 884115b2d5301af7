import type { JSX } from 'preact';
import { useState } from 'preact/hooks';

/**
 * Rows are rendered a page at a time: a room of a thousand files would
 * otherwise build a thousand rows (with their previews) on every render.
 */
export const PAGE_SIZE = 100;

/** How many of a list to show, and a "Show more" row when there are more; `reset` (the search) starts again at one page. */
export function usePage(total: number, reset = ''): { limit: number; more: JSX.Element | null } {
  const [page, setPage] = useState({ reset, limit: PAGE_SIZE });
  const limit = page.reset === reset ? page.limit : PAGE_SIZE;
  if (total <= limit) return { limit, more: null };
  const next = Math.min(PAGE_SIZE, total - limit);
  return {
    limit,
    more: (
      <li class="show-more">
        <button type="button" onClick={() => setPage({ reset, limit: limit + PAGE_SIZE })}>
          Show {next} more
        </button>
        <span class="hint">{limit.toLocaleString('en-US')} of {total.toLocaleString('en-US')} shown</span>
      </li>
    ),
  };
}
