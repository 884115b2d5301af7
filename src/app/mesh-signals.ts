import { fromBase64Url, toBase64Url, toHex, utf8 } from '../core/bytes.ts';
import { SignalRouter, signedText, type MeshSignal, type RouteDecision, type RouterStats } from '../core/mesh/signal-route.ts';
import type { WireMessage } from '../core/wire/frames.ts';
import type { MeshPort } from '../net/mesh-transport.ts';
import type { Signer, Verify } from './hello.ts';

export interface MeshSignalsDeps {
  self: Signer;
  /** The room's topic: a signature for one room does not pass in another. */
  topic: string;
  verify: Verify;
  idOf(publicKey: Uint8Array): string;
  /** Peers whose link is ready (HELLO checked): the ones we forward through. */
  neighbours(): string[];
  send(peer: string, m: WireMessage): void;
  now(): number;
  randomBytes(n: number): Uint8Array;
  ban(peer: string, code: string, detail: string): void;
  /** Our identity could not sign, or a check broke: the person is told. */
  failed(message: string): void;
}

export interface MeshSignalStats extends RouterStats {
  /** Frames for us whose signature did not hold: forged by someone on the way, whom we cannot tell. */
  forged: number;
}

/**
 * The engine's side of signalling through the mesh (see core/mesh/signal-route.ts
 * for the routing and the trust model): signs our sealed wires with our
 * identity, sends what the router decides to the links it names, and checks the
 * sender's signature on what reaches us before the sealed layer sees it.
 * Signing and checking are asynchronous; one chain each way keeps an offer
 * ahead of its ICE candidates.
 */
export class MeshSignals implements MeshPort {
  private readonly router: SignalRouter;
  private receiver: ((from: string, wire: string) => void) | null = null;
  private outbound: Promise<void> = Promise.resolve();
  private inbound: Promise<void> = Promise.resolve();
  private forged = 0;

  constructor(private readonly d: MeshSignalsDeps) {
    this.router = new SignalRouter(d.self.id);
  }

  onWire(fn: (from: string, wire: string) => void): void {
    this.receiver = fn;
  }

  send(to: string, wire: string): void {
    this.outbound = this.outbound.then(async () => {
      const m = { id: toHex(this.d.randomBytes(8)), src: this.d.self.id, dst: to, data: wire };
      const sig = await this.d.self.sign(utf8(signedText(this.d.topic, m)));
      const signed = { ...m, key: toBase64Url(this.d.self.publicKey), sig: toBase64Url(sig) };
      this.apply(this.router.send(signed, this.d.neighbours(), this.d.now()));
    }).catch((e: Error) => this.d.failed(`A connection message could not be signed for the mesh: ${e.message}`));
  }

  /** A MESH_SIGNAL frame from neighbour `from`. */
  receive(from: string, json: unknown): void {
    const got = this.router.receive(from, json, this.d.neighbours(), this.d.now());
    if (!got.ok) return this.d.ban(from, got.code, got.error);
    this.apply(got.value);
  }

  neighbourGone(peer: string): void {
    this.router.neighbourGone(peer);
  }

  stats(): MeshSignalStats {
    return { ...this.router.stats(), forged: this.forged };
  }

  private apply(decision: RouteDecision): void {
    if (decision.kind === 'forward') {
      for (const peer of decision.to) this.d.send(peer, { type: 'mesh-signal', json: decision.signal });
    } else if (decision.kind === 'deliver') {
      const m = decision.signal;
      this.inbound = this.inbound.then(async () => {
        if (await this.signedBySource(m)) this.receiver?.(m.src, m.data);
        else this.forged++;
      }).catch((e: Error) => this.d.failed(`A connection message from the mesh could not be checked: ${e.message}`));
    }
  }

  private async signedBySource(m: MeshSignal): Promise<boolean> {
    const key = fromBase64Url(m.key);
    const sig = fromBase64Url(m.sig);
    if (!key || !sig || this.d.idOf(key) !== m.src) return false;
    return this.d.verify(key, utf8(signedText(this.d.topic, m)), sig);
  }
}
