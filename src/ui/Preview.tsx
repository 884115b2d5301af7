import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { FileView } from '../app/state.ts';
import { previewKind, TEXT_PREVIEW_BYTES, THUMBNAIL_MAX_BYTES, type PreviewKind } from '../core/preview-kind.ts';
import { formatBytes } from './format.ts';
import { sameProps, skipUnchanged } from './skip-unchanged.ts';

/**
 * A complete file the browser can show: a tile at the start of its row (an
 * image's thumbnail, or "Open" for text and PDF) that opens a larger view in
 * a dialog. Everything is drawn from the stored pieces (a Blob backed by
 * IndexedDB, not a copy in memory), never fetched from a server. Each object
 * URL lives exactly as long as the element showing it (one per image row
 * plus the open dialog; a URL is only a reference to the stored Blob).
 * Thumbnails are <img> scaled by CSS (object-fit), loaded lazily and decoded
 * off the main thread (decoding="async"); big images get no thumbnail.
 * Given the file's meta (kept while unchanged), it skips the renders of a
 * download's progress.
 */
export const Preview = skipUnchanged(PreviewView, sameProps);

function PreviewView({ meta, complete, read }: { meta: FileView['meta']; complete: boolean; read(fileId: string): Promise<Blob | null> }) {
  const kind = previewKind(meta.mime, meta.name);
  const [open, setOpen] = useState(false);
  const ready = kind !== null && complete;
  const thumbnail = kind === 'image' && meta.size <= THUMBNAIL_MAX_BYTES;
  // Read from storage only what is shown: a thumbnail at once, anything else when opened.
  const blob = useStoredBlob(ready && (thumbnail || open) ? meta.id : null, read);
  if (!ready) return null;
  const name = meta.name;
  return (
    <>
      <button class="preview-tile" onClick={() => setOpen(true)} aria-haspopup="dialog" aria-label={`${kind === 'image' ? 'View' : 'Open'} ${name}`}>
        {thumbnail ? blob && <BlobImage blob={blob} class="thumb" alt="" lazy /> : <span>{kind === 'image' ? 'View' : 'Open'}</span>}
      </button>
      {open && blob && <PreviewDialog kind={kind} name={name} blob={blob} close={() => setOpen(false)} />}
    </>
  );
}

/** The file's Blob once it is complete; null before, or if storage cannot give it back (the engine tells the person). */
function useStoredBlob(fileId: string | null, read: (fileId: string) => Promise<Blob | null>): Blob | null {
  const [blob, setBlob] = useState<Blob | null>(null);
  useEffect(() => {
    setBlob(null);
    if (!fileId) return;
    let live = true;
    void read(fileId).then((b) => live && setBlob(b));
    return () => {
      live = false;
    };
  }, [fileId, read]);
  return blob;
}

/** An object URL for as long as the calling element is mounted. */
function useObjectUrl(blob: Blob): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const made = URL.createObjectURL(blob);
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [blob]);
  return url;
}

/**
 * `lazy`: decoded only once near the screen, so a room of a thousand photos decodes the few in view.
 * Bytes that do not decode (a file named .jpg that is not one) say so, instead of the browser's broken-image icon.
 */
function BlobImage(props: { blob: Blob; alt: string; class: string; lazy?: boolean; onSize?(w: number, h: number): void; onBroken?(): void }) {
  const { blob, alt, class: className, lazy, onSize, onBroken } = props;
  const url = useObjectUrl(blob);
  const [broken, setBroken] = useState(false);
  useEffect(() => setBroken(false), [blob]);
  if (!url) return null;
  if (broken) return <span class={`${className} broken`}>{className === 'thumb' ? 'View' : 'Not an image this browser can show'}</span>;
  const loaded = (e: Event) => {
    const img = e.currentTarget as HTMLImageElement;
    onSize?.(img.naturalWidth, img.naturalHeight);
  };
  const failed = () => {
    setBroken(true);
    onBroken?.();
  };
  return <img class={className} src={url} alt={alt} decoding="async" loading={lazy ? 'lazy' : 'eager'} onLoad={loaded} onError={failed} />;
}

/** A native modal <dialog>: Escape, focus trapping and the backdrop come with it; closing it unmounts the view. */
function PreviewDialog({ kind, name, blob, close }: { kind: PreviewKind; name: string; blob: Blob; close(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => dialog.current?.showModal(), []);
  return (
    <dialog ref={dialog} class={`preview ${kind}`} aria-labelledby="preview-title" onClose={close}>
      <div class="invite-head">
        <h2 id="preview-title">{name}</h2>
        <button class="close" onClick={() => dialog.current?.close()} aria-label="Close">
          ✕
        </button>
      </div>
      {kind === 'image' && <LargeImage blob={blob} name={name} />}
      {kind === 'text' && <TextView blob={blob} />}
      {kind === 'pdf' && <PdfView blob={blob} name={name} />}
    </dialog>
  );
}

function LargeImage({ blob, name }: { blob: Blob; name: string }) {
  const [size, setSize] = useState<string | null>(null);
  return (
    <figure>
      <BlobImage blob={blob} class="large" alt={name} onSize={(w, h) => setSize(`${w} × ${h} pixels`)} onBroken={() => setSize('Save it to look at it another way.')} />
      <figcaption class="hint">{size ?? 'Loading…'}</figcaption>
    </figure>
  );
}

/** Text as text, never as markup; only its first TEXT_PREVIEW_BYTES. */
function TextView({ blob }: { blob: Blob }) {
  const [text, setText] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    blob.slice(0, TEXT_PREVIEW_BYTES).text().then(
      (t) => live && setText(t),
      (e: Error) => live && setFailed(e.message),
    );
    return () => {
      live = false;
    };
  }, [blob]);
  if (failed) return <p class="status error">Could not read the file: {failed}</p>;
  if (text === null) return <p class="hint">Loading…</p>;
  return (
    <>
      {blob.size > TEXT_PREVIEW_BYTES && <p class="hint">Showing the first {formatBytes(TEXT_PREVIEW_BYTES)} of {formatBytes(blob.size)}; save the file to see all of it.</p>}
      <pre class="text-view" tabIndex={0}>{text}</pre>
    </>
  );
}

/** Re-typed as PDF whatever its announcer claimed, so the browser's PDF viewer shows it, never an HTML page in our origin. */
function PdfView({ blob, name }: { blob: Blob; name: string }) {
  const pdf = useMemo(() => new Blob([blob], { type: 'application/pdf' }), [blob]);
  const url = useObjectUrl(pdf);
  if (!url) return null;
  return (
    <>
      <iframe class="pdf-view" src={url} title={name} />
      <a class="hint" href={url} target="_blank" rel="noopener">
        Open in a new tab
      </a>
    </>
  );
}
