import type { FileView, HolderView } from '../app/state.ts';
import { AudienceLine } from './AudiencePicker.tsx';
import { FileLinkButton } from './FileLinkButton.tsx';
import { barStyle, fileKind, formatBytes, formatSpeed, formatTimeLeft, percent } from './format.ts';
import { PauseButton } from './PauseButton.tsx';
import { Preview } from './Preview.tsx';
import { SelectBox, type Selection } from './SelectionBar.tsx';
import { PlayButton } from './PlayButton.tsx';
import { skipUnchanged } from './skip-unchanged.ts';

export interface FileIntents {
  download(id: string): void;
  cancel(id: string): void;
  save(id: string): void;
  /** The complete file's stored bytes, for previews. */
  read(id: string): Promise<Blob | null>;
  pause(id: string): void;
  resume(id: string): void;
  remove(id: string): void;
  stopSharing(id: string): void;
  /** Shares a file of ours (with chosen people) with more of them, or the whole room. */
  widen(id: string, people: string[] | 'room'): void;
}

export interface RowProps {
  file: FileView;
  intents: FileIntents;
  selection?: Selection;
}

/**
 * Unchanged: the same file view (the state keeps an unchanged file's view, app/view-reuse.ts), the same
 * intents, and the same tick (or none) in the selection.
 */
export const sameRow = (a: RowProps, b: RowProps): boolean =>
  a.intents === b.intents && a.file === b.file && !a.selection === !b.selection &&
  a.selection?.has(a.file.meta.id) === b.selection?.has(b.file.meta.id);

/** One shared file: what it is, who has it, and what you can do with it. Names render as text only. Re-rendered only when changed. */
export const FileRow = skipUnchanged(FileRowView, sameRow);

function FileRowView({ file, intents, selection }: RowProps) {
  const { meta } = file;
  const pct = percent(file.bytesDone, meta.size);
  const busy = file.status === 'manifest' || file.status === 'downloading';
  const held = file.status === 'complete' || file.bytesDone > 0 || file.status === 'error';
  return (
    <li class={`file ${file.status}`} data-file-id={meta.id}>
      {selection && <SelectBox file={file} selection={selection} />}
      <Preview meta={meta} complete={file.status === 'complete'} read={intents.read} />
      <div class="file-main">
        <div class="file-name" title={meta.name}>
          {meta.name}
        </div>
        {file.otherNames.length > 0 && <div class="file-aka">also shared as {file.otherNames.join(', ')}</div>}
        {file.fetchedBy !== null && <div class="file-rule">Fetched by your rule: {file.fetchedBy}</div>}
        <div class="file-meta">
          {formatBytes(meta.size)} · {fileKind(meta.mime, meta.name)}
          {/* A file still being prepared has no holders yet, though its sharer is here: its status line says so. */}
          {!(file.preparing && file.holders.length === 0) && <> · <Holders holders={file.holders} /></>}
        </div>
        {(busy || file.status === 'paused' || file.status === 'importing') && (
          <div class="progress" role="progressbar" aria-label={`${PROGRESS_LABEL[file.status] ?? 'Downloading'} ${meta.name}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
            <div class="bar" style={barStyle(pct)} />
          </div>
        )}
        <AudienceLine file={file} widen={intents.widen} />
        <Status file={file} pct={pct} />
      </div>
      <div class="file-actions">
        <PauseButton file={file} pause={intents.pause} resume={intents.resume} />
        <PlayButton file={file} />
        {file.status === 'available' && (
          <button class="primary" onClick={() => intents.download(meta.id)} aria-label={`Download ${meta.name}`}>
            Download
          </button>
        )}
        {file.status === 'error' && (
          <button class="primary" onClick={() => intents.download(meta.id)} aria-label={`Retry downloading ${meta.name}`}>
            Retry
          </button>
        )}
        {busy && (
          <button onClick={() => intents.cancel(meta.id)} aria-label={`${file.repairing ? 'Stop repairing' : 'Cancel downloading'} ${meta.name}`}>
            {file.repairing ? 'Stop repair' : 'Cancel'}
          </button>
        )}
        {file.status === 'complete' && (
          <button class="primary" onClick={() => intents.save(meta.id)} aria-label={`Save ${meta.name}`}>
            Save
          </button>
        )}
        {(file.status === 'complete' || file.status === 'importing') && file.sharedByMe && (
          <button onClick={() => intents.stopSharing(meta.id)} aria-label={`Stop sharing ${meta.name}`}>
            Stop sharing
          </button>
        )}
        <FileLinkButton meta={meta} />
        {held && !busy && (
          <button class="quiet" onClick={() => intents.remove(meta.id)} aria-label={`Remove ${meta.name} from this device`}>
            Remove
          </button>
        )}
      </div>
    </li>
  );
}

const PROGRESS_LABEL: Partial<Record<FileView['status'], string>> = { paused: 'Paused', importing: 'Preparing to share' };

function Holders({ holders }: { holders: HolderView[] }) {
  if (holders.length === 0) return <span>nobody online has it</span>;
  const names = holders.map((h) => {
    const who = h.self ? 'you' : h.name ?? 'connecting…';
    return h.share >= 1 ? who : `${who} ${Math.floor(h.share * 100)}%`;
  });
  return <span>held by {names.join(', ')}</span>;
}

function Status({ file, pct }: { file: FileView; pct: number }) {
  switch (file.status) {
    case 'manifest':
      return <div class="status">{file.holders.some((h) => !h.self) ? 'Asking for the file list…' : 'Waiting for someone who has it…'}</div>;
    case 'downloading':
      return (
        <div class="status" aria-live="polite">
          {file.repairing ? 'Repairing: ' : ''}
          {pct}% · {formatBytes(file.bytesDone)} of {formatBytes(file.meta.size)} · {formatSpeed(file.speed)}
          {file.secondsLeft !== null && ` · ${formatTimeLeft(file.secondsLeft)}`}
          {file.sources === 0 ? ' · waiting for someone who has it' : ` · from ${file.sources} ${file.sources === 1 ? 'peer' : 'peers'}`}
        </div>
      );
    case 'complete':
      return <div class="status done">{file.sharedByMe ? 'Shared by you' : 'Downloaded · you share it too'}</div>;
    case 'importing':
      return (
        <div class="status" aria-live="polite">
          Preparing to share: {pct}% of {formatBytes(file.meta.size)} · others can download it already
        </div>
      );
    case 'paused':
      return <div class="status">Paused at {pct}% · {formatBytes(file.bytesDone)} of {formatBytes(file.meta.size)} kept here</div>;
    case 'error':
      return <div class="status error">Stopped: {file.error}</div>;
    default:
      if (file.bytesDone > 0) return <div class="status">{pct}% stored here · stopped</div>;
      return file.preparing ? <div class="status">Still being prepared by its sharer · you can download it already</div> : null;
  }
}
