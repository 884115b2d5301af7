import { err, ok, type Result } from '../core/result.ts';

/**
 * What peer managers say to each other through the (sealed) signalling path.
 * Once a bounded room lets either side dial, the transport's own messages are
 * not enough: each says which side of its connection wrote it (`dial`, so an
 * offer is told apart from an answer whatever the transport's format, and two
 * offers crossing are noticed), what the link is for, and a refused offer is
 * answered out loud, with other members to try instead.
 *
 *   { kind: 'rtc', purpose: 'mesh' | 'transfer', dial: boolean, data: string, needy?: true, attempt?: id, yielded?: id,
 *     wins?: true }
 *                                   data: the transport's own signal; needy: the dialler is below its
 *                                   D_LOW, so a full peer may still take it (see BoundedMesh.accept);
 *                                   attempt: the dialler's id for this connection attempt; yielded: on
 *                                   the side that gave way to a crossing offer, the attempt it dropped
 *                                   (its offer may still arrive, late: it is stale, not a fresh start)
 *                                   wins: this attempt wins a crossing: its dialler refused our offers
 *                                   until now (it had blocked us), so one of ours may wait for nothing
 *   { kind: 'refuse', candidates: [peerId, ...] }                                 at most MAX_REFUSE_CANDIDATES
 *   { kind: 'idle' }   the answering side of a transfer link closes it, nothing asked for lately
 *                      (TRANSFER_IDLE_MS): the dialler ends it first, and counts no failure
 *
 * parseEnvelope never throws: the relay or a peer may send anything.
 */
export type Purpose = 'mesh' | 'transfer';

export type Envelope =
  | { kind: 'rtc'; purpose: Purpose; dial: boolean; data: string; needy?: true; attempt?: string; yielded?: string; wins?: true }
  | { kind: 'refuse'; candidates: string[] }
  | { kind: 'idle' };

/** As many as a PRUNE carries (MAX_PRUNE_CANDIDATES): peer exchange, not a membership list. */
export const MAX_REFUSE_CANDIDATES = 16;
/** simple-peer's largest signal is an SDP offer of a few KiB; anything far beyond is not one. */
export const MAX_ENVELOPE_CHARS = 64 * 1024;
const PEER_ID_RE = /^[A-Za-z0-9_-]{16}$/;
const ATTEMPT_RE = /^[a-z0-9]{1,16}$/;
const optionalAttempt = (v: unknown) => v === undefined || (typeof v === 'string' && ATTEMPT_RE.test(v));

export const encodeEnvelope = (e: Envelope): string => JSON.stringify(e);

export function parseEnvelope(text: string): Result<Envelope> {
  if (text.length > MAX_ENVELOPE_CHARS) return err('ERR_SIGNAL', `signal of ${text.length} characters is too large`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return err('ERR_SIGNAL', 'signal is not JSON');
  }
  const m = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (m.kind === 'rtc') {
    if (m.purpose !== 'mesh' && m.purpose !== 'transfer') return err('ERR_SIGNAL', 'signal: unknown purpose');
    if (typeof m.dial !== 'boolean' || typeof m.data !== 'string') return err('ERR_SIGNAL', 'signal: bad dial or data');
    if ((m.needy !== undefined && m.needy !== true) || (m.wins !== undefined && m.wins !== true)) return err('ERR_SIGNAL', 'signal: bad flag');
    if (!optionalAttempt(m.attempt) || !optionalAttempt(m.yielded)) return err('ERR_SIGNAL', 'signal: bad attempt id');
    return ok({
      kind: 'rtc', purpose: m.purpose, dial: m.dial, data: m.data, ...(m.needy ? { needy: true as const } : {}), ...(m.wins ? { wins: true as const } : {}),
      ...(m.attempt === undefined ? {} : { attempt: m.attempt as string }), ...(m.yielded === undefined ? {} : { yielded: m.yielded as string }),
    });
  }
  if (m.kind === 'refuse') {
    const c = m.candidates;
    if (!Array.isArray(c) || c.length > MAX_REFUSE_CANDIDATES || !c.every((p) => typeof p === 'string' && PEER_ID_RE.test(p))) {
      return err('ERR_SIGNAL', `refusal: candidates must be at most ${MAX_REFUSE_CANDIDATES} peer ids`);
    }
    return ok({ kind: 'refuse', candidates: c as string[] });
  }
  if (m.kind === 'idle') return ok({ kind: 'idle' });
  // Before envelopes (wire version 2) the transport's own signal went bare: an SDP or an ICE candidate.
  if (m.kind === undefined && ('sdp' in m || 'candidate' in m)) return err('ERR_VERSION', 'the peer runs an older meshdrop (signals without an envelope)');
  return err('ERR_SIGNAL', 'signal: unknown kind');
}
