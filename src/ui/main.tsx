/// <reference types="vite/client" />
import { render } from 'preact';
import { App } from './App.tsx';
import './styles.css';

render(<App />, document.getElementById('app')!);

/**
 * The service worker (src/sw/sw.ts) makes meshdrop open offline and receive
 * shares from other apps. Browsers allow one only in a secure context (https,
 * or localhost); over plain http on a LAN address meshdrop works without it.
 * The dev server builds none, so only built pages register it.
 */
function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !window.isSecureContext || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js').catch((e: unknown) => console.warn('meshdrop: the service worker could not be registered; no offline use or sharing from other apps', e));
}

registerServiceWorker();
