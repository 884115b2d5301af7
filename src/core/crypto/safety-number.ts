import { concatBytes, utf8 } from '../bytes.ts';

/**
 * A number two people can compare (aloud, or side by side) to know they see each
 * other's real identity keys: the same on both screens, whichever side computes
 * it, and the same every session for the same two browsers. Unlike the DTLS
 * verification code it survives reloads, because identities persist.
 *
 * 4 groups of 5 digits, each group from 40 bits of the digest reduced mod 10^5:
 * about 66 bits in all, and a bias of at most 10^5 / 2^40 per group (negligible).
 */
const CONTEXT = utf8('meshdrop/v1/safety-number');
const GROUPS = 4;
const GROUP_DIGITS = 5;
const BYTES_PER_GROUP = 5;

export async function safetyNumber(
  a: Uint8Array,
  b: Uint8Array,
  sha256: (d: Uint8Array) => Promise<Uint8Array>,
): Promise<string> {
  const [first, second] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  // Length prefixes: no two different key pairs can hash the same bytes.
  const digest = await sha256(concatBytes([CONTEXT, lengthOf(first), first, lengthOf(second), second]));
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let n = 0;
    for (const byte of digest.subarray(g * BYTES_PER_GROUP, (g + 1) * BYTES_PER_GROUP)) n = n * 256 + byte;
    groups.push((n % 10 ** GROUP_DIGITS).toString().padStart(GROUP_DIGITS, '0'));
  }
  return groups.join(' ');
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

function lengthOf(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  return new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}
