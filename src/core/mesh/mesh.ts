/**
 * Mesh membership decisions, in one pure place: whom to connect to, who
 * initiates, whom to accept and whom to drop. The mesh is full: every peer
 * links to up to MAX_DEGREE others, which keeps a room of MAX_DEGREE + 1 one
 * mesh. The relay admits up to MAX_PEERS_PER_ROOM (256, signaling/protocol.ts):
 * rooms beyond 32 need the bounded-degree mesh (gossipsub's D / D_low / D_high,
 * bounded.ts), which replaces planMesh without touching the transport or the app.
 */
export const MAX_DEGREE = 31;

export type LinkState = 'connecting' | 'open';

export interface MeshView {
  self: string;
  /** Peers the relay says are in the room. */
  present: ReadonlySet<string>;
  links: ReadonlyMap<string, LinkState>;
  /** Peers we refuse for this session (bad frames, bad pieces). */
  banned: ReadonlySet<string>;
  /**
   * Peers we hold a connection to that is not a mesh link (a transfer link, a
   * link being pruned): no part of the degree, and no candidate either.
   */
  others?: ReadonlySet<string>;
}

/**
 * Exactly one side of each pair initiates, so two offers never cross (glare).
 * Ids are random, so the lower id is a fair coin.
 */
export const isInitiator = (self: string, other: string): boolean => self < other;

export type MeshAction = { kind: 'connect'; peer: string } | { kind: 'drop'; peer: string; reason: 'left' | 'banned' };

export function planMesh(view: MeshView, maxDegree = MAX_DEGREE): MeshAction[] {
  const actions: MeshAction[] = [];
  for (const peer of view.links.keys()) {
    if (view.banned.has(peer)) actions.push({ kind: 'drop', peer, reason: 'banned' });
  }
  let degree = view.links.size;
  const candidates = [...view.present].filter((p) => p !== view.self && !view.links.has(p) && !view.banned.has(p)).sort();
  for (const peer of candidates) {
    if (degree >= maxDegree) break;
    if (!isInitiator(view.self, peer)) continue; // the other side will offer
    actions.push({ kind: 'connect', peer });
    degree++;
  }
  return actions;
}

/** Whether to answer an offer from `peer`: it must be in the room, not banned, and we must have room. */
export function shouldAccept(view: MeshView, peer: string, maxDegree = MAX_DEGREE): boolean {
  return peer !== view.self && view.present.has(peer) && !view.banned.has(peer) && !view.links.has(peer) && view.links.size < maxDegree;
}

/**
 * A peer the relay says left: an attempt to connect to it stops. An open link
 * is never closed on the relay's word (presence is not proof, and a relay
 * could otherwise cut any link): it ends by itself when the peer is gone.
 */
export const shouldDropOnLeave = (view: MeshView, peer: string): boolean => view.links.get(peer) === 'connecting';
