import type { Downloads } from './downloads.ts';
import type { Library, LocalFile } from './library.ts';
import type { Notices } from './state.ts';

/**
 * Startup: this browser's stored files come back. The person hears of files an
 * older version left behind and of pieces that went missing; in this room,
 * complete files are announced again and unfinished or damaged ones resume
 * fetching by themselves, unless paused.
 */
export async function resumeStoredFiles(
  d: { library: Library; downloads: Downloads; notices: Notices; room: string; announce(file: LocalFile): void },
): Promise<void> {
  const { files, damaged, dropped, drafts } = await d.library.load();
  // A draft lives only as long as its sharer's page hashes it (app/draft-share.ts): its pieces cannot be checked or finished later.
  if (drafts > 0) d.notices.info(`${drafts} ${drafts === 1 ? 'file was' : 'files were'} still being prepared by ${drafts === 1 ? 'its' : 'their'} sharer when this page closed; what had arrived was removed. Download or share ${drafts === 1 ? 'it' : 'them'} again.`);
  if (dropped > 0) d.notices.info(`${dropped} stored ${dropped === 1 ? 'file was' : 'files were'} from an older version of meshdrop and ${dropped === 1 ? 'was' : 'were'} removed.`);
  for (const { file, missing } of damaged) {
    d.notices.error(`${missing} ${missing === 1 ? 'piece' : 'pieces'} of ${file.meta.name} went missing from this browser's storage; fetching them again.`);
  }
  for (const local of files) {
    if (!local.rooms.includes(d.room)) continue;
    if (local.have.complete) d.announce(local);
    else if (!local.paused) d.downloads.start(local.meta, local);
  }
}
