/**
 * A real redis-server (Debian's package; tests/e2e/ensure-redis.sh installs it) on a
 * free loopback port, without persistence, for tests of relay instances joined through
 * Redis (unit, e2e and the relay benchmark). Tests skip with a clear message when there is none.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { hasCommand } from './has-command.ts';

export const NO_REDIS = 'no redis-server on this machine (install Debian\'s redis-server, or run tests/e2e/ensure-redis.sh)';

export const hasRedisServer = (): boolean => hasCommand('redis-server');

/** A TCP port free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServer { port: number; url: string; child: ChildProcess; stop(): Promise<void> }

/** `port`: listen there (a restart on the same address, as after a Redis outage). */
export async function startRedis(port?: number): Promise<RedisServer> {
  port ??= await freePort();
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output.join('')}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      output.push(String(d));
      if (output.join('').includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output.join('')}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port, url: `redis://127.0.0.1:${port}`, child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
