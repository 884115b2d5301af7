/** Friendly default display names ("Amber Otter"), so a room is readable before anyone types a name. */
const ADJECTIVES = [
  'Amber', 'Brave', 'Calm', 'Clever', 'Coral', 'Crimson', 'Dusky', 'Eager', 'Gentle', 'Golden', 'Hazel', 'Indigo',
  'Jolly', 'Lively', 'Lucky', 'Mellow', 'Misty', 'Nimble', 'Olive', 'Quiet', 'Rapid', 'Rosy', 'Rusty', 'Silver',
  'Sunny', 'Swift', 'Tidy', 'Velvet', 'Witty', 'Zesty',
];
const ANIMALS = [
  'Otter', 'Badger', 'Beaver', 'Crane', 'Dolphin', 'Falcon', 'Ferret', 'Finch', 'Fox', 'Gecko', 'Heron', 'Ibis',
  'Koala', 'Lemur', 'Lynx', 'Marten', 'Moose', 'Newt', 'Owl', 'Panda', 'Puffin', 'Quail', 'Raven', 'Seal',
  'Stoat', 'Swan', 'Tapir', 'Walrus', 'Wombat', 'Yak',
];

export const MAX_DISPLAY_NAME = 40;

export function randomDisplayName(random: () => number): string {
  const pick = (list: string[]) => list[Math.floor(random() * list.length)]!;
  return `${pick(ADJECTIVES)} ${pick(ANIMALS)}`;
}

/** Trims and bounds a display name; control characters are removed. Empty means "keep the old one". */
export function cleanDisplayName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  return Array.from(clean).slice(0, MAX_DISPLAY_NAME).join('').trim(); // by code point: never half an emoji
}
