/**
 * Issue 10, items 3 and 11: `.close` and `.end` are idempotent (SPEC 3). What
 * is already ended, closing or closed gets a note, never a failed line; a
 * server emits `stop` once, when it stops accepting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, is } from '../helpers/loopback.js';
import { commandRig } from '../helpers/commands.js';
import pc from 'picocolors';
import { formatEvent } from '../../src/render/human.js';

afterEach(closeAll);

const notes = (rig: ReturnType<typeof commandRig>, id: string): string[] => rig.log.of('note', id).map((n) => n.message);

describe('.close and .end on a socket, in every state', () => {
  it('.close peer after the peer\'s FIN without --half-open (Node already ended our side): a note', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.ok('.wait s1 accept as peer');
    await rig.ok('.end c1');
    await rig.ok('.wait peer end');
    await rig.ok('.close peer');
    await rig.log.waitFor((ev) => ev.type === 'note' && ev.id === 'c2');
    // "sent" once its → FIN line is out, "on its way" before (review 7).
    expect(notes(rig, 'c2')[0]).toMatch(
      /^(already sent FIN|our FIN is already on its way) \(Node ended our side when the peer's FIN came; --half-open keeps it open\): nothing to do; \.destroy c2 aborts it$/,
    );
    await rig.ok('.end peer');
    await rig.ok('.wait c1 close');
    await rig.ok('.wait peer close');
    await rig.ok('.close peer');
    await rig.ok('.end peer');
    await rig.ok('.close peer --force');
    await rig.log.waitFor(() => notes(rig, 'c2').length === 5);
    expect(notes(rig, 'c2').slice(2)).toEqual(['already closed: nothing to close', 'already closed: nothing to end', 'already closed: nothing to close']);
    expect(rig.log.of('command-error')).toEqual([]);
  });

  it('.end twice, and .close after .end: notes', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --half-open');
    await rig.ok('.connect s1 --half-open');
    await rig.ok('.wait s1 accept');
    await rig.ok('.end c1');
    await rig.ok('.end c1');
    await rig.ok('.close c1');
    await rig.log.waitFor(() => notes(rig, 'c1').length === 2);
    for (const n of notes(rig, 'c1')) expect(n).toMatch(/^(already sent FIN|our FIN is already on its way): nothing to do; \.destroy c1 aborts it$/);
  });

  it('.close on a destroyed socket: a note', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.ok('.destroy c1');
    await rig.ok('.close c1');
    await rig.ok('.end c1');
    await rig.log.waitFor(() => notes(rig, 'c1').length === 2);
    expect(notes(rig, 'c1')).toEqual([
      expect.stringMatching(/^already destroyed( \(its close line follows\))?: nothing to close$/),
      expect.stringMatching(/^already destroyed( \(its close line follows\))?: nothing to end$/),
    ]);
  });
});

describe('.close on a server: one stop, then notes', () => {
  it('.close srv, .close srv, .close srv --force: one stop line; the force destroys the connection', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 as srv');
    await rig.ok('.connect srv');
    await rig.ok('.wait srv accept');
    await rig.ok('.close srv');
    await rig.ok('.close srv');
    await rig.ok('.close srv --force');
    await rig.ok('.wait srv close');
    await rig.ok('.close srv');
    await rig.ok('.close srv --force');
    await rig.log.waitFor(() => notes(rig, 's1').length === 3);
    expect(rig.log.of('stop', 's1')).toEqual([expect.objectContaining({ open: 1 })]);
    expect(notes(rig, 's1')).toEqual([
      'already stopped accepting; 1 connection still open (.close s1 --force destroys them)',
      'already closed: nothing to do',
      'already closed: nothing to do',
    ]);
    expect(rig.log.of('close', 'c2')).toEqual([expect.objectContaining({ aborted: true })]);
    expect(rig.log.of('command-error')).toEqual([]);
  });

  it('.close srv --force on a listening server: exactly one stop line', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 as srv');
    await rig.ok('.connect srv');
    await rig.ok('.wait srv accept');
    await rig.ok('.close srv --force');
    await rig.ok('.wait srv close');
    await rig.log.waitFor(is('close', 'c1'));
    expect(rig.log.of('stop', 's1')).toHaveLength(1);
  });
});

describe('review 7 and 13: a note never claims what has not happened yet', () => {
  it('.end twice in one turn: the second note says the FIN is on its way, and no note claims it sent before the → FIN line', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    await rig.ok('.wait s1 accept');
    await Promise.all([rig.ok('.end c1'), rig.ok('.end c1')]);
    await rig.log.waitFor(is('shutdown', 'c1'));
    await rig.log.waitFor(() => notes(rig, 'c1').length === 1);
    const order = rig.log.events.filter((e) => 'id' in e && e.id === 'c1' && (e.type === 'note' || e.type === 'shutdown'));
    const finAt = order.findIndex((e) => e.type === 'shutdown');
    for (const [i, e] of order.entries()) {
      if (e.type === 'note' && e.message.startsWith('already sent FIN')) expect(i).toBeGreaterThan(finAt);
    }
    expect(notes(rig, 'c1')).toEqual(['our FIN is already on its way: nothing to do; .destroy c1 aborts it']);
  });

  it('.close --force says how many connections it destroyed', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 as srv');
    await rig.ok('.connect srv');
    await rig.ok('.wait srv accept');
    await rig.ok('.close srv --force');
    await rig.ok('.wait srv close');
    expect(rig.log.of('stop', 's1')).toEqual([expect.objectContaining({ open: 0, destroyed: 1 })]);
    expect(formatEvent(rig.log.of('stop', 's1')[0]!, { time: false, colors: pc.createColors(false) })).toBe('s1   stopped accepting; destroyed 1 connection');
  });
});
