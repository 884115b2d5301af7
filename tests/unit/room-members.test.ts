import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoomMembers } from '../../src/app/room-members.ts';

/** app/room-members.ts: the room's member set, made once per change of its sources (not per statement judged). */
test('the member set joins the relay\'s word, proven links and presence, less the blocked; it is made again only after a change', () => {
  const present = new Set(['r1', 'both']);
  const linked = ['l1', 'both'];
  const here = ['g1'];
  const blocked = new Set(['g1']);
  let builds = 0;
  const members = new RoomMembers({
    present: () => {
      builds++;
      return present;
    },
    linked: () => linked,
    here: () => here,
    blocked: (id) => blocked.has(id),
  });
  assert.deepEqual([...members.get()].sort(), ['both', 'l1', 'r1']);
  for (let i = 0; i < 1_000; i++) members.get(); // a catalogue sync's statements
  assert.equal(builds, 1);

  blocked.delete('g1');
  present.delete('r1');
  assert.equal(members.get().has('g1'), false, 'unchanged until a source says it changed');
  members.changed();
  assert.deepEqual([...members.get()].sort(), ['both', 'g1', 'l1']);
  assert.equal(builds, 2);
});
