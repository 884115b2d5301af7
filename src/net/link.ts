/**
 * What the app needs from a connection to one peer, whatever carries it
 * (a WebRTC data channel in the browser, an in-memory pipe in Node tests).
 */
export interface DataLink {
  /**
   * Queue a frame. Never throws: a failed send destroys the link with ERR_SEND.
   * The link takes a copy (as RTCDataChannel.send does): the caller may reuse `frame` once this returns.
   */
  send(frame: Uint8Array): void;
  /** Bytes queued but not yet sent. */
  readonly bufferedAmount: number;
  /** Resolves once bufferedAmount has fallen to the low-water mark (or the link closed). */
  drained(): Promise<void>;
  /** The one way a link ends; handlers see onClose(code) exactly once. */
  destroy(code: string, detail?: string): void;
}

export interface LinkHandlers {
  onSignal(data: string): void;
  onOpen(): void;
  onFrame(bytes: Uint8Array): void;
  onClose(code: string, detail?: string): void;
  /**
   * The open link's path stopped answering (ICE 'disconnected', e.g. a phone leaving
   * Wi-Fi) or answers again. The data channel stays open meanwhile: nothing is lost yet.
   */
  onHealth?(lost: boolean): void;
}

export interface PeerConnection extends DataLink {
  /** Feed a signalling message from the other side. */
  signal(data: string): void;
  /** The two DTLS certificate fingerprints once connected (for the verification code), else null. */
  fingerprints(): { local: string; remote: string } | null;
  /**
   * How the link's selected candidate pair runs: 'relay' when either side is a TURN relay
   * candidate, 'direct' otherwise, null when not known (yet). Absent on in-memory links.
   */
  route?(): Promise<LinkRoute | null>;
  /**
   * Looks for a new path without closing the link (an ICE restart: new candidates,
   * the same DTLS session and data channel), e.g. after a network change.
   */
  restartIce?(): void;
  /** The selected path's current round trip in ms (getStats), null when not known. Absent on in-memory links. */
  roundTrip?(): Promise<number | null>;
}

export type LinkRoute = 'direct' | 'relay';

export type PeerConnectionFactory = (opts: { initiator: boolean }, handlers: LinkHandlers) => PeerConnection;

/** Chrome kills a channel with more than 16 MiB queued; ~1 MiB keeps the pipe full. */
export const HIGH_WATER = 1024 * 1024;
export const LOW_WATER = 256 * 1024;

/** Resolves once the link can take more data. Used only for bulk data; small control frames go straight out. */
export async function roomToSend(link: DataLink): Promise<void> {
  while (link.bufferedAmount > HIGH_WATER) await link.drained();
}
