import { createContext } from 'preact';
import type { Engine } from '../app/engine.ts';

/** What a player asks of the engine; provided once per room (App.tsx), read by PlayButton and Player. */
export type MediaIntents = Pick<Engine, 'download' | 'focus' | 'save'>;

export const MediaContext = createContext<MediaIntents | null>(null);
