import type { Identity } from '../core/crypto/identity.ts';
import { randomDisplayName } from '../core/names.ts';
import { parseRoomFragment, SHARE_FRAGMENT } from '../core/room.ts';
import type { Store } from '../storage/store.ts';
import { loadOrCreateIdentity } from './identity-store.ts';
import type { JoinTimeline } from './join-timeline.ts';

/**
 * What a room page needs from this browser before its engine can start, none
 * of it tied to the room: the identity (made on a first visit), the ICE
 * config, the person's name and the "hide my address" choice. All of it is
 * read at once rather than one read after another, while the tab waits for
 * its hold on the room (see browser.ts). Reading the identity before that hold
 * is safe: two tabs making one at once both keep the one storage kept
 * (identity-store.ts).
 */
export interface IceConfig {
  iceServers: RTCIceServer[];
  iceTransportPolicy: RTCIceTransportPolicy;
}

export interface PageEdges {
  /** The store they were read from, which the engine goes on using (each opens its databases). */
  store: Store;
  identity: Identity;
  ice: IceConfig;
  name: string;
  hideAddress: boolean;
}

/** This browser's "hide my address" choice, kept across reloads and rooms. */
export const HIDE_ADDRESS_PREF = 'hide-address';

/** Whether this page opens a room (not the landing page, not the share target): its engine is coming. */
export const opensRoom = (hash: string): boolean => hash !== `#${SHARE_FRAGMENT}` && parseRoomFragment(hash) !== null;

export async function readPageEdges(store: Store, timeline: JoinTimeline): Promise<PageEdges> {
  const identity = loadOrCreateIdentity({ get: (k) => store.getValue(k), set: (k, v) => store.setValue(k, v) }).then((loaded) => {
    if (loaded.replacedBroken) console.warn(`meshdrop: the stored identity was unusable (${loaded.problem}); made a new one`);
    timeline.mark('identity');
    return loaded.identity;
  });
  const [id, ice, storedName, hideAddress] = await Promise.all([identity, loadIceConfig(), store.getPref('name'), store.getPref(HIDE_ADDRESS_PREF)]);
  return { store, identity: id, ice, name: storedName ?? newName(store), hideAddress: hideAddress === 'on' };
}

/** A first visit's random name, kept for the next; the room need not wait for the write. */
function newName(store: Store): string {
  const name = randomDisplayName(Math.random);
  store.setPref('name', name).catch((e: Error) => console.warn('meshdrop: could not keep your name for the next visit', e));
  return name;
}

/**
 * ICE servers and policy come from the server's /config.json (env ICE_SERVERS, ICE_POLICY);
 * none means LAN only. TURN credentials come later, minted for us in the relay's welcome.
 */
async function loadIceConfig(): Promise<IceConfig> {
  const none: IceConfig = { iceServers: [], iceTransportPolicy: 'all' };
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (!res.ok) return none;
    const body = (await res.json()) as { iceServers?: unknown; iceTransportPolicy?: unknown };
    return {
      iceServers: Array.isArray(body.iceServers) ? (body.iceServers as RTCIceServer[]) : [],
      iceTransportPolicy: body.iceTransportPolicy === 'relay' ? 'relay' : 'all',
    };
  } catch (e) {
    console.warn('meshdrop: no /config.json, using no ICE servers', e);
    return none;
  }
}
