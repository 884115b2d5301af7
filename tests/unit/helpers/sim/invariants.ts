import type { RunState } from './runner.ts';
import type { SimPeer } from './peer.ts';

/**
 * What must hold after a scenario, read from the engines' public state and
 * from the memory stores (never from the app's private fields):
 *   a  asked-for downloads with reachable sources completed (and their promises said so)
 *   b  every stored piece is the original bytes
 *   c  whole-file holders shown are the online peers that really hold the whole file; partial holders shown are online
 *   d  no honest peer was banned or disconnected
 *   e  no stored piece without a file record
 *   f  nobody is listed as present who is not online
 *   g  online peers are linked to each other (the mesh healed)
 *   h  no exception escaped an event handler, no unhandled rejection
 *   r  the stored record marks the whole file exactly when the page shows it complete
 */
export interface Violation { invariant: string; message: string }

type Phase = 'presence' | 'final';

const bit = (bits: Uint8Array | undefined, i: number) => !!bits && (bits[i >> 3]! & (0x80 >> (i & 7))) !== 0;

/** Where a file's pieces are stored: its record's storage key (a shared file keeps the draft id it was imported under). */
async function storeKeyOf(peer: SimPeer, fileId: string): Promise<string> {
  return (await peer.store.getFile(fileId))?.storeKey ?? fileId;
}

/** Pieces a peer's storage really holds and claims (record bit set and piece present). */
async function heldPieces(peer: SimPeer, fileId: string, pieceCount: number): Promise<boolean[]> {
  const record = await peer.store.getFile(fileId);
  const keys = new Set(peer.store.pieceKeys());
  const key = record?.storeKey ?? fileId;
  return Array.from({ length: pieceCount }, (_, i) => bit(record?.have, i) && keys.has(`${key}:${i}`));
}

const online = (st: RunState) => st.peers.map((p, i) => ({ p, i })).filter(({ p }) => p.online);
const linked = (a: SimPeer, b: SimPeer) => a.engine!.getState().peers.some((v) => v.id === b.id && v.link === 'open');

export async function checkInvariants(st: RunState, phase: Phase): Promise<Violation[]> {
  const out: Violation[] = [];
  const fail = (invariant: string, message: string) => out.push({ invariant, message: `${invariant} (${phase}): ${message}` });
  presence(st, fail);
  if (phase === 'presence') return out;
  await downloads(st, fail);
  await storage(st, fail);
  await holders(st, fail);
  await records(st, fail);
  bans(st, fail);
  mesh(st, fail);
  for (const { atMs, error } of st.clock.errors) fail('h', `exception at ${(atMs / 1000).toFixed(3)}s: ${String((error as Error)?.stack ?? error)}`);
  for (const e of st.rejections) fail('h', `unhandled rejection: ${String((e as Error)?.stack ?? e)}`);
  return out;
}

type Fail = (invariant: string, message: string) => void;

function presence(st: RunState, fail: Fail): void {
  const ids = new Map(st.peers.map((p, i) => [p.id, i]));
  for (const { p, i } of online(st)) {
    for (const v of p.engine!.getState().peers) {
      const j = ids.get(v.id);
      if (j === undefined || !st.peers[j]!.online) fail('f', `p${i} lists p${j ?? '?'} (link ${v.link}) as present, but it is offline`);
    }
  }
}

async function downloads(st: RunState, fail: Fail): Promise<void> {
  for (const [i, byContent] of st.wanted) {
    const peer = st.peers[i]!;
    if (!peer.online) continue;
    for (const [c, w] of byContent) {
      const content = st.contents[c]!;
      const view = peer.engine!.getState().files.find((f) => f.meta.id === content.fileId);
      const complete = view?.status === 'complete';
      for (const call of w.calls) {
        if (call.engineStart !== peer.starts || !complete || call.result === true) continue;
        fail('a', `p${i}'s download() of c${c} ${call.result === 'pending' ? 'never resolved' : `resolved ${call.result}`}, though the file is complete`);
      }
      if (complete) continue;
      const covered = Array.from({ length: content.pieceCount }, () => false);
      const sources: string[] = [];
      for (const { p, i: j } of online(st)) {
        if (j === i || !linked(peer, p)) continue;
        const held = await heldPieces(p, content.fileId, content.pieceCount);
        if (held.some(Boolean)) sources.push(`p${j}`);
        held.forEach((h, k) => (covered[k] ||= h));
      }
      if (!covered.every(Boolean)) continue;
      const state = view ? `${view.status}, ${view.bytesDone}/${view.meta.size} bytes, sources ${view.sources}, error ${view.error}` : 'not listed';
      fail('a', `p${i} asked for c${c}; linked peers ${sources.join(',')} hold every piece, but it is ${state}`);
    }
  }
}

async function storage(st: RunState, fail: Fail): Promise<void> {
  const byId = new Map(st.contents.map((c, i) => [c.fileId, { c, i }]));
  for (const [i, peer] of st.peers.entries()) {
    // Pieces live under a record's storage key (its id, or the draft id it was imported under).
    const fileOfKey = new Map((await peer.store.listFiles()).map((r) => [r.storeKey ?? r.meta.id, r.meta.id]));
    const records = new Set(fileOfKey.keys());
    for (const key of peer.store.pieceKeys()) {
      const [storeKey, index] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
      const fileId = fileOfKey.get(storeKey) ?? storeKey;
      const known = byId.get(fileId);
      if (!records.has(storeKey)) fail('e', `p${i} stores piece ${index} of ${known ? `c${known.i}` : fileId.slice(0, 8)} without a file record`);
      if (!known) {
        fail('b', `p${i} stores a piece of unknown file ${fileId.slice(0, 8)}`);
        continue;
      }
      const data = await peer.store.getPiece(storeKey, index);
      const start = index * known.c.pieceSize;
      const original = known.c.bytes.subarray(start, start + known.c.pieceSize);
      if (!data || Buffer.compare(Buffer.from(data), Buffer.from(original)) !== 0) {
        fail('b', `p${i} stores piece ${index} of c${known.i} that differs from the original`);
      }
    }
  }
}

/** Online peers whose page says the file is complete, split by whether storage really has every piece. */
async function completeHolders(st: RunState, fileId: string, pieceCount: number): Promise<{ real: Set<number>; unnoticedLoss: Set<number> }> {
  const real = new Set<number>();
  const unnoticedLoss = new Set<number>();
  for (const { p, i } of online(st)) {
    if (p.engine!.getState().files.find((f) => f.meta.id === fileId)?.status !== 'complete') continue;
    const keys = new Set(p.store.pieceKeys());
    const key = await storeKeyOf(p, fileId);
    const all = Array.from({ length: pieceCount }, (_, k) => keys.has(`${key}:${k}`)).every(Boolean);
    (all ? real : unnoticedLoss).add(i);
  }
  return { real, unnoticedLoss };
}

async function holders(st: RunState, fail: Fail): Promise<void> {
  const list = (xs: Iterable<number>) => [...xs].map((j) => `p${j}`).join(',') || 'nobody';
  for (const [c, content] of st.contents.entries()) {
    // A piece storage lost that nobody asked for yet cannot be known: such a peer may be shown or not.
    const { real, unnoticedLoss } = await completeHolders(st, content.fileId, content.pieceCount);
    for (const { p, i } of online(st)) {
      const view = p.engine!.getState().files.find((f) => f.meta.id === content.fileId);
      // Whole-file holders; partial ones ("Bob 40%") must at least be peers that are online.
      const shown = new Set((view?.holders ?? []).filter((h) => h.share >= 1).map((h) => st.peers.findIndex((q) => q.id === h.id)));
      for (const h of view?.holders ?? []) {
        const j = st.peers.findIndex((q) => q.id === h.id);
        if (h.share < 1 && !st.peers[j]?.online) fail('c', `p${i} shows p${j} holding ${Math.round(h.share * 100)}% of c${c}, but p${j} is gone`);
      }
      // A peer must see the holders it is linked to (and itself); others it may not have heard of.
      const missing = [...real].filter((j) => (j === i || linked(p, st.peers[j]!)) && !shown.has(j));
      const extra = [...shown].filter((j) => !real.has(j) && !unnoticedLoss.has(j));
      if (missing.length === 0 && extra.length === 0) continue;
      const lossNote = unnoticedLoss.size ? `; ${list(unnoticedLoss)} lost a piece unnoticed` : '';
      fail('c', `p${i} shows holders of c${c} as ${list(shown)}; really held by ${list(real)}${lossNote}${view ? '' : ' (file not listed)'}`);
    }
  }
}

/** What the page believes it holds is what storage says it holds (else a reload changes the story). */
async function records(st: RunState, fail: Fail): Promise<void> {
  for (const { p, i } of online(st)) {
    for (const view of p.engine!.getState().files) {
      const c = st.contents.findIndex((x) => x.fileId === view.meta.id);
      const pieceCount = st.contents[c]?.pieceCount ?? 0;
      const record = await p.store.getFile(view.meta.id);
      const onDisk = record ? Array.from({ length: pieceCount }, (_, k) => bit(record.have, k)).filter(Boolean).length : 0;
      const pageComplete = view.status === 'complete';
      if (pageComplete === (record !== undefined && onDisk === pieceCount)) continue;
      fail('r', `p${i} shows c${c} as ${view.status} (${view.bytesDone}/${view.meta.size} bytes) but its stored record ${record ? `marks ${onDisk}/${pieceCount} pieces` : 'is missing'}`);
    }
  }
}

function bans(st: RunState, fail: Fail): void {
  for (const [i, seen] of st.notices.entries()) {
    for (const text of seen) if (text.startsWith('Disconnected')) fail('d', `p${i} showed "${text}"`);
  }
  for (const { p, i } of online(st)) {
    for (const [j, q] of st.peers.entries()) {
      if (p.engine!.internals.peers()?.isBanned(q.id)) fail('d', `p${i} banned p${j}`);
    }
  }
}

function mesh(st: RunState, fail: Fail): void {
  for (const { p, i } of online(st)) {
    for (const { p: q, i: j } of online(st)) {
      if (i !== j && !linked(p, q)) fail('g', `p${i} has no open link to p${j} after the quiet period`);
    }
  }
}
