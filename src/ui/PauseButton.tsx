import type { FileView } from '../app/state.ts';

/** Pause keeps every stored piece (and stays paused after a reload); Resume fetches only what is missing. */
export function PauseButton({ file, pause, resume }: { file: FileView; pause(id: string): void; resume(id: string): void }) {
  const { id, name } = file.meta;
  if (file.status === 'paused') {
    return (
      <button class="primary" onClick={() => resume(id)} aria-label={`Resume downloading ${name}`}>
        Resume
      </button>
    );
  }
  // Before its manifest nothing is stored yet, and a repair is not the person's download: Cancel covers both.
  if (file.status !== 'downloading' || file.repairing) return null;
  return (
    <button onClick={() => pause(id)} aria-label={`Pause downloading ${name}`}>
      Pause
    </button>
  );
}
