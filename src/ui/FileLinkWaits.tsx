import { useEffect, useState } from 'preact/hooks';
import type { Engine } from '../app/engine.ts';
import type { LinkWaitView } from '../app/file-links.ts';
import { parseFileLink, roomPartOf } from '../core/room.ts';
import { sameProps, skipUnchanged } from './skip-unchanged.ts';

/**
 * The page was opened by a file link: hands its file id to the engine (which
 * waits for the file and starts it, app/file-links.ts) and shows what is
 * awaited. The link stays in the address bar until the wait ends, so a reload
 * while waiting waits again; afterwards the address is the room's, and the
 * stored download (with its wish to be saved) carries on by itself.
 */
export const FileLinkWaits = skipUnchanged(FileLinkWaitsView, sameProps);

function FileLinkWaitsView({ engine, waits }: { engine: Engine; waits: LinkWaitView[] }) {
  const problem = useFileLink(engine);
  return (
    <>
      {problem && (
        <p class="warning" role="alert">
          {problem}. The room is open; ask for a new link to the file.
        </p>
      )}
      {waits.length > 0 && (
        <section class="card link-waits" aria-label="Files from links">
          {waits.map((w) => (
            <div class="link-wait" key={w.fileId}>
              <div class="link-wait-text" role="status">
                <strong>{w.name ? `Waiting for someone who has ${w.name}…` : 'Waiting for someone who has the linked file…'}</strong>
                <span class="hint">
                  It starts by itself once someone who has it is online{w.name ? '' : ' (until then only its id is known)'}. Keep this page open.
                </span>
              </div>
              <button class="quiet" onClick={() => engine.dismissFileLink(w.fileId)} aria-label={`Stop waiting for ${w.name ?? 'the linked file'}`}>
                Stop waiting
              </button>
            </div>
          ))}
        </section>
      )}
    </>
  );
}

/** Follows the address's file link on this engine; returns why the link cannot be followed, if it cannot. */
function useFileLink(engine: Engine): string | null {
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    const link = parseFileLink(location.hash);
    if (!link.ok) return setProblem(link.error);
    const fileId = link.value;
    if (fileId === null) return;
    void engine.openFileLink(fileId).then((outcome) => {
      const now = parseFileLink(location.hash);
      if (now.ok && now.value === fileId) history.replaceState(history.state, '', roomPartOf(location.hash));
      if (outcome !== 'dismissed') document.querySelector(`[data-file-id="${fileId}"]`)?.scrollIntoView({ block: 'center' });
    });
  }, [engine]);
  return problem;
}
