import { persistentPeer } from './app.ts';
import { Cleanup, config, tempRoot } from './infra.ts';
import { rawTwoBrowsers } from './phases.ts';
import type { RawShape } from './raw-channel.ts';
import { breakdown, cpuMsPerMiB } from './report.ts';

/**
 * Issue 11 goal 3: what the bare channel (a') costs with other message sizes
 * and water marks, between the same two on-disk browsers, shapes alternating
 * round by round so the shared machine's load hits each alike. Answers whether
 * meshdrop should send larger DATA frames or queue more.
 *
 *   BENCH_SHAPES=64:1024:256,128:1024:256,240:2048:512 BENCH_MB=64 BENCH_SHAPE_ROUNDS=3 npx tsx tests/bench/raw-shapes.ts
 *
 * Each shape is message:high:low in KiB.
 */
function parseShapes(text: string): RawShape[] {
  return text.split(',').map((s) => {
    const [message, high, low] = s.split(':').map((n) => Number(n) * 1024);
    if (!message || !high || low === undefined || Number.isNaN(low)) throw new Error(`bad shape ${s}: message:high:low in KiB`);
    return { message, high, low };
  });
}

const name = (s: RawShape) => `${s.message / 1024}:${s.high / 1024}:${s.low / 1024}`;

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  process.once('SIGINT', () => void cleanup.run().finally(() => process.exit(130)));
  try {
    const shapes = parseShapes(process.env.BENCH_SHAPES ?? '64:1024:256,128:1024:256,240:2048:512');
    const rounds = Number(process.env.BENCH_SHAPE_ROUNDS ?? 3);
    const root = tempRoot(cleanup);
    const sender = await persistentPeer(root, 'shape-sender', cleanup);
    const receiver = await persistentPeer(root, 'shape-receiver', cleanup);
    const mib = config.mainMiB;
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? shapes : [...shapes].reverse();
      for (const shape of order) {
        const raw = await rawTwoBrowsers(sender, receiver, mib, shape);
        console.log(
          `r${r} ${name(shape)}: ${raw.mibPerSec.toFixed(1)} MiB/s ${cpuMsPerMiB(raw.cpu, mib)} ms/MiB, packets ${raw.packets.packetsSent} ` +
          `(dropped ${raw.packets.discardedOnSend}) [other ${raw.cpu.otherSeconds} s, load ${raw.cpu.loadAverage}]\n    ${breakdown(raw.cpu, mib)}`,
        );
      }
    }
  } finally {
    await cleanup.run();
  }
}

await main();
