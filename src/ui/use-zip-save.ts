import { useState } from 'preact/hooks';
import type { Engine } from '../app/engine.ts';
import { chooseZipTarget, writeZip } from '../app/save-zip.ts';

/**
 * One "Download all" at a time per control: pick where the zip goes (while
 * the click still counts as a gesture), fetch the files not here yet without
 * saving them one by one, then stream the zip. The phase is what the control
 * says meanwhile.
 */
export type ZipPhase =
  | { kind: 'idle' }
  | { kind: 'fetching'; files: number }
  | { kind: 'saving' }
  | { kind: 'saved'; name: string }
  | { kind: 'failed'; error: string };

export function useZipSave(engine: Engine): [ZipPhase, (fileIds: readonly string[], name: string) => void] {
  const [phase, setPhase] = useState<ZipPhase>({ kind: 'idle' });
  const start = (fileIds: readonly string[], name: string) => {
    if (phase.kind === 'fetching' || phase.kind === 'saving') return;
    void saveZip(engine, fileIds, name, setPhase).catch((e: Error) => setPhase({ kind: 'failed', error: e.message }));
  };
  return [phase, start];
}

async function saveZip(engine: Engine, fileIds: readonly string[], name: string, setPhase: (p: ZipPhase) => void): Promise<void> {
  const target = await chooseZipTarget(`${name}.zip`);
  if (!target) return setPhase({ kind: 'idle' });
  const missing = fileIds.filter((id) => engine.getState().files.find((f) => f.meta.id === id)?.status !== 'complete');
  if (missing.length > 0) {
    setPhase({ kind: 'fetching', files: missing.length });
    const fetched = await Promise.all(missing.map((id) => engine.download(id, { save: false })));
    const failed = fetched.filter((done) => !done).length;
    if (failed > 0) return setPhase({ kind: 'failed', error: `${failed} of the files could not be downloaded (see their rows); no zip was saved` });
  }
  setPhase({ kind: 'saving' });
  const archive = engine.zip(fileIds, name);
  if (!archive) return setPhase({ kind: 'failed', error: 'the zip could not be made (see the message above)' });
  await writeZip(target, archive);
  setPhase({ kind: 'saved', name: archive.name });
}
