/**
 * One client process of the relay load benchmark (relay-load.ts forks it): thousands of
 * WebSocket clients from Node, each a real Ed25519 identity (keys made up front) that
 * signs its socket's challenge and joins its room, then sends signals to other members
 * of its room and times their delivery.
 *
 * Rooms are laid out the same way in every client process (roomLayout), so a room can
 * span processes, and so relay instances: client g belongs to process g % processes.
 * Latency is measured on the monotonic clock, which all processes of a machine share.
 *
 * Parent -> this: { cmd: 'connect' }, { cmd: 'signal', seconds, perClientPerSecond }, { cmd: 'close' }
 * This -> parent: { ev: 'connected', ... }, { ev: 'signalled', ... }
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { WebSocket } from 'ws';
import { joinChallengeText, parseRelayMessage } from '../../signaling/protocol.ts';

/** `bigRoom`: members of one large room laid out first (0 for none), beside the rooms of `sizes`. */
export interface ClientJob { url: string; processIndex: number; processes: number; total: number; sizes: number[]; bigRoom: number }

interface Client {
  ws: WebSocket; key: KeyObject; raw: string; topic: string; self: string; peers: Set<string>;
  /** Until the welcome: an error frame fails the join instead of leaving it waiting for ever. */
  refused: (code: string) => void;
}

const roomTopic = (room: number | string): string => createHash('sha256').update(`bench-room-${room}`).digest('hex');
const BIG_TOPIC = roomTopic('big');

/** Global client index -> its room's topic: the big room first, then rooms with sizes cycling through `sizes`. */
export function roomLayout(total: number, sizes: number[], bigRoom: number): string[] {
  const topics: string[] = Array.from({ length: Math.min(bigRoom, total) }, () => BIG_TOPIC);
  for (let room = 0; topics.length < total; room++) {
    const topic = roomTopic(room);
    for (let i = 0; i < sizes[room % sizes.length]! && topics.length < total; i++) topics.push(topic);
  }
  return topics;
}

const job: ClientJob = JSON.parse(process.env.RELAY_BENCH_JOB!);
const clients: Client[] = [];
const latenciesMs: number[] = [];
/** Join latencies of this process's members of the big room, and the largest welcome one of them got. */
const big = { joinMs: [] as number[], welcome: { peers: 0, size: 0 } };
const errors: Record<string, number> = {};
let received = 0;
const nowNs = (): bigint => process.hrtime.bigint();

function onFrame(c: Client, text: string, joined: () => void): void {
  const parsed = parseRelayMessage(text);
  if (!parsed.ok) return void (errors['unparsable'] = (errors['unparsable'] ?? 0) + 1);
  const m = parsed.value;
  if (m.type === 'challenge') {
    const sig = sign(null, Buffer.from(joinChallengeText(m.nonce, c.topic)), c.key).toString('base64url');
    c.ws.send(JSON.stringify({ type: 'join', topic: c.topic, key: c.raw, sig }));
  } else if (m.type === 'welcome') {
    c.self = m.self;
    c.peers = new Set(m.peers);
    if (c.topic === BIG_TOPIC && m.size > big.welcome.size) big.welcome = { peers: m.peers.length, size: m.size };
    joined();
  } else if (m.type === 'peer-joined') c.peers.add(m.peer);
  else if (m.type === 'peer-left') c.peers.delete(m.peer);
  else if (m.type === 'signal') {
    received += 1;
    latenciesMs.push(Number(nowNs() - BigInt(m.data.slice(0, m.data.indexOf(' ')))) / 1e6);
  } else if (m.type === 'error') {
    errors[m.code] = (errors[m.code] ?? 0) + 1;
    if (c.self === '') c.refused(m.code);
  }
}

function connectOne(topic: string): Promise<number> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'jwk' }).x!;
  const started = nowNs();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(job.url, { perMessageDeflate: false });
    const c: Client = { ws, key: privateKey, raw, topic, self: '', peers: new Set(), refused: (code) => reject(new Error(code)) };
    // A join that never gets an answer counts as failed instead of holding up the run.
    const timer = setTimeout(() => reject(new Error('no welcome within 30 s')), 30_000);
    ws.on('message', (data) => onFrame(c, String(data), () => {
      clearTimeout(timer);
      resolve(Number(nowNs() - started) / 1e6);
    }));
    ws.once('error', reject);
    ws.once('close', () => reject(new Error('closed before welcome')));
    clients.push(c);
  });
}

/** Connects and joins this process's share of the clients, `concurrency` at a time. */
async function connectAll(concurrency = 200): Promise<{ count: number; failed: number; joinMs: number[]; big: typeof big }> {
  const topics = roomLayout(job.total, job.sizes, job.bigRoom).filter((_, g) => g % job.processes === job.processIndex);
  const joinMs: number[] = [];
  let next = 0;
  let failed = 0;
  const lane = async (): Promise<void> => {
    while (next < topics.length) {
      const topic = topics[next++]!;
      try {
        const ms = await connectOne(topic);
        joinMs.push(ms);
        if (topic === BIG_TOPIC) big.joinMs.push(ms);
      } catch (err) {
        failed += 1;
        const why = `join: ${(err as Error).message}`;
        errors[why] = (errors[why] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { count: joinMs.length, failed, joinMs, big };
}

/** An ICE-candidate-sized payload led by the send time. */
const payload = (): string => `${nowNs()} ${'c'.repeat(180)}`;

/**
 * Every 50 ms, random clients each signal one random member of their room, as many as
 * the elapsed time calls for: when this process falls behind, it catches up in bigger
 * batches instead of quietly offering less.
 */
async function signalFor(seconds: number, perClientPerSecond: number): Promise<number> {
  const senders = clients.filter((c) => c.self !== '' && c.peers.size > 0);
  const perMs = (senders.length * perClientPerSecond) / 1000;
  let sent = 0;
  const start = Date.now();
  const end = start + seconds * 1000;
  while (Date.now() < end) {
    for (const due = Math.floor((Date.now() - start) * perMs); sent < due; sent++) {
      const c = senders[Math.floor(Math.random() * senders.length)]!;
      const peers = [...c.peers];
      const to = peers[Math.floor(Math.random() * peers.length)]!;
      c.ws.send(`{"type":"signal","topic":"${c.topic}","to":"${to}","data":"${payload()}"}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return sent;
}

/** Waits for stragglers: until a second passes with nothing new (at most 10 s). */
async function drained(): Promise<void> {
  for (let i = 0, last = -1; i < 10 && received !== last; i++) {
    last = received;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

process.on('message', (msg: { cmd: string; seconds?: number; perClientPerSecond?: number }) => {
  if (msg.cmd === 'connect') {
    connectAll().then((r) => process.send!({ ev: 'connected', ...r, errors }));
  } else if (msg.cmd === 'signal') {
    received = 0;
    latenciesMs.length = 0;
    const windowStart = Date.now();
    signalFor(msg.seconds!, msg.perClientPerSecond!).then(async (sent) => {
      const seconds = (Date.now() - windowStart) / 1000;
      const inWindow = received;
      await drained();
      process.send!({ ev: 'signalled', sent, received, inWindow, latenciesMs, seconds, errors });
    });
  } else if (msg.cmd === 'close') {
    for (const c of clients) c.ws.terminate();
    process.exit(0);
  }
});
process.send!({ ev: 'ready' });
