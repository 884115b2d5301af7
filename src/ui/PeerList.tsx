import type { AppState, PeerView } from '../app/state.ts';
import { BlockButton, BlockedList } from './BlockControls.tsx';
import { PrivacySwitch } from './PrivacySwitch.tsx';
import { sameProps, skipUnchanged } from './skip-unchanged.ts';

export interface PeerIntents {
  setVerified(peer: string, verified: boolean): void;
  setBlocked(peer: string, blocked: boolean): void;
  setHideAddress(hidden: boolean): void;
}

/**
 * People we are not linked to shown one by one before the rest fold away: in a
 * big room most people are known only by their presence (a bounded mesh links
 * a few neighbours), and a list of 250 names would bury the room's files.
 */
export const UNLINKED_SHOWN = 5;

/**
 * Who is in the room: linked people first (state.ts orders them), then those
 * known by the relay's or their own word, the rest folded as "and N more
 * here". Display names are chosen by peers: rendered as text only.
 */
export const PeerList = skipUnchanged(PeerListView, sameProps);

type PeerListProps = Pick<AppState, 'self' | 'peers' | 'blocked' | 'privacy'> & { intents: PeerIntents };

function PeerListView({ self, peers, blocked, privacy, intents }: PeerListProps) {
  const unlinked = peers.filter((p) => p.link === 'none');
  const shown = [...peers.filter((p) => p.link !== 'none'), ...unlinked.slice(0, UNLINKED_SHOWN)];
  const folded = unlinked.slice(UNLINKED_SHOWN);
  return (
    <section class="card peers" aria-labelledby="peers-title">
      <h2 id="peers-title">
        In this room <span class="count">{peers.length + 1}</span>
      </h2>
      <ul>
        <li class="peer self">
          <span class="dot open" aria-hidden="true" />
          <span class="peer-name">{self.name}</span> <span class="tag">you</span>
        </li>
        {shown.map((p) => (
          <Peer key={p.id} peer={p} intents={intents} />
        ))}
      </ul>
      {folded.length > 0 && (
        <details class="more-peers">
          <summary>and {folded.length.toLocaleString('en')} more here</summary>
          <ul>
            {folded.map((p) => (
              <li key={p.id} class="peer unlinked" data-peer-id={p.id}>
                <span class="dot none" aria-hidden="true" />
                <PeerName peer={p} />
                <Status peer={p} />
              </li>
            ))}
          </ul>
        </details>
      )}
      {peers.length === 0 && <p class="hint">Nobody else yet. Send the room link to someone.</p>}
      <BlockedList blocked={blocked} unblock={(peer) => intents.setBlocked(peer, false)} />
      <PrivacySwitch privacy={privacy} setHidden={intents.setHideAddress} />
    </section>
  );
}

function Peer({ peer: p, intents }: { peer: PeerView; intents: PeerIntents }) {
  const who = p.name ?? 'them';
  return (
    <li class="peer" data-peer-id={p.id}>
      <details>
        <summary>
          <span class={`dot ${p.lost ? 'lost' : p.link}`} aria-hidden="true" />
          <PeerName peer={p} />
          <Status peer={p} />
          {p.verified && <span class="tag verified" title="You compared safety numbers">✓ verified</span>}
          <Route peer={p} />
        </summary>
        {p.safetyNumber ? (
          <div class="verify">
            <p>
              Safety number <strong class="code">{p.safetyNumber}</strong>
            </p>
            <p>
              Compare it with {who} by voice or in person. The same number on both screens means you are connected to {who}'s
              browser with nobody in between. It stays the same every time you meet.
            </p>
            <label class="check">
              <input type="checkbox" checked={p.verified} onChange={(e) => intents.setVerified(p.id, (e.target as HTMLInputElement).checked)} />
              I compared it: mark {who} as verified
            </label>
          </div>
        ) : (
          <p class="verify">Not connected yet, so there is no safety number.</p>
        )}
        <BlockButton peer={p.id} name={p.name ?? 'this person'} block={(peer) => intents.setBlocked(peer, true)} />
      </details>
    </li>
  );
}

/**
 * The name they give, and whether we met before: someone we knew under
 * another name reads "Bob, known as Robert here" (the name we knew first).
 * Both names are chosen by the peer: text only, cleaned by the engine.
 */
function PeerName({ peer: p }: { peer: PeerView }) {
  const name = p.name ?? 'Someone';
  if (p.knownAs !== null) {
    return (
      <span class="peer-name" title="The same identity you met before under another name">
        {p.knownAs}
        <span class="known-as">, known as {name} here</span>
      </span>
    );
  }
  return (
    <>
      <span class="peer-name">{name}</span>
      {p.known && <span class="tag known" title="You have met this identity before">met before</span>}
    </>
  );
}

const STATUS_TEXT = { active: 'active', idle: 'idle', away: 'away' } as const;
const STATUS_TITLE = {
  active: 'Their meshdrop page is open in front of them',
  idle: 'Their meshdrop page is in the background',
  away: 'Their meshdrop page has been in the background for a while',
} as const;

/** Active, idle or away, by their own word (nothing for a peer too old to say). */
function Status({ peer: p }: { peer: PeerView }) {
  if (p.status === null) return null;
  return (
    <span class={`tag presence ${p.status}`} title={STATUS_TITLE[p.status]}>
      {STATUS_TEXT[p.status]}
    </span>
  );
}

/** How the link runs: connecting, direct, through the TURN relay, lost and looking for a new path, or none of ours. */
function Route({ peer: p }: { peer: PeerView }) {
  if (p.link === 'none') return <span class="tag" title="In the room; your browser has no connection of its own to theirs">not linked</span>;
  if (p.link !== 'open') return <span class="tag">connecting…</span>;
  if (p.lost) {
    return (
      <span class="tag lost" title="The connection stopped answering (a network change?); looking for a new path">
        lost, reconnecting…
      </span>
    );
  }
  if (p.via === 'direct') return <span class="tag via" title="Connected straight to this peer">direct</span>;
  if (p.via === 'relay') {
    return (
      <span class="tag via" title="Connected through the TURN server, which passes on encrypted data it cannot read">
        via TURN relay
      </span>
    );
  }
  return null;
}
