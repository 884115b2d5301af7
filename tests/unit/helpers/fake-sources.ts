import type { AvailabilitySources } from '../../../src/core/swarm/availability.ts';

/** The catalogue's whole-file announcers and the open links, as the engine gives them to an Availability: every peer linked until unlinked. */
export class FakeSources implements AvailabilitySources {
  readonly announced = new Map<string, Set<string>>();
  readonly unlinked = new Set<string>();
  announcers(fileId: string): ReadonlySet<string> {
    return this.announced.get(fileId) ?? new Set();
  }
  linked(peer: string): boolean {
    return !this.unlinked.has(peer);
  }
  announce(fileId: string, peer: string): void {
    this.announced.set(fileId, new Set([...this.announcers(fileId), peer]));
  }
}
