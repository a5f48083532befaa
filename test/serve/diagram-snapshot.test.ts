/**
 * The page's diagram of a real session on loopback, drawn from the history's
 * columns in place with only the kept rows labelled: the same rows as every
 * row labelled from the steps made whole, just past PAGE_DIAGRAM_ROWS (the
 * oldest rows left out, each kept row labelled from its own step).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { escapeMessage } from '../../src/render/escape.js';
import { timelineRows } from '../../src/render/timeline.js';
import { PAGE_DIAGRAM_ROWS, diagramSnapshot } from '../../src/serve/snapshots.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, peerClient, receive } from '../helpers/loopback.js';

afterEach(closeAll);

describe('diagramSnapshot of a real session', () => {
  it(`past ${PAGE_DIAGRAM_ROWS} rows: the newest, as every row labelled draws them, from sockets of ours and from outside`, async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --reply echo as srv');
    const port = rig.log.of('listening')[0]?.port as number;
    await rig.ok('.connect srv as alice');
    await rig.ok('.wait srv accept');
    // A client outside the session: its bytes are drawn both ways (ours are drawn once, from the sender).
    const outside = await peerClient(port);
    await rig.ok('.wait srv accept');
    // Each round: alice's line and its echo (2 rows), the outside line and its echo (2 rows), ids alternating.
    const rounds = Math.ceil(PAGE_DIAGRAM_ROWS / 4) + 20;
    for (let i = 0; i < rounds; i++) {
      await rig.ok(`.sendln alice alice ${i}`);
      await rig.ok(`.expect alice "alice ${i}\\n"`);
      const echoed = receive(outside, `outside ${i}\n`);
      outside.write(`outside ${i}\n`);
      await echoed;
    }
    const history = rig.ctx.session.history;
    const snap = diagramSnapshot(rig.ctx.session);
    const full = timelineRows(history.steps);
    const newest = full.rows.slice(-PAGE_DIAGRAM_ROWS);
    expect(full.rows.length).toBeGreaterThan(PAGE_DIAGRAM_ROWS);
    const text = (s: string) => escapeMessage(s);
    expect(snap.rows).toEqual(newest.map((r) => (r.arrow ? { ...r, from: text(r.from), to: text(r.to), label: text(r.label) } : { ...r, at: text(r.at), label: text(r.label) })));
    expect(snap.omitted).toBe(`showing the newest ${PAGE_DIAGRAM_ROWS} of ${full.rows.length.toLocaleString('en-US')} rows`);
    // The last rows are the last round's, each labelled from its own step.
    const last = snap.rows.slice(-4).map((r) => (r.arrow ? `${r.from}>${r.to} ${r.label}` : r.label));
    expect(last).toEqual([
      `c1>c2 ${`alice ${rounds - 1}\n`.length} B "alice ${rounds - 1}\\n"`,
      `c2>c1 ${`alice ${rounds - 1}\n`.length} B "alice ${rounds - 1}\\n"`,
      expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:\\d+>c3 ${`outside ${rounds - 1}\n`.length} B "outside ${rounds - 1}\\\\n"$`)),
      expect.stringMatching(new RegExp(`^c3>127\\.0\\.0\\.1:\\d+ ${`outside ${rounds - 1}\n`.length} B "outside ${rounds - 1}\\\\n"$`)),
    ]);
    expect(snap.participants).toEqual(['c1', 'c2', expect.stringMatching(/^127\.0\.0\.1:\d+$/), 'c3']);
  });
});
