import { fileLinkFor } from '../core/room.ts';
import { currentRoomLink } from './InvitePanel.tsx';
import type { FileView } from '../app/state.ts';
import { canShare, CopyButton, ShareButton } from './LinkButtons.tsx';

/**
 * A file's own link: this room's link plus the file's id. Whoever opens it
 * joins the room and the file starts by itself (app/file-links.ts).
 */
export function FileLinkButton({ file }: { file: FileView }) {
  // A draft's id ends with its hashing (it becomes the file's content id): a link to it would outlive the file.
  if (file.meta.draft !== undefined) return null;
  const link = fileLinkFor(currentRoomLink(), file.meta.id);
  return (
    <>
      <CopyButton link={link} text="Copy link" label={`Copy link to ${file.meta.name}`} />
      {canShare() && <ShareButton link={link} title={file.meta.name} label={`Share link to ${file.meta.name}`} />}
    </>
  );
}
