import { utf8 } from '../bytes.ts';
import type { Sha256 } from '../hash.ts';

/**
 * A short code both ends of a connection compute from the two DTLS
 * certificate fingerprints in their SDP. If someone sat in the middle, each
 * side would see a different certificate and the codes would differ: people
 * who want certainty compare it by voice or in person.
 */
export async function verificationCode(fingerprintA: string, fingerprintB: string, sha256: Sha256): Promise<string> {
  const [first, second] = [normalise(fingerprintA), normalise(fingerprintB)].sort();
  const digest = await sha256(utf8(`meshdrop/v1/verify\n${first}\n${second}`));
  const n = ((digest[0]! << 16) | (digest[1]! << 8) | digest[2]!) % 1_000_000;
  const digits = n.toString().padStart(6, '0');
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}

const normalise = (fp: string) => fp.trim().toLowerCase();

/** The `a=fingerprint:` value of an SDP (algorithm and hex), or null. */
export function sdpFingerprint(sdp: string | undefined): string | null {
  const m = /^a=fingerprint:(\S+ [0-9A-Fa-f:]+)\s*$/m.exec(sdp ?? '');
  return m ? m[1]! : null;
}
