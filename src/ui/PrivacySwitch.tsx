import type { AddressPrivacy } from '../app/address-privacy.ts';

/**
 * "Hide my address": offered where this server has a TURN relay. Changing it
 * remakes every link; peers already connected have seen the old candidates,
 * which the hint says plainly.
 */
export function PrivacySwitch({ privacy, setHidden }: { privacy: AddressPrivacy; setHidden(hidden: boolean): void }) {
  if (privacy === 'unavailable') return null;
  if (privacy === 'enforced') {
    return <p class="hint privacy">This server relays every connection, so nobody here sees your IP address.</p>;
  }
  const on = privacy !== 'off';
  return (
    <div class="privacy">
      <label class="check">
        <input type="checkbox" checked={on} onChange={(e) => setHidden((e.target as HTMLInputElement).checked)} />
        Hide my IP address from people here
      </label>
      <p class="hint">
        {privacy === 'on-without-turn'
          ? 'This server has no relay right now, so you cannot connect to anyone while this is on.'
          : on
            ? 'Everything goes through the server’s relay: people see its address, not yours. Transfers may be slower.'
            : 'Connect through the server’s relay only, so people see its address instead of yours. Transfers may be slower.'}
      </p>
    </div>
  );
}
