import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests in real headless Chromium (Debian's: Playwright cannot
 * download its own here), against the real server and relay started by
 * `npm start`'s entry point on a test port.
 */
export const PORT = Number(process.env.E2E_PORT ?? 4173);
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'];

/**
 * Specs that load the machine on their own (16 tabs; hundreds of files at once), and media.spec, whose
 * video must play in real time: one at a time, beside at most one light spec. Their project comes first,
 * so they start first and the light specs fill the other worker.
 */
const HEAVY = ['**/large-room.spec.ts', '**/core-load.spec.ts', '**/media.spec.ts'];

export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 180_000,
  expect: { timeout: 30_000 },
  // One worker unless E2E_WORKERS says more: two halve the wall time (most of it is waiting on upload caps,
  // relays and timers), but on a shared 2-core machine at load 20-60 large-room, media and draft-share failed
  // their time limits in both runs with two. The tests of one spec file always run in order, in one worker.
  fullyParallel: false,
  workers: Number(process.env.E2E_WORKERS ?? 1),
  projects: [
    { name: 'heavy', testMatch: HEAVY, workers: 1 },
    { name: 'e2e', testIgnore: HEAVY },
  ],
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    acceptDownloads: true,
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: 'npx tsx signaling/start.ts',
    url: `http://127.0.0.1:${PORT}`,
    // Every test browser comes from 127.0.0.1, and each context is a new identity.
    env: { PORT: String(PORT), HOST: '127.0.0.1', MAX_CONNECTIONS_PER_ADDRESS: '1000', MAX_IDENTITIES_PER_ADDRESS: '100000' },
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    timeout: 60_000,
  },
});
