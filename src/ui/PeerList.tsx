import type { AppState } from '../app/state.ts';

/** Who is in the room. Display names are chosen by peers: rendered as text only. */
export function PeerList({ state }: { state: AppState }) {
  return (
    <section class="card peers" aria-labelledby="peers-title">
      <h2 id="peers-title">
        In this room <span class="count">{state.peers.length + 1}</span>
      </h2>
      <ul>
        <li class="peer self">
          <span class="dot open" aria-hidden="true" />
          <span class="peer-name">{state.self.name}</span> <span class="tag">you</span>
        </li>
        {state.peers.map((p) => (
          <li class="peer" key={p.id} data-peer-id={p.id}>
            <details>
              <summary>
                <span class={`dot ${p.link}`} aria-hidden="true" />
                <span class="peer-name">{p.name ?? 'Someone'}</span>
                {p.link !== 'open' && <span class="tag">connecting…</span>}
              </summary>
              {p.verificationCode ? (
                <p class="verify">
                  Verification code <strong class="code">{p.verificationCode}</strong>. Compare it with {p.name ?? 'them'} by
                  voice or in person: the same code on both screens means your connection is direct, with nobody in between.
                </p>
              ) : (
                <p class="verify">Not connected yet, so there is no verification code.</p>
              )}
            </details>
          </li>
        ))}
      </ul>
      {state.peers.length === 0 && <p class="hint">Nobody else yet. Send the room link to someone.</p>}
    </section>
  );
}
