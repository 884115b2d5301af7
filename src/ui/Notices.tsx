import type { Notice } from '../app/state.ts';
import { sameProps, skipUnchanged } from './skip-unchanged.ts';

export const Notices = skipUnchanged(NoticesView, sameProps);

function NoticesView({ notices, dismiss }: { notices: Notice[]; dismiss(id: number): void }) {
  if (notices.length === 0) return null;
  return (
    <ul class="notices" aria-live="assertive">
      {notices.map((n) => (
        <li key={n.id} class={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <span>{n.text}</span>
          <button class="link" onClick={() => dismiss(n.id)} aria-label="Dismiss">
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}
