import { generate } from 'lean-qr';
import { toSvgPath } from 'lean-qr/extras/svg';
import { useMemo, useRef } from 'preact/hooks';
import { canShare, CopyButton, ShareButton } from './LinkButtons.tsx';
import { sameProps, skipUnchanged } from './skip-unchanged.ts';

/** The link to share: the room is the fragment; query knobs such as ?uplimit= are this page's own, not the room's. */
export const currentRoomLink = (): string => `${location.origin}${location.pathname}${location.hash}`;

/** QR quiet zone, in modules: readers need 4 (ISO 18004) to find the code against a busy background. */
const QUIET_ZONE = 4;

/**
 * The Invite button and its panel: the room link to copy, a QR code for a
 * phone across the table, and the system share sheet where there is one. A
 * native <dialog>: Escape, focus trapping and the backdrop come with it.
 */
export const InvitePanel = skipUnchanged(InvitePanelView, sameProps);

function InvitePanelView({ link }: { link: string }) {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button class="invite-button" onClick={() => dialog.current?.showModal()} aria-haspopup="dialog">
        Invite…
      </button>
      <dialog ref={dialog} class="invite" aria-labelledby="invite-title">
        <div class="invite-head">
          <h2 id="invite-title">Invite people</h2>
          <button class="close" onClick={() => dialog.current?.close()} aria-label="Close">
            ✕
          </button>
        </div>
        <label for="room-link">Room link: everyone who opens it joins this room</label>
        <div class="row">
          <input id="room-link" readOnly value={link} onFocus={(e) => (e.target as HTMLInputElement).select()} />
          <CopyButton link={link} />
        </div>
        <QrCode text={link} />
        <p class="hint">Scan it with a phone's camera to open the room there.</p>
        {canShare() && <ShareButton class="share-link" link={link} title="meshdrop room" />}
      </dialog>
    </>
  );
}

/** The QR code as inline SVG: crisp at any size, and drawn from the same link the input shows. */
function QrCode({ text }: { text: string }) {
  const { path, size } = useMemo(() => {
    const code = generate(text);
    return { path: toSvgPath(code), size: code.size };
  }, [text]);
  const box = size + 2 * QUIET_ZONE;
  return (
    <svg
      class="qr"
      role="img"
      aria-label="QR code"
      viewBox={`${-QUIET_ZONE} ${-QUIET_ZONE} ${box} ${box}`}
      shape-rendering="crispEdges"
    >
      <rect x={-QUIET_ZONE} y={-QUIET_ZONE} width={box} height={box} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
