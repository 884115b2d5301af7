import { sample } from './bounded.ts';

/**
 * Transfer links: a downloader in a bounded room links, for the length of a
 * download, to whole-file holders it is not linked to (the mesh gives it only
 * a handful of neighbours, who may hold nothing it wants). They are not mesh
 * links: no part of the degree, never pruned as excess, closed by the
 * downloader once nothing it wants is held there and by the holder when idle.
 * Pure: the caller says who is wanted and linked, and acts on the plan.
 */

/** Transfer links one peer dials at most: with its mesh neighbours, enough sources to fetch from several at once. */
export const MAX_TRANSFER_LINKS = 4;
/** Transfer links a holder accepts at most: its upload is shared by all of them, more only split it thinner. */
export const MAX_SERVED_TRANSFERS = 4;
/** A holder closes a transfer link that asked for nothing this long: the slot serves someone else. */
export const TRANSFER_IDLE_MS = 30_000;

/** Chosen people (core/mesh/reach.ts) being dialled at once, at most: the rest wait their turn, download sources keep slots. */
export const MAX_REACH_DIALS = 2;

export interface TransferView {
  /** Whole-file holders of what we are downloading. */
  wanted: ReadonlySet<string>;
  /** Chosen people to reach (core/mesh/reach.ts): dialled before download sources, MAX_REACH_DIALS at a time. */
  reach?: ReadonlySet<string>;
  /** Chosen people already told: a link we dialled to them stays (they may download over it), none is dialled. */
  keep?: ReadonlySet<string>;
  /** Transfer links we dialled. */
  dialled: ReadonlySet<string>;
  /** Whether we hold any connection to the peer (mesh, transfer, attempt). */
  linked(peer: string): boolean;
  /** Whether the peer may be dialled now (not banned, not backing off). */
  usable(peer: string): boolean;
}

export interface TransferPlan {
  open: string[];
  close: string[];
}

export function planTransfers(view: TransferView, random: () => number, max = MAX_TRANSFER_LINKS): TransferPlan {
  const reach = view.reach ?? new Set<string>();
  const keep = view.keep ?? new Set<string>();
  const close = [...view.dialled].filter((p) => !view.wanted.has(p) && !reach.has(p) && !keep.has(p));
  let room = max - (view.dialled.size - close.length);
  const reaching = [...view.dialled].filter((p) => reach.has(p)).length;
  const dialable = (p: string) => !view.linked(p) && view.usable(p);
  const reached = sample([...reach].filter(dialable), Math.min(room, MAX_REACH_DIALS - reaching), random);
  room -= reached.length;
  const eligible = [...view.wanted].filter((p) => dialable(p) && !reached.includes(p));
  return { open: [...reached, ...sample(eligible, room, random)], close };
}
