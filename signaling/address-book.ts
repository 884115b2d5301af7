/**
 * Per-address accounting: sockets open from each address, and the identities each
 * address joined with recently. Keeps one cheap client (or a botnet of one) from
 * holding the whole socket budget or minting ids by the thousand.
 *
 * Addresses are grouped as a client controls them: an IPv4 address, an IPv6 /64
 * (one household or phone gets a whole /64, so single IPv6 addresses are free to
 * mint), with IPv4-mapped IPv6 read as IPv4. Nothing here is logged.
 */
import { isIPv6 } from 'node:net';

export function addressKey(remote: string | undefined): string {
  if (!remote) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (mapped) return mapped[1]!;
  if (!isIPv6(remote)) return remote;
  return `${expandIPv6(remote).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...zeros, ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}

export interface AddressBook {
  /** Counts a socket in; false (and nothing counted) when the address is at its cap. */
  connect(address: string): boolean;
  disconnect(address: string): void;
  /** May `address` join as `id`? Seen ids are free; new ones count against the window's cap. */
  admitIdentity(address: string, id: string): boolean;
  /** Forgets identity windows that have expired (called periodically). */
  sweep(): void;
}

export function createAddressBook(
  limits: { maxConnectionsPerAddress: number; maxIdentitiesPerAddress: number; identityWindowMs: number },
  now: () => number,
): AddressBook {
  const sockets = new Map<string, number>();
  /** address -> identity -> last join from that address (ms). */
  const identities = new Map<string, Map<string, number>>();

  const expire = (address: string, seen: Map<string, number>, t: number): void => {
    for (const [id, at] of seen) if (t - at >= limits.identityWindowMs) seen.delete(id);
    if (seen.size === 0) identities.delete(address);
  };

  return {
    connect(address) {
      const open = sockets.get(address) ?? 0;
      if (open >= limits.maxConnectionsPerAddress) return false;
      sockets.set(address, open + 1);
      return true;
    },
    disconnect(address) {
      const open = (sockets.get(address) ?? 0) - 1;
      if (open > 0) sockets.set(address, open);
      else sockets.delete(address);
    },
    admitIdentity(address, id) {
      const t = now();
      const seen = identities.get(address) ?? new Map<string, number>();
      expire(address, seen, t);
      if (!seen.has(id) && seen.size >= limits.maxIdentitiesPerAddress) return false;
      seen.set(id, t);
      identities.set(address, seen);
      return true;
    },
    sweep() {
      const t = now();
      for (const [address, seen] of identities) expire(address, seen, t);
    },
  };
}
