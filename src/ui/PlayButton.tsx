import { useContext, useState } from 'preact/hooks';
import type { FileView } from '../app/state.ts';
import { mediaKind } from '../core/media-type.ts';
import { MediaContext } from './media-context.ts';
import { Player } from './Player.tsx';

/** Play, on audio and video rows: opens the player, which plays the file as it downloads. */
export function PlayButton({ file }: { file: FileView }) {
  const media = useContext(MediaContext);
  const [open, setOpen] = useState(false);
  const kind = mediaKind(file.meta.mime, file.meta.name);
  if (!kind || !media) return null;
  return (
    <>
      <button class="primary" onClick={() => setOpen(true)} aria-label={`Play ${file.meta.name}`} aria-haspopup="dialog">
        Play
      </button>
      {open && <Player file={file} kind={kind} media={media} onClose={() => setOpen(false)} />}
    </>
  );
}
