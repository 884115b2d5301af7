import { useState } from 'preact/hooks';
import type { BlockedView } from '../app/state.ts';

/**
 * "Block <name>", asked twice: a block ends the link at once and holds in
 * every room of this browser, so one stray tap must not do it.
 */
export function BlockButton({ peer, name, block }: { peer: string; name: string; block(peer: string): void }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" class="quiet block" onClick={() => setAsking(true)}>
        Block {name}
      </button>
    );
  }
  return (
    <div class="block-confirm" role="group" aria-label={`Block ${name}?`}>
      <p>
        Block {name}? You will not connect to {name} again, in any room, and you will not see what {name} shares, until
        you unblock.
      </p>
      <button type="button" class="danger" onClick={() => block(peer)}>
        Yes, block {name}
      </button>{' '}
      <button type="button" class="quiet" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </div>
  );
}

/** People this browser blocked, each with Unblock; nothing when nobody is. */
export function BlockedList({ blocked, unblock }: { blocked: BlockedView[]; unblock(peer: string): void }) {
  if (blocked.length === 0) return null;
  return (
    <details class="blocked">
      <summary>
        Blocked <span class="count">{blocked.length}</span>
      </summary>
      <ul aria-label="Blocked people">
        {blocked.map((p) => (
          <li key={p.id} class="blocked-peer" data-peer-id={p.id}>
            <span class="peer-name">{p.name ?? 'Someone'}</span>
            <button type="button" class="quiet" aria-label={`Unblock ${p.name ?? 'this person'}`} onClick={() => unblock(p.id)}>
              Unblock
            </button>
          </li>
        ))}
      </ul>
    </details>
  );
}
