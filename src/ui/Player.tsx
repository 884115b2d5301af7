import { useEffect, useRef, useState } from 'preact/hooks';
import type { FileView } from '../app/state.ts';
import type { MediaKind } from '../core/media-type.ts';
import { mediaUrl } from '../sw/media-protocol.ts';
import { formatBytes, formatSpeed, percent } from './format.ts';
import type { MediaIntents } from './media-context.ts';

/**
 * The player: a native <dialog> (Escape, focus trap, backdrop) around a
 * <video> or <audio>. Opening it starts the file's download if need be (not
 * its saving); closing it tells the engine nobody plays the file any more.
 * Bytes come from the service worker's media route while the file downloads,
 * or from the stored file once complete where there is no service worker.
 */
export function Player({ file, kind, media, onClose }: { file: FileView; kind: MediaKind; media: MediaIntents; onClose(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const id = file.meta.id;
  useEffect(() => {
    dialog.current?.showModal();
    void media.download(id, { save: false }); // fetched to play, not to save
    return () => media.focus(id, null);
  }, [id, media]);
  const source = usePlayerSource(file, media);
  const [failure, setFailure] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  /** Where playback stopped: Try again resumes there, not from the start. */
  const stoppedAt = useRef(0);
  const fail = (el: HTMLMediaElement) => {
    stoppedAt.current = el.currentTime;
    setFailure(el.error?.message || 'the browser could not play it');
  };
  const Media = kind;
  return (
    <dialog ref={dialog} class="player" aria-labelledby={`player-${id}`} onClose={onClose}>
      <div class="player-head">
        <h2 id={`player-${id}`} title={file.meta.name}>{file.meta.name}</h2>
        <button class="close" onClick={() => dialog.current?.close()} aria-label="Close player">
          ✕
        </button>
      </div>
      {source.url && (
        <Media key={attempt} src={source.url} controls autoPlay playsInline preload="auto" onPlaying={() => setFailure(null)}
          onLoadedMetadata={(e) => ((e.currentTarget as HTMLMediaElement).currentTime = stoppedAt.current)}
          onError={(e) => fail(e.currentTarget as HTMLMediaElement)} />
      )}
      <p class="status" aria-live="polite">{failure ? `Playback stopped: ${failure}` : source.text}</p>
      {failure && source.url && <button onClick={() => { setFailure(null); setAttempt((n) => n + 1); }}>Try again</button>}
    </dialog>
  );
}

type Route = 'waiting' | 'worker' | 'none';

/**
 * Where the player's bytes come from, and what to say meanwhile. The file's
 * status says whether its download began (a manifest is stored) or was
 * cancelled since the player opened; the worker's route works only once it
 * controls this page (on a first visit, once it has claimed it).
 */
function usePlayerSource(file: FileView, media: MediaIntents): { url: string | null; text: string } {
  const route = useWorkerRoute();
  const began = useRef(false);
  const blobUrl = useCompleteFileUrl(file, media, route === 'none');
  const { status, meta } = file;
  if (status !== 'available') began.current = true;
  const progress = `${percent(file.bytesDone, meta.size)}% of ${formatBytes(meta.size)} here`;
  if (status === 'error') return { url: null, text: `The download stopped: ${file.error}` };
  if (began.current && status === 'available') return { url: null, text: 'The download was cancelled, so playback stopped.' };
  if (status === 'available' || status === 'manifest') return { url: null, text: file.holders.some((h) => !h.self) ? 'Asking for the file…' : 'Waiting for someone who has it…' };
  if (route === 'waiting') return { url: null, text: 'Preparing the player…' };
  if (route === 'worker') {
    const text = status === 'complete' ? '' : `Playing while it downloads · ${progress} · ${formatSpeed(file.speed)}`;
    return { url: mediaUrl(meta.id, meta.name), text };
  }
  if (status === 'complete') return { url: blobUrl, text: '' };
  return {
    url: null,
    text: `This page can play the file only once it has fully arrived (playing while downloading needs https) · ${progress}`,
  };
}

/** Whether the service worker controls this page (waiting for it on a first visit), or there is none. */
function useWorkerRoute(): Route {
  const sw = window.isSecureContext && 'serviceWorker' in navigator ? navigator.serviceWorker : undefined;
  const [route, setRoute] = useState<Route>(!sw ? 'none' : sw.controller ? 'worker' : 'waiting');
  useEffect(() => {
    if (!sw || route !== 'waiting') return;
    const controlled = () => sw.controller && setRoute('worker');
    sw.addEventListener('controllerchange', controlled);
    // No registration at all (a dev server, a browser refusing it): nothing will ever take control.
    sw.getRegistration().then((r) => r ?? setRoute('none'), () => setRoute('none'));
    controlled();
    return () => sw.removeEventListener('controllerchange', controlled);
  }, [sw, route]);
  return route;
}

/** An object URL of the complete file, for pages without a service worker; revoked when the player closes. */
function useCompleteFileUrl(file: FileView, media: MediaIntents, wanted: boolean): string | null {
  const [url, setUrl] = useState<string | null>(null);
  const ready = wanted && file.status === 'complete';
  useEffect(() => {
    if (!ready) return;
    let live = true;
    let made: string | null = null;
    void media.save(file.meta.id).then((saved) => {
      if (!saved || !live) return;
      made = URL.createObjectURL(saved.blob);
      setUrl(made);
    });
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [ready, file.meta.id, media]);
  return url;
}
