/**
 * `.record` and a JavaScript entry typed over several lines (review #10): the
 * entry is one `command` event once the REPL has it whole, and .record leaves
 * it out whole, with a note — never half of it (`zz +` then `2` kept `2`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, tempDir } from '../helpers/loopback.js';
import { startHarness } from '../helpers/repl-harness.js';

afterEach(closeAll);

describe('.record and multi-line JavaScript', () => {
  it('keeps whole lines, leaves a multi-line entry out whole, and says so', async () => {
    const file = join(tempDir(), 'x.lab');
    const h = startHarness();
    const commands: string[] = [];
    h.session.subscribe((ev) => void (ev.type === 'command' && commands.push(ev.line)));
    h.type(`.record ${file}`);
    await h.waitFor('recording to');
    h.type('let zz = 1');
    h.type('zz +');
    h.type('2');
    await h.waitFor(/ 3$/m);
    h.type('Math.max(');
    h.type('1, 2)');
    await h.waitFor(/not recorded: a JavaScript entry typed over several lines(?:.|\n)*not recorded/);
    // Abandoned with .break: nothing of it is kept, and the next line is whole again.
    h.type('const half = [');
    h.type('.break');
    h.type('zz * 10');
    await h.waitFor(/ 10$/m);
    h.type('.record stop');
    await h.waitFor('recording stopped');
    expect(readFileSync(file, 'utf8')).toBe('let zz = 1\nzz * 10\n');
    expect(commands).toContain('zz +\n2');
    expect(commands).toContain('Math.max(\n1, 2)');
    expect(commands).not.toContain('2');
    await h.close();
  });
});
