import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { RELAY_PATH } from '../../signaling/protocol.ts';
import { hasRedisServer, startRedis, type RedisServer } from '../tools/redis-server.ts';
import { sleep } from './infra.ts';
import { loadAverage, machineBusySeconds } from './procs.ts';

/**
 * `npm run bench:relay` (also the last part of `npm run bench`): the signalling relay
 * under many thousands of WebSocket clients, each a real Ed25519 identity signing its
 * join, in rooms of 2 to 32 and one of 250, sending ICE-candidate-sized signals to random
 * room members (a member of the large room knows a sample of it: the welcome's 32 and later joiners).
 *   (1) one relay process;
 *   (2) two relay processes joined through a real redis-server (REDIS_URL), every room
 *       split across both, so half of all signals cross Redis.
 * Each relay process gets BENCH_RELAY_CLIENTS (default 10,000) clients from a client
 * process of its own; then, for BENCH_RELAY_SECONDS (10) per phase, each client sends
 * signals at each rate of BENCH_RELAY_RATES (per client per second; default 0.2,1). Reports memory per connection (RSS and
 * heap growth over the connections, after a full GC), offered and delivered signals per
 * second (delivered within the sending window; stragglers are then awaited and counted),
 * delivery latency p50/p95/p99 and join latency, and writes test-results/bench-relay.json.
 * Target: 10,000 clients per process at no more than 25 KB each.
 */
const JSON_PATH = join('test-results', 'bench-relay.json');
const SIZES = [2, 3, 5, 8, 16, 32];
/** One room near the relay's cap (256), its members joining all at once: its joins and welcomes are reported apart. */
const BIG_ROOM = 250;
const TARGET_BYTES_PER_CONNECTION = 25 * 1024;

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!(value > 0)) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}
const config = {
  clientsPerProcess: Math.round(envNumber('BENCH_RELAY_CLIENTS', 10_000)),
  seconds: envNumber('BENCH_RELAY_SECONDS', 10),
  /** Signals per client per second, one sending phase each: light load first, then the target's. */
  rates: (process.env.BENCH_RELAY_RATES || '0.2,1').split(',').map((r) => {
    const rate = Number(r);
    if (!(rate > 0)) throw new Error(`BENCH_RELAY_RATES must be positive numbers, comma-separated; got ${r}`);
    return rate;
  }),
};

type Reply = Record<string, unknown> & { ev: string };

/** Forks a bench process and returns a way to ask it something and await its answer. */
function start(script: string, env: Record<string, string>, execArgv: string[]) {
  const child = fork(join(import.meta.dirname, script), [], { env: { ...process.env, ...env }, execArgv: ['--import', 'tsx', ...execArgv], stdio: 'inherit' });
  const waiting: Array<{ ev: string; resolve: (r: Reply) => void }> = [];
  child.on('message', (m: Reply) => {
    const i = waiting.findIndex((w) => w.ev === m.ev);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m);
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`))));
  const next = (ev: string): Promise<Reply> => Promise.race([new Promise<Reply>((resolve) => waiting.push({ ev, resolve })), exited]);
  const ask = (cmd: Record<string, unknown>, ev: string): Promise<Reply> => {
    const answer = next(ev);
    child.send(cmd);
    return answer;
  };
  return { child, next, ask };
}

const percentile = (sorted: number[], p: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (v: number): number => Math.round(v * 10) / 10;
const sumBy = (rs: Reply[], key: string): number => rs.reduce((a, r) => a + Number(r[key]), 0);

/** Memory growth per connection, from each relay's figures before and after. */
function perConnection(before: Reply[], after: Reply[]) {
  return after.map((a, i) => {
    const b = before[i]!;
    const connections = Number(a.connections);
    const per = (key: string): number => Math.round((Number(a[key]) - Number(b[key])) / connections);
    return { connections, rssBytes: per('rss'), heapBytes: per('heapUsed'), externalBytes: per('external'), rssMiB: Math.round(Number(a.rss) / 2 ** 20) };
  });
}

type Proc = ReturnType<typeof start>;

/** The large room's members (from every client process): how fast they got in, and what their welcomes said. */
function bigRoomFigure(connected: Reply[]) {
  const bigs = connected.map((c) => c.big as { joinMs: number[]; welcome: { peers: number; size: number } });
  const joinMs = bigs.flatMap((b) => b.joinMs).sort((a, b) => a - b);
  const largest = bigs.map((b) => b.welcome).reduce((a, b) => (b.size > a.size ? b : a));
  return { joined: joinMs.length, joinLatencyMs: { p50: ms(percentile(joinMs, 50)), p99: ms(percentile(joinMs, 99)) }, largestWelcome: largest };
}

/** Every client process sends at `rate` per client for config.seconds; what arrived, how fast, at what CPU cost. */
async function signalPhase(relays: Proc[], workers: Proc[], rate: number) {
  const busy0 = machineBusySeconds();
  const wall0 = performance.now();
  const cpu0 = await Promise.all(relays.map((r) => r.ask({ cmd: 'mem' }, 'mem')));
  const signalled = await Promise.all(workers.map((w) => w.ask({ cmd: 'signal', seconds: config.seconds, perClientPerSecond: rate }, 'signalled')));
  const cpu1 = await Promise.all(relays.map((r) => r.ask({ cmd: 'mem' }, 'mem')));
  const seconds = Math.max(...signalled.map((s) => Number(s.seconds)));
  const latency = signalled.flatMap((s) => s.latenciesMs as number[]).sort((a, b) => a - b);
  const stat = (c: Reply, key: 'droppedSlow' | 'rateLimited'): number => (c.stats as Record<string, number>)[key]!;
  const s = {
    ratePerClient: rate,
    offeredPerSecond: Math.round(sumBy(signalled, 'sent') / seconds), deliveredPerSecond: Math.round(sumBy(signalled, 'inWindow') / seconds),
    sent: sumBy(signalled, 'sent'), received: sumBy(signalled, 'received'), windowSeconds: ms(seconds),
    latencyMs: { p50: ms(percentile(latency, 50)), p95: ms(percentile(latency, 95)), p99: ms(percentile(latency, 99)), max: ms(latency.at(-1) ?? NaN) },
    relayCpuSeconds: cpu1.map((c, i) => ms((Number(c.cpu) - Number(cpu0[i]!.cpu)) / 1e6)),
    /** Everyone's CPU over the sending window and the wait for stragglers; 2.0 = both cores of this machine. */
    machineBusyCores: ms((machineBusySeconds() - busy0) / ((performance.now() - wall0) / 1000)),
    droppedSlow: cpu1.map((c, i) => stat(c, 'droppedSlow') - stat(cpu0[i]!, 'droppedSlow')),
    rateLimited: cpu1.map((c, i) => stat(c, 'rateLimited') - stat(cpu0[i]!, 'rateLimited')),
    clientErrors: signalled.map((x) => x.errors),
    /** Log events by name, counted since the relay started (e.g. instance-lost, redis-down). */
    relayLogs: cpu1.map((c) => c.logged),
    relayLastErrors: cpu1.map((c) => c.lastErrors),
  };
  console.log(`  ${rate}/s per client: ${s.deliveredPerSecond}/s delivered in the window of ${s.offeredPerSecond}/s offered (${s.received} of ${s.sent} in the end); ` +
    `latency p50 ${s.latencyMs.p50} ms, p95 ${s.latencyMs.p95} ms, p99 ${s.latencyMs.p99} ms; relay CPU ${s.relayCpuSeconds.join(' + ')} s over ${s.windowSeconds} s`);
  return s;
}

async function scenario(name: string, instances: number, redis: RedisServer | null) {
  console.log(`\n${name}: ${instances} relay process(es), ${config.clientsPerProcess} clients each...`);
  const limits = { MAX_CONNECTIONS: String(config.clientsPerProcess + 1000), MAX_CONNECTIONS_PER_ADDRESS: '1000000', MAX_IDENTITIES_PER_ADDRESS: '1000000' };
  const relays = Array.from({ length: instances }, () =>
    start('relay-node.ts', { ...limits, ...(redis ? { REDIS_URL: redis.url } : {}) }, ['--expose-gc']));
  const workers: Proc[] = [];
  try {
    const ports = (await Promise.all(relays.map((r) => r.next('ready')))).map((r) => Number(r.port));
    await sleep(1000); // the instances meet on the bus
    const before = await Promise.all(relays.map((r) => r.ask({ cmd: 'mem' }, 'mem')));
    for (let i = 0; i < instances; i++) {
      const job = { url: `ws://127.0.0.1:${ports[i]}${RELAY_PATH}`, processIndex: i, processes: instances, total: config.clientsPerProcess * instances, sizes: SIZES, bigRoom: BIG_ROOM };
      workers.push(start('relay-clients.ts', { RELAY_BENCH_JOB: JSON.stringify(job) }, []));
    }
    await Promise.all(workers.map((w) => w.next('ready')));
    const t0 = performance.now();
    const connected = await Promise.all(workers.map((w) => w.ask({ cmd: 'connect' }, 'connected')));
    const connectSeconds = (performance.now() - t0) / 1000;
    const joinMs = connected.flatMap((c) => c.joinMs as number[]).sort((a, b) => a - b);
    const joinErrors = connected.map((c) => c.errors);
    const bigRoom = bigRoomFigure(connected);
    console.log(`  ${sumBy(connected, 'count')} joined (${sumBy(connected, 'failed')} failed${sumBy(connected, 'failed') > 0 ? `: ${JSON.stringify(joinErrors)}` : ''}) in ${connectSeconds.toFixed(1)} s`);
    await sleep(2000); // peer-joined fan-out settles
    const after = await Promise.all(relays.map((r) => r.ask({ cmd: 'mem' }, 'mem')));
    const memory = perConnection(before, after);
    console.log(`  the ${BIG_ROOM}-person room: ${bigRoom.joined} joined, join p50 ${bigRoom.joinLatencyMs.p50} ms, p99 ${bigRoom.joinLatencyMs.p99} ms; ` +
      `largest welcome ${bigRoom.largestWelcome.peers} peers of size ${bigRoom.largestWelcome.size}`);
    console.log(`  memory per connection: ${memory.map((m) => `${m.rssBytes} B RSS, ${m.heapBytes} B heap`).join('; ')}`);

    const signals = [];
    for (const rate of config.rates) signals.push(await signalPhase(relays, workers, rate));
    const result = {
      name, instances, clients: sumBy(connected, 'count'), failedJoins: sumBy(connected, 'failed'), connectSeconds: ms(connectSeconds),
      joinLatencyMs: { p50: ms(percentile(joinMs, 50)), p95: ms(percentile(joinMs, 95)), p99: ms(percentile(joinMs, 99)) },
      bigRoom, joinErrors, memory, signals, relayLogs: after.map((a) => a.logged),
    };
    return result;
  } finally {
    for (const w of workers) w.child.send({ cmd: 'close' });
    await Promise.allSettled(relays.map((r) => r.ask({ cmd: 'close' }, 'never').catch(() => undefined)));
    for (const p of [...workers, ...relays]) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  }
}

function verdict(results: Awaited<ReturnType<typeof scenario>>[]): string[] {
  return results.map((r) => {
    const worst = Math.max(...r.memory.map((m) => m.rssBytes));
    const perProcess = Math.min(...r.memory.map((m) => m.connections));
    const ok = perProcess >= 10_000 && worst <= TARGET_BYTES_PER_CONNECTION;
    return `${ok ? 'PASS' : 'MISS'} ${r.name}: ${perProcess} clients per process at up to ${(worst / 1024).toFixed(1)} KB RSS each (target >= 10000 at <= 25 KB)`;
  });
}

async function main(): Promise<void> {
  const load = loadAverage();
  const results = [await scenario('one relay', 1, null)];
  if (hasRedisServer()) {
    const redis = await startRedis();
    try {
      results.push(await scenario('two relays through Redis', 2, redis));
    } finally {
      await redis.stop();
    }
  } else console.log('\nno redis-server: the two-instance run is skipped (tests/e2e/ensure-redis.sh installs it)');
  const lines = verdict(results);
  console.log(`\n${lines.join('\n')}`);
  mkdirSync('test-results', { recursive: true });
  const machine = { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverageBefore: load, loadAverageAfter: loadAverage() };
  writeFileSync(JSON_PATH, JSON.stringify({ date: new Date().toISOString(), machine, config, results, verdict: lines }, null, 2));
  console.log(`wrote ${JSON_PATH}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
