import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { build, defineConfig, type Plugin } from 'vite';

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
  plugins: [serviceWorker()],
  server: {
    proxy: {
      '/ws': { target: process.env.RELAY_TARGET ?? 'http://localhost:8080', ws: true },
      '/config.json': { target: process.env.RELAY_TARGET ?? 'http://localhost:8080' },
    },
  },
});

const PUBLIC_DIR = resolve('public');

/** Every file under dir, as site paths ('/icons/icon-192.png'). */
function sitePaths(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => `/${relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/')}`);
}

/**
 * Builds src/sw/sw.ts to /sw.js (unhashed: its URL is its identity) once the
 * app is built, with the app's own file list to precache and a version that
 * changes whenever any of those files does. It is a build of its own, so the
 * worker is one self-contained classic script: no chunk shared with the page,
 * which a non-module service worker could not import.
 */
function serviceWorker(): Plugin {
  let precache: string[] = [];
  let version = '';
  let outDir = 'dist';
  return {
    name: 'meshdrop-service-worker',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    writeBundle(_options, bundle) {
      const hash = createHash('sha256');
      const built = Object.values(bundle)
        .filter((item) => !item.fileName.endsWith('.map'))
        .sort((a, b) => a.fileName.localeCompare(b.fileName));
      for (const item of built) hash.update(item.fileName).update(item.type === 'chunk' ? item.code : item.source);
      const fromPublic = sitePaths(PUBLIC_DIR).sort();
      for (const path of fromPublic) hash.update(path).update(readFileSync(join(PUBLIC_DIR, path)));
      precache = [...built.map((item) => `/${item.fileName}`), ...fromPublic];
      version = hash.digest('hex').slice(0, 16);
    },
    async closeBundle() {
      await build({
        configFile: false,
        logLevel: 'warn',
        publicDir: false,
        define: { __PRECACHE__: JSON.stringify(precache), __SW_VERSION__: JSON.stringify(version) },
        build: {
          outDir,
          emptyOutDir: false,
          target: 'es2022',
          sourcemap: false,
          minify: true,
          lib: { entry: resolve('src/sw/sw.ts'), formats: ['es'], fileName: () => 'sw.js' },
        },
      });
      const code = readFileSync(join(outDir, 'sw.js'), 'utf8');
      if (/^\s*(import|export)\b/m.test(code)) throw new Error('sw.js must be one classic script, but it has import or export statements');
    },
  };
}
