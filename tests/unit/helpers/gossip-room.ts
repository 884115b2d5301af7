import { RoomGossip, type RoomGossipDeps } from '../../../src/app/room-gossip.ts';
import { RoomQueries } from '../../../src/app/room-query.ts';
import type { Announcement } from '../../../src/core/gossip/announcement.ts';
import { sha256 } from '../../../src/core/hash.ts';
import { decodeFrame, encodeFrame } from '../../../src/core/wire/frames.ts';
import { fakeVerify, idOf, type TestKey } from './gossip-keys.ts';

/**
 * RoomGossip instances wired by in-memory links. Every message is encoded
 * with the real frame codec (which throws on a frame over 32 KiB) and decoded
 * at the far end, then delivered in FIFO order by run().
 */
export interface GossipNode {
  id: string;
  key: TestKey;
  gossip: RoomGossip;
  /** Room queries over the same links (app/room-query.ts), answering from this node's catalogue. */
  queries: RoomQueries;
  links: Set<string>;
  bans: { peer: string; code: string; detail: string }[];
  /** Frames this node sent, with their encoded sizes and bodies. */
  sent: { to: string; type: FrameType; bytes: number; json: unknown }[];
  verifications: number;
}

type FrameType = 'gossip' | 'catalogue' | 'audience' | 'ihave' | 'iwant' | 'query' | 'query-hit';

interface InFlight {
  from: string;
  to: string;
  frame: Uint8Array;
}

export class GossipRoom {
  readonly nodes = new Map<string, GossipNode>();
  /** Room members as the relay would list them (all nodes, unless told otherwise). */
  readonly present = new Set<string>();
  clock = 0;
  private queue: InFlight[] = [];

  /** Which of a node's statements its queries may answer with (all, unless told otherwise). */
  answerable: (node: GossipNode, a: Announcement) => boolean = () => true;

  constructor(private readonly options: { verify?: RoomGossipDeps['verify']; limits?: RoomGossipDeps['limits'] } = {}) {}

  add(key: TestKey): GossipNode {
    const verify = this.options.verify ?? fakeVerify;
    const node: GossipNode = { id: key.id, key, links: new Set(), bans: [], sent: [], verifications: 0, gossip: undefined!, queries: undefined! };
    const send = (peer: string, m: { type: FrameType; json: unknown }) => {
      const frame = encodeFrame(m);
      node.sent.push({ to: peer, type: m.type, bytes: frame.length, json: m.json });
      this.queue.push({ from: node.id, to: peer, frame });
    };
    const members = () => new Set([...this.present, ...node.links]);
    node.gossip = new RoomGossip({
      self: key,
      verify: (k, d, s) => {
        node.verifications++;
        return verify(k, d, s);
      },
      idOf,
      sha256,
      neighbours: () => [...node.links],
      linked: () => [...node.links],
      members,
      send,
      now: () => this.clock,
      wallClock: () => 1_700_000_000_000 + this.clock,
      changed: () => undefined,
      ban: (peer, code, detail) => node.bans.push({ peer, code, detail }),
      limits: this.options.limits,
    });
    node.queries = new RoomQueries({
      self: key.id, name: () => `Person ${key.id.slice(0, 4)}`, neighbours: () => [...node.links], members,
      statements: () => node.gossip.catalogue.announcements(), answerable: (a) => this.answerable(node, a),
      send, merge: (from, hits) => node.gossip.receiveHits(from, hits),
      ban: (peer, code, detail) => node.bans.push({ peer, code, detail }),
      now: () => this.clock, randomBytes: (n) => this.uniqueBytes(n),
    });
    this.nodes.set(node.id, node);
    this.present.add(node.id);
    return node;
  }

  /** Distinct "random" bytes (query ids), so runs repeat exactly. */
  private uniqueBytes(n: number): Uint8Array {
    const bytes = new Uint8Array(n);
    new DataView(bytes.buffer).setUint32(0, ++this.drawn);
    return bytes;
  }

  private drawn = 0;

  link(a: GossipNode, b: GossipNode): void {
    a.links.add(b.id);
    b.links.add(a.id);
  }

  fullMesh(nodes: GossipNode[]): void {
    for (const a of nodes) for (const b of nodes) if (a !== b) this.link(a, b);
  }

  /** A raw frame from `from` to `to`, as a hostile peer would send it. */
  inject(from: string, to: GossipNode, type: FrameType, json: unknown): void {
    this.queue.push({ from, to: to.id, frame: encodeFrame({ type, json }) });
  }

  async run(): Promise<void> {
    while (this.queue.length > 0) {
      const { from, to, frame } = this.queue.shift()!;
      const node = this.nodes.get(to)!;
      const decoded = decodeFrame(frame);
      if (!decoded.ok) throw new Error(`undecodable frame: ${decoded.error}`);
      const m = decoded.value;
      if (m.type === 'gossip') await node.gossip.receive(from, m.json, true);
      else if (m.type === 'catalogue') await node.gossip.receiveCatalogue(from, m.json);
      else if (m.type === 'audience') await node.gossip.receiveAudience(from, m.json);
      else if (m.type === 'ihave') node.gossip.receiveIhave(from, m.json);
      else if (m.type === 'iwant') node.gossip.receiveIwant(from, m.json);
      else if (m.type === 'query' || m.type === 'query-hit') await node.queries.receive(from, m.type, m.json);
    }
  }

  allBans(): string[] {
    return [...this.nodes.values()].flatMap((n) => n.bans.map((b) => `${n.id} banned ${b.peer}: ${b.code} ${b.detail}`));
  }
}
