import type { FileView } from '../app/state.ts';
import type { ZipPhase } from './use-zip-save.ts';

/**
 * "Download all" for a folder or the room: says up front what it will do
 * (fetch the missing files first, then save one zip) and, while it runs,
 * which step it is on.
 */
export function ZipButton(props: { files: readonly FileView[]; label: string; name: string; phase: ZipPhase; onStart(): void }) {
  const { files, label, name, phase, onStart } = props;
  const missing = files.filter((f) => f.status !== 'complete').length;
  const busy = phase.kind === 'fetching' || phase.kind === 'saving';
  const plan = missing === 0 ? 'saves one zip' : `downloads ${missing} ${missing === 1 ? 'file' : 'files'} first, then saves one zip`;
  return (
    <div class="zip-action">
      <button type="button" onClick={onStart} disabled={busy || files.length === 0} aria-label={name}>
        {label}
      </button>
      <span class="hint zip-status" role="status">
        {phaseText(phase) ?? plan}
      </span>
    </div>
  );
}

function phaseText(phase: ZipPhase): string | null {
  switch (phase.kind) {
    case 'fetching': return `Downloading ${phase.files} ${phase.files === 1 ? 'file' : 'files'}, then saving one zip…`;
    case 'saving': return 'Saving the zip…';
    case 'saved': return `Saved ${phase.name}`;
    case 'failed': return `Could not save the zip: ${phase.error}`;
    default: return null;
  }
}
