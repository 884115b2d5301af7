import { defineConfig } from 'vite';

/**
 * simple-peer is written for Node (Buffer, events, process, global). Its
 * prebuilt browser bundle carries its own shims, so we alias to that instead
 * of polyfilling Node in the app. The dev server proxies the relay to a
 * running `npm start` (RELAY_TARGET, default http://localhost:8080).
 */
export default defineConfig({
  resolve: {
    alias: { 'simple-peer': 'simple-peer/simplepeer.min.js' },
  },
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    proxy: {
      '/ws': { target: process.env.RELAY_TARGET ?? 'http://localhost:8080', ws: true },
      '/config.json': { target: process.env.RELAY_TARGET ?? 'http://localhost:8080' },
    },
  },
});
