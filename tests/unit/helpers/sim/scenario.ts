import { MIN_PIECE_SIZE } from '../../../../src/core/manifest/manifest.ts';
import { mulberry32 } from '../random.ts';

/**
 * Random scenarios from a seed: a few peers, a small pool of file contents,
 * and a sequence of operations with virtual gaps. Ops are plain data that
 * name peers and contents by index, so a failing sequence can be printed,
 * replayed and shrunk; an op that makes no sense when it runs is skipped.
 */
export type Op =
  | { kind: 'join' | 'leave' | 'reload' | 'network-change'; peer: number }
  | { kind: 'share'; peer: number; content: number; name: string }
  | { kind: 'download' | 'download-twice' | 'cancel' | 'download-after-cancel' | 'pause' | 'pause-then-download'; peer: number; content: number }
  | { kind: 'remove' | 'stop-sharing'; peer: number; content: number }
  | { kind: 'lose-piece'; peer: number; content: number; piece: number }
  | { kind: 'relay-down' | 'relay-up' };

export type TimedOp = Op & { gapMs: number };

export interface Scenario {
  seed: number;
  peerCount: number;
  /** Sizes of the file contents; the bytes come from the seed. */
  contentSizes: number[];
  ops: TimedOp[];
}

export interface ScenarioLimits {
  minPeers: number; maxPeers: number;
  maxContents: number;
  minOps: number; maxOps: number;
  maxGapMs: number;
}

export const DEFAULT_LIMITS: ScenarioLimits = { minPeers: 4, maxPeers: 8, maxContents: 3, minOps: 10, maxOps: 30, maxGapMs: 5_000 };

export const pieceCountOf = (size: number) => Math.max(1, Math.ceil(size / MIN_PIECE_SIZE));

export function contentBytes(seed: number, index: number, size: number): Uint8Array {
  const random = mulberry32((seed ^ (0x9e3779b9 * (index + 1))) >>> 0);
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, size >> 2);
  for (let i = 0; i < words.length; i++) words[i] = (random() * 2 ** 32) >>> 0;
  for (let i = words.length * 4; i < size; i++) out[i] = Math.floor(random() * 256);
  return out;
}

function contentSize(random: () => number): number {
  const r = random();
  if (r < 0.25) return 1 + Math.floor(random() * 100); // a few bytes
  if (r < 0.5) return 1 + Math.floor(random() * MIN_PIECE_SIZE); // one piece
  return MIN_PIECE_SIZE + 1 + Math.floor(random() * 2 * MIN_PIECE_SIZE - 1); // two or three pieces
}

/** What the generator believes, to propose ops that mostly make sense (the runner still checks). */
interface Model { online: Set<number>; shared: Set<number>; relayUp: boolean }

type Proposal = [weight: number, make: () => Op | null];

export function generateScenario(seed: number, limits: ScenarioLimits = DEFAULT_LIMITS): Scenario {
  const random = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pickOf = <T>(xs: readonly T[]): T | null => (xs.length ? xs[Math.floor(random() * xs.length)]! : null);
  const peerCount = int(limits.minPeers, limits.maxPeers);
  const contentSizes = Array.from({ length: int(1, limits.maxContents) }, () => contentSize(random));
  const m: Model = { online: new Set(), shared: new Set(), relayUp: true };
  const all = Array.from({ length: peerCount }, (_, i) => i);
  const onlinePeer = () => pickOf([...m.online]);
  const ops: TimedOp[] = [];
  // Two people are there from the start; the rest come and go.
  for (const peer of [0, 1]) ops.push({ kind: 'join', peer, gapMs: 0 });
  m.online.add(0).add(1);

  const proposals: Proposal[] = [
    [12, () => { const p = pickOf(all.filter((i) => !m.online.has(i))); return p === null ? null : { kind: 'join', peer: p }; }],
    [5, () => { const p = m.online.size > 1 ? onlinePeer() : null; return p === null ? null : { kind: 'leave', peer: p }; }],
    [6, () => { const p = onlinePeer(); return p === null ? null : { kind: 'reload', peer: p }; }],
    // The phone's Wi-Fi to mobile data: a new relay socket at once (signals in flight on the old one are lost).
    [4, () => { const p = onlinePeer(); return p === null ? null : { kind: 'network-change', peer: p }; }],
    [12, () => {
      const p = onlinePeer();
      const c = int(0, contentSizes.length - 1);
      return p === null ? null : { kind: 'share', peer: p, content: c, name: random() < 0.25 ? `copy-${c}.bin` : `file-${c}.bin` };
    }],
    ...(['download', 'download-twice', 'cancel', 'download-after-cancel', 'pause', 'pause-then-download'] as const).map((kind, i): Proposal => [[18, 5, 6, 4, 4, 3][i]!, () => {
      const p = onlinePeer();
      const c = pickOf([...m.shared]);
      return p === null || c === null ? null : { kind, peer: p, content: c };
    }]),
    ...(['remove', 'stop-sharing'] as const).map((kind): Proposal => [3, () => {
      const p = onlinePeer();
      const c = pickOf([...m.shared]);
      return p === null || c === null ? null : { kind, peer: p, content: c };
    }]),
    [5, () => {
      const p = int(0, peerCount - 1);
      const c = pickOf([...m.shared]);
      return c === null ? null : { kind: 'lose-piece', peer: p, content: c, piece: int(0, pieceCountOf(contentSizes[c]!) - 1) };
    }],
    [4, () => (m.relayUp ? { kind: 'relay-down' } : null)],
    [8, () => (m.relayUp ? null : { kind: 'relay-up' })],
  ];
  const total = proposals.reduce((n, [w]) => n + w, 0);
  const count = int(limits.minOps, limits.maxOps);
  while (ops.length < count) {
    let r = random() * total;
    const [, make] = proposals.find(([w]) => (r -= w) < 0) ?? proposals[0]!;
    const op = make();
    if (!op) continue;
    apply(m, op);
    ops.push({ ...op, gapMs: random() < 0.2 ? 0 : int(0, limits.maxGapMs) });
  }
  return { seed, peerCount, contentSizes, ops };
}

function apply(m: Model, op: Op): void {
  if (op.kind === 'join') m.online.add(op.peer);
  else if (op.kind === 'leave') m.online.delete(op.peer);
  else if (op.kind === 'share') m.shared.add(op.content);
  else if (op.kind === 'relay-down') m.relayUp = false;
  else if (op.kind === 'relay-up') m.relayUp = true;
}

export function formatOp(op: Op): string {
  const who = 'peer' in op ? `p${op.peer} ` : '';
  switch (op.kind) {
    case 'share': return `${who}share c${op.content} as "${op.name}"`;
    case 'lose-piece': return `${who}lose-piece c${op.content}#${op.piece}`;
    case 'download': case 'download-twice': case 'cancel': case 'download-after-cancel': case 'remove': case 'stop-sharing':
    case 'pause': case 'pause-then-download':
      return `${who}${op.kind} c${op.content}`;
    default: return `${who}${op.kind}`;
  }
}

export function formatScenario(s: Scenario): string {
  const sizes = s.contentSizes.map((n, i) => `c${i}=${n}B/${pieceCountOf(n)}pc`).join(' ');
  let t = 0;
  const lines = s.ops.map((op) => `  t=${((t += op.gapMs) / 1000).toFixed(1)}s ${formatOp(op)}`);
  return [`seed ${s.seed}: ${s.peerCount} peers, contents ${sizes}`, ...lines].join('\n');
}
