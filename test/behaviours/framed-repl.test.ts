/**
 * A framed socket in the REPL (SPEC 12): a line typed while attached is one
 * message (framed, no end-of-line added), recorded as the `.send` it was; a
 * line the framing cannot carry is refused with one line; a `--greet` on a
 * framed server is one framed message.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, tempDir } from '../helpers/loopback.js';
import { startHarness } from '../helpers/repl-harness.js';
import { commandRig } from '../helpers/commands.js';
import { is } from '../helpers/loopback.js';

afterEach(closeAll);

describe('attached to a framed socket', () => {
  it('each typed line is one len16 message; .record keeps it as .send', async () => {
    const file = join(tempDir(), 'framed.lab');
    const h = startHarness();
    h.type('.listen 0 --frame len16 --reply echo');
    await h.waitFor('listening on');
    h.type('.connect s1 --frame len16 as rc');
    await h.waitFor('connected');
    h.type(`.record ${file}`);
    await h.waitFor('recording to');
    h.type('.attach rc');
    await h.waitFor('rc> ');
    h.mark();
    h.type('hello there');
    await h.waitFor('c1   → 13 B  "\\0\\x0bhello there"');
    await h.waitFor('c2   ← msg 11 B  "hello there"');
    await h.waitFor('c1   ← msg 11 B  "hello there"');
    h.type('.detach');
    await h.waitFor('socklab> ');
    h.type('.record stop');
    await h.waitFor('recording stopped');
    await h.close();
    expect(readFileSync(file, 'utf8')).toBe('.send rc "hello there"\n');
  });

  it('a line the framing cannot carry is refused with one line; the next one goes', async () => {
    const h = startHarness();
    h.type('.listen 0 --frame fixed:4');
    await h.waitFor('listening on');
    h.type('.connect s1 --frame fixed:4 as rc');
    await h.waitFor('connected');
    h.type('.attach rc');
    await h.waitFor('rc> ');
    h.mark();
    h.type('too long');
    await h.waitFor('a fixed:4 message is exactly 4 B; this one is 8 B');
    h.type('fine');
    await h.waitFor('c2   ← msg 4 B  "fine"');
    await h.close();
  });
});

describe('--greet on a framed server', () => {
  it('is sent as one framed message; one that cannot be framed is refused at .listen', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0 --frame len8 --greet "hi there"');
    await rig.ok('.connect s1 --frame len8 as c');
    const msg = await rig.log.waitFor(is('message', 'c1'));
    expect(msg.data.toString()).toBe('hi there');
    const err = await rig.fail('.listen 0 --frame line --greet "two\\nlines"');
    expect(err.message).toMatch(/holds the \\n that ends a line message/);
  });
});
