import { createStore, del, get, set } from 'idb-keyval';

/**
 * Files shared to meshdrop from another app ("Share → meshdrop"), waiting for
 * the person to pick a room. The service worker writes them, the page reads
 * them: both run this module (it is bundled into each). The `File`s are kept
 * as they are: IndexedDB stores Blobs on disk, so a large video costs no memory.
 * One share at a time: a new share replaces one never sent anywhere.
 */
export interface SharedInbox {
  files: File[];
  /** Text, link or title shared alongside (or instead of) files; '' when none. */
  text: string;
  sharedAt: number;
}

const KEY = 'pending';
let store: ReturnType<typeof createStore> | undefined;
const inbox = () => (store ??= createStore('meshdrop-shared', 'inbox'));

export async function putSharedInbox(shared: SharedInbox): Promise<void> {
  await set(KEY, shared, inbox());
}

/** The waiting share, or null when there is none (or what is stored is not one). */
export async function readSharedInbox(): Promise<SharedInbox | null> {
  const value: unknown = await get(KEY, inbox());
  return isSharedInbox(value) ? value : null;
}

export async function clearSharedInbox(): Promise<void> {
  await del(KEY, inbox());
}

function isSharedInbox(value: unknown): value is SharedInbox {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<SharedInbox>;
  return Array.isArray(v.files) && v.files.every((f) => f instanceof Blob) && typeof v.text === 'string' && typeof v.sharedAt === 'number';
}

/** What a share_target POST carried: the non-empty files, and any title, text and link as one line. */
export function inboxFromForm(form: FormData, now: number): SharedInbox {
  const files = form.getAll('files').filter((f): f is File => typeof f !== 'string' && f.size >= 0 && f.name !== '');
  const text = ['title', 'text', 'url']
    .map((k) => form.get(k))
    .filter((v): v is string => typeof v === 'string' && v.trim() !== '')
    .join(' ');
  return { files, text, sharedAt: now };
}
