import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The benchmark's edges: sizes from the environment, temp files, the app
 * server, and one cleanup stack that runs on success, failure and Ctrl-C, so
 * no browser, server or temp dir outlives a run.
 */
export const MiB = 1024 * 1024;
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'];

/** A positive whole number from the environment (MiB, or a count). */
export function envMiB(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!(value > 0) || !Number.isInteger(value)) throw new Error(`${name} must be a positive whole number, got ${raw}`);
  return value;
}

export const config = {
  /** (a) and (b): bytes pushed through the raw channel and the app. */
  mainMiB: envMiB('BENCH_MB', 256),
  /** (c): the swarm file. Big enough that start-up (manifest, bitfields) is small next to the transfer. */
  swarmMiB: envMiB('BENCH_SWARM_MB', 48),
  /** (c): rounds of 1-vs-3 holders; the median counts (single runs varied 2x on this shared machine). */
  swarmRounds: envMiB('BENCH_SWARM_ROUNDS', 3),
  /** (c): each holder's upload cap, so the network (not our 2 cores) is the limit. */
  upLimit: envMiB('BENCH_UPLIMIT_MB', 4) * MiB,
  /** Write a CPU profile of both pages during (b) to test-results/ (slows (b) down: not for the timed figures). */
  profile: process.env.BENCH_PROFILE === '1',
  /** A git ref to benchmark (e.g. HEAD) instead of the working tree, which others may be editing mid-run. */
  ref: process.env.BENCH_REF || undefined,
  /** A source tree to benchmark instead (e.g. a patched copy, to try a change without touching src/). */
  sources: process.env.BENCH_SOURCES || undefined,
  /** BENCH_ONLY=a,b,c,...: run only these phases (unset: all). Names: a, b (with a'), c, and each later phase's own name. */
  only: (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean),
};

/** Whether a phase runs in this invocation (BENCH_ONLY). */
export const runs = (phase: string): boolean => config.only.length === 0 || config.only.includes(phase);

/** Last-in, first-out teardown. Every step runs even if an earlier one throws. */
export class Cleanup {
  private steps: { what: string; fn: () => unknown }[] = [];

  add(what: string, fn: () => unknown): void {
    this.steps.push({ what, fn });
  }

  private running: Promise<void> | null = null;

  /** One teardown however many callers ask (Ctrl-C and the failing main flow both do): all wait for all of it. */
  run(): Promise<void> {
    this.running ??= this.drain();
    return this.running;
  }

  private async drain(): Promise<void> {
    while (this.steps.length > 0) {
      const { what, fn } = this.steps.pop()!;
      try {
        await withTimeout(Promise.resolve(fn()), 30_000, what);
      } catch (e) {
        console.error(`cleanup: ${what} failed: ${(e as Error).message}`);
      }
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One temp root for everything (profiles, inputs, downloads): one rm at the end. */
export function tempRoot(cleanup: Cleanup): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshdrop-bench-'));
  cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Writes `mib` MiB of random bytes in 8 MiB chunks and hashes them on the way,
 * so neither the write nor the reference hash ever holds the file in memory.
 */
export function writeRandomFile(path: string, mib: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let left = mib * MiB; left > 0; left -= 8 * MiB) {
      const chunk = randomBytes(Math.min(8 * MiB, left));
      hash.update(chunk);
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 4 * MiB })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * The app's sources: the working tree, or with BENCH_REF a clean `git archive`
 * of that commit (read-only for the repository), so a run measures one
 * consistent version even while people are half-way through edits.
 */
export function appSources(root: string): string {
  if (config.sources) return resolve(config.sources);
  if (!config.ref) return process.cwd();
  return sourcesAt(config.ref, join(root, 'sources'));
}

/** A clean copy of commit `ref`'s sources in `dir` (with our node_modules), e.g. the other side of an A/B run. */
export function sourcesAt(ref: string, dir: string): string {
  mkdirSync(dir);
  const r = spawnSync('sh', ['-c', 'git archive "$REF" | tar -x -C "$DIR"'], { env: { ...process.env, REF: ref, DIR: dir }, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`git archive ${ref} failed`);
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  return dir;
}

/**
 * Builds the app into our own temp dir, not the shared dist/: other people
 * rebuild dist/ while they work, and a server whose file index no longer
 * matches index.html serves 404s mid-run.
 */
export function buildApp(sources: string, outDir: string): void {
  // A profile of minified code names nothing; the profiling run builds readable code instead.
  const args = ['vite', 'build', '--logLevel', 'warn', '--outDir', outDir, '--emptyOutDir', ...(config.profile ? ['--minify', 'false'] : [])];
  console.log(`building the app (npx ${args.join(' ')})...`);
  const r = spawnSync('npx', args, { stdio: 'inherit', cwd: sources });
  if (r.status !== 0) throw new Error(`vite build failed with exit code ${r.status}`);
}

/**
 * The real server (static app + relay, signaling/server.ts, what `npm start`
 * runs) inside this process, on a port the OS picks. In-process because a
 * separate `tsx signaling/start.ts` was stopped mid-run by someone else's
 * cleanup on this shared machine; here it lives and dies with the benchmark.
 */
export async function startServer(cleanup: Cleanup, sources: string, distDir: string, logPath: string): Promise<string> {
  // The relay and the app must be of one version: load the server from the same sources as the build.
  const serverModule = pathToFileURL(join(sources, 'signaling', 'server.ts')).href;
  const { startServer: startAppServer } = (await import(serverModule)) as typeof import('../../signaling/server.ts');
  const log = createWriteStream(logPath);
  cleanup.add('close the server log', () => new Promise((resolve) => log.end(resolve)));
  const server = await startAppServer({
    port: 0,
    host: '127.0.0.1',
    distDir,
    relay: {
      log: (event) => log.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`),
      // Every benchmark browser comes from 127.0.0.1 with a fresh identity: lift the per-address caps
      // (older source trees ignore the unknown keys).
      limits: { maxConnectionsPerAddress: 10_000, maxIdentitiesPerAddress: 100_000 } as Record<string, number>,
    },
  });
  cleanup.add('stop the server', () => server.close());
  return server.url;
}

/** What was benchmarked: the working tree may hold other people's uncommitted edits. */
export function gitState(): { commit: string; ref: string; dirty: string[] } {
  const run = (args: string[]) => spawnSync('git', args, { encoding: 'utf8' }).stdout?.trim() ?? '';
  if (config.sources) return { commit: '', ref: `sources at ${config.sources}`, dirty: [] };
  const ref = config.ref ?? 'working tree';
  const commit = run(['rev-parse', '--short', config.ref ?? 'HEAD']);
  // Uncommitted changes were benchmarked only when the working tree was.
  return { commit, ref, dirty: config.ref ? [] : run(['status', '--porcelain']).split('\n').filter(Boolean) };
}
