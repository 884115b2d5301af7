import { useState } from 'preact/hooks';

/**
 * Copying and sharing a link: the room's (InvitePanel) and each file's
 * (FileLinkButton). `label` is the accessible name when the visible text
 * alone would be ambiguous (a row of files each with its own "Copy link").
 */
export function CopyButton({ link, text = 'Copy', label }: { link: string; text?: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      prompt('Copy this link:', link); // no clipboard permission (plain http): let the person copy it
    }
  };
  return (
    <button onClick={copy} aria-label={label}>
      {copied ? 'Copied' : text}
    </button>
  );
}

export function ShareButton({ link, title, label, class: className }: { link: string; title: string; label?: string; class?: string }) {
  const share = () =>
    void navigator.share({ title, url: link }).catch((e: Error) => {
      // The person closing the share sheet is an AbortError, not a failure worth telling.
      if (e.name !== 'AbortError') console.warn('meshdrop: sharing the link failed', e);
    });
  return (
    <button class={className} onClick={share} aria-label={label}>
      Share…
    </button>
  );
}

/** Web Share exists (phones, some desktops): offer the system share sheet too. */
export const canShare = (): boolean => 'share' in navigator;
