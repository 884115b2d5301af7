import { fileLinkFor } from '../core/room.ts';
import { currentRoomLink } from './InvitePanel.tsx';
import type { FileView } from '../app/state.ts';
import { canShare, CopyButton, ShareButton } from './LinkButtons.tsx';
import { sameProps, skipUnchanged } from './skip-unchanged.ts';

/**
 * A file's own link: this room's link plus the file's id. Whoever opens it
 * joins the room and the file starts by itself (app/file-links.ts). Given
 * the file's meta (kept while unchanged), it skips the renders of a
 * download's progress: reading the page's address each time cost more than
 * the rest of the row (profiled, CPU throttled 4x).
 */
export const FileLinkButton = skipUnchanged(FileLinkButtonView, sameProps);

function FileLinkButtonView({ meta }: { meta: FileView['meta'] }) {
  // A draft's id ends with its hashing (it becomes the file's content id): a link to it would outlive the file.
  // The buttons still take their place, disabled, so the row does not shift under a finger when preparing ends
  // (a tap meant for Download landed on Copy link as it appeared: seen in a new-user trial on a phone).
  if (meta.draft !== undefined) {
    return (
      <>
        <button disabled aria-label={`Copy link to ${meta.name}: ready once it is prepared`}>Copy link</button>
        {canShare() && <button disabled aria-label={`Share link to ${meta.name}: ready once it is prepared`}>Share…</button>}
      </>
    );
  }
  const link = fileLinkFor(currentRoomLink(), meta.id);
  return (
    <>
      <CopyButton link={link} text="Copy link" label={`Copy link to ${meta.name}`} />
      {canShare() && <ShareButton link={link} title={meta.name} label={`Share link to ${meta.name}`} />}
    </>
  );
}
