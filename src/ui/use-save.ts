import { useLayoutEffect, useRef } from 'preact/hooks';
import { saveBlob } from '../app/browser.ts';
import type { Engine } from '../app/engine.ts';
import type { FileView } from '../app/state.ts';

/** Hands a stored file to the browser's save; the engine tells the person when storage cannot give it back. */
export async function save(engine: Engine, id: string): Promise<void> {
  const file = await engine.save(id);
  if (file) saveBlob(file.blob, file.name);
}

/**
 * A file the person asked for is handed to the browser once, when the engine
 * says it is complete and wanted (also after a reload mid-download). Checked
 * on the files the room renders, whenever they change: a check of its own
 * read the whole state again up to ten times a second during a download,
 * about half of the CPU the state's reads took on a throttled phone (profiled).
 */
export function useSaveWhenReady(engine: Engine, files: readonly FileView[]): void {
  const saving = useRef(new Set<string>());
  // In the render's own task: an effect (useEffect) waits for an animation frame of its own, one more task per render.
  useLayoutEffect(() => {
    for (const f of files) {
      if (!f.saveReady || saving.current.has(f.meta.id)) continue;
      saving.current.add(f.meta.id);
      engine.saved(f.meta.id);
      void save(engine, f.meta.id).finally(() => saving.current.delete(f.meta.id));
    }
  }, [engine, files]);
}
