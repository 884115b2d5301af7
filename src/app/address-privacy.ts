/**
 * "Hide my address": a person may ask that their links use TURN-relayed
 * candidates only, so peers see the TURN server's address, never theirs.
 * The operator can require it for everyone (ICE_POLICY=relay). The rules are
 * here, pure; browser.ts keeps the choice and hands the policy to each new link.
 */
export interface PrivacyFacts {
  /** The operator made every link relay-only (ICE_POLICY=relay). */
  enforced: boolean;
  /** A TURN server is configured (minted credentials from the relay, or static ICE_SERVERS). */
  turnKnown: boolean;
  /** This person's choice, remembered per browser. */
  hidden: boolean;
}

/**
 * What the person sees: 'unavailable' (no TURN here: the switch is not offered),
 * 'off', 'on', 'on-without-turn' (they chose to hide, but this server has no TURN:
 * they connect to nobody until TURN comes back or they turn it off), 'enforced'.
 */
export type AddressPrivacy = 'unavailable' | 'off' | 'on' | 'on-without-turn' | 'enforced';

export function addressPrivacy(f: PrivacyFacts): AddressPrivacy {
  if (f.enforced) return 'enforced';
  if (f.hidden) return f.turnKnown ? 'on' : 'on-without-turn';
  return f.turnKnown ? 'off' : 'unavailable';
}

/** Asked to hide means relay-only, even with no TURN to relay through: never leak the address instead. */
export const icePolicy = (f: PrivacyFacts): RTCIceTransportPolicy => (f.enforced || f.hidden ? 'relay' : 'all');

/** Whether an ICE server entry names a TURN server (the only kind that can relay). */
export function isTurnServer(server: { urls: string | string[] }): boolean {
  const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
  return urls.some((u) => /^turns?:/i.test(u));
}

/** The engine's view of the choice: browser.ts owns it; absent in Node tests (no such choice). */
export interface PrivacyControl {
  view(): AddressPrivacy;
  /** Remembers the choice; links made afterwards follow it. */
  setHidden(hidden: boolean): Promise<void>;
}
