import { DOWNLOAD_MESSAGE, DOWNLOAD_PREFIX } from '../sw/download-route.ts';
import type { ZipArchive } from './zip-archive.ts';

/**
 * Where a streamed zip goes (the browser edge of "Download all"). With
 * showSaveFilePicker the person picks the file first, while the click still
 * counts as a user gesture (the picker refuses without one, and fetching the
 * files first can take minutes); the stream is then piped straight into it.
 * Without it, the service worker's download route (sw/download-route.ts)
 * hands the stream to the browser's download manager.
 */
export type ZipTarget = { kind: 'file'; handle: FileSystemFileHandle } | { kind: 'service-worker' };

type SavePicker = (opts: { suggestedName: string; types?: { description: string; accept: Record<string, string[]> }[] }) => Promise<FileSystemFileHandle>;

/** The target for a zip called `name`; null when the person cancelled the picker. */
export async function chooseZipTarget(name: string): Promise<ZipTarget | null> {
  const picker = (globalThis as { showSaveFilePicker?: SavePicker }).showSaveFilePicker;
  if (!picker) return { kind: 'service-worker' };
  try {
    const handle = await picker({ suggestedName: name, types: [{ description: 'Zip archive', accept: { 'application/zip': ['.zip'] } }] });
    return { kind: 'file', handle };
  } catch (e) {
    if ((e as Error).name === 'AbortError') return null;
    // e.g. SecurityError when the gesture has expired: the download route needs none.
    console.warn('meshdrop: the save picker failed; saving through the service worker', e);
    return { kind: 'service-worker' };
  }
}

/** Writes the archive; resolves once the last byte is saved, rejects with a message the person can read. */
export async function writeZip(target: ZipTarget, archive: ZipArchive): Promise<void> {
  if (target.kind === 'file') {
    const writable = await target.handle.createWritable();
    await archive.stream.pipeTo(writable); // closes the file at the end, aborts it on failure
    return;
  }
  await saveThroughServiceWorker(archive);
}

async function activeWorker(): Promise<ServiceWorker> {
  const registration = await navigator.serviceWorker?.getRegistration();
  const worker = registration?.active ?? (registration ? (await navigator.serviceWorker.ready).active : null);
  if (!worker) throw new Error('this browser cannot save a zip here (no service worker; try reloading the page)');
  return worker;
}

/**
 * The worker answers 'ready' at once and the browser fetches the one-time URL
 * right after; a worker stopped by the browser in between would otherwise
 * leave the person on "Saving the zip…" for ever.
 */
export const SW_HANDOVER_TIMEOUT_MS = 10_000;

async function saveThroughServiceWorker(archive: ZipArchive): Promise<void> {
  const worker = await activeWorker();
  const id = crypto.randomUUID();
  const channel = new MessageChannel();
  let frame: HTMLIFrameElement | null = null;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    const expectWithin = (what: string) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => reject(new Error(`the browser did not ${what}; try again`)), SW_HANDOVER_TIMEOUT_MS);
    };
    expectWithin('take the zip (the service worker did not answer)');
    channel.port1.onmessage = (e: MessageEvent<{ type: string; error?: string }>) => {
      if (e.data.type === 'ready') {
        expectWithin('start saving the zip');
        frame = document.createElement('iframe');
        frame.hidden = true;
        frame.src = `${DOWNLOAD_PREFIX}${id}`;
        document.body.append(frame);
      } else if (e.data.type === 'started') clearTimeout(watchdog); // a big archive may take as long as it takes
      else if (e.data.type === 'done') resolve();
      else reject(new Error(e.data.error ?? 'the save failed'));
    };
  });
  try {
    const message = { type: DOWNLOAD_MESSAGE, id, name: archive.name, length: archive.length.toString(), stream: archive.stream };
    worker.postMessage(message, [archive.stream as unknown as Transferable, channel.port2]);
  } catch (e) {
    // Safari cannot transfer streams yet (DataCloneError).
    throw new Error(`this browser cannot stream a zip to disk (${(e as Error).message})`);
  }
  try {
    await finished;
  } finally {
    clearTimeout(watchdog);
    channel.port1.close();
    (frame as HTMLIFrameElement | null)?.remove();
  }
}
