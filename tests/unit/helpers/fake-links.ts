import type { LinkHandlers, PeerConnection, PeerConnectionFactory } from '../../../src/net/link.ts';
import { createPeerManager, type PeerManager, type PeerManagerDeps } from '../../../src/net/peer-manager.ts';
import { encodeEnvelope, parseEnvelope, type Envelope, type Purpose } from '../../../src/net/signal-envelope.ts';
import { mulberry32 } from './random.ts';

/**
 * A peer manager driven by hand: a fake connection factory records every
 * connection constructed (the budget's truth), lets the test open it, feed
 * it frames or make it fail; signals sent are kept and parsed; the clock is a
 * variable. Ids are 16 characters, as the relay's are.
 */
export const pid = (n: number): string => `peer${String(n).padStart(12, '0')}`;

/** A connection that carries nothing: the test sees what is signalled to it and how it ends. */
export const inertConnection = (c: Pick<PeerConnection, 'signal' | 'destroy'> & Partial<PeerConnection>): PeerConnection => ({
  send: () => undefined,
  bufferedAmount: 0,
  drained: () => Promise.resolve(),
  fingerprints: () => null,
  ...c,
});

export interface FakeConn {
  initiator: boolean;
  handlers: LinkHandlers;
  conn: PeerConnection;
  /** Signals fed to this connection. */
  signals: string[];
  destroyed: string[];
  peer: string;
}

export function fakeMesh(self: string, opts: Partial<PeerManagerDeps> & { seed?: number } = {}) {
  let clock = 1_000;
  let battery: boolean | undefined = opts.onBattery?.();
  const conns: FakeConn[] = [];
  const sent: { to: string; env: Envelope }[] = [];
  const prunes: { peer: string; candidates: string[] }[] = [];
  const incompatible: string[] = [];
  /** What the manager told the engine, in order: `open p`, `frame p text`, `close p code`. */
  const told: string[] = [];
  const factory: PeerConnectionFactory = ({ initiator }, handlers) => {
    let closed = false;
    const fake: FakeConn = {
      initiator, handlers, signals: [], destroyed: [], peer: '',
      conn: inertConnection({
        signal: (data) => fake.signals.push(data),
        destroy: (code) => {
          fake.destroyed.push(code);
          if (closed) return;
          closed = true;
          handlers.onClose(code);
        },
      }),
    };
    conns.push(fake);
    handlers.onSignal(`sdp-${conns.length}`); // says which peer it is for
    fake.peer = sent.at(-1)!.to;
    return fake.conn;
  };
  const pm: PeerManager = createPeerManager(
    {
      ...opts,
      self, createConnection: factory, now: () => clock, random: mulberry32(opts.seed ?? 1), onBattery: () => battery,
      sendSignal: (to, data) => {
        const env = parseEnvelope(data);
        if (!env.ok) throw new Error(`the peer manager sent a malformed envelope: ${env.error}`);
        sent.push({ to, env: env.value });
      },
    },
    {
      onOpen: (peer) => told.push(`open ${peer}`),
      onFrame: (peer, bytes) => told.push(`frame ${peer} ${new TextDecoder().decode(bytes)}`),
      onClose: (peer, code) => told.push(`close ${peer} ${code}`),
      onPresence: () => undefined,
      sendPrune: (peer, candidates) => prunes.push({ peer, candidates }),
      incompatible: (peer) => incompatible.push(peer),
    },
  );
  const to = (peer: string) => conns.filter((c) => c.peer === peer);
  const live = () => conns.filter((c) => c.destroyed.length === 0);
  return {
    pm, conns, sent, prunes, incompatible, told, to, live,
    latest: (peer: string) => to(peer).at(-1)!,
    /** Live connections we dialled / answered, by purpose. */
    dialled: (purpose: Purpose = 'mesh') => live().filter((c) => c.initiator && pm.purpose(c.peer) === purpose).map((c) => c.peer),
    answered: (purpose: Purpose = 'mesh') => live().filter((c) => !c.initiator && pm.purpose(c.peer) === purpose).map((c) => c.peer),
    refusalsTo: (peer: string) => sent.filter((s) => s.to === peer && s.env.kind === 'refuse'),
    clock: () => clock,
    advance: (ms: number) => {
      clock += ms;
      pm.tick(clock);
    },
    setBattery: (b: boolean | undefined) => (battery = b),
  };
}

/** A signal from `purpose` link's dialling side (an offer, its candidates) or its answering side. */
export const rtc = (data: string, dial = true, purpose: Purpose = 'mesh'): string => encodeEnvelope({ kind: 'rtc', purpose, dial, data });
export const refusal = (candidates: string[]): string => encodeEnvelope({ kind: 'refuse', candidates });
