/**
 * Tab completion of names the escaping table changes (review #16): readline
 * inserts the candidate it is given, so an escaped `\x1b` would name no file
 * and a raw ESC would reach the terminal. Such names are not offered; one
 * note says why. Real files in a temp folder.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { completeCommandLine } from '../../src/repl/complete.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

afterEach(closeAll);

describe('completion and names with control characters', () => {
  it('a file named with ESC, BEL or a bidi mark is not inserted, escaped or raw; the note names it escaped', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a\x1b]0;OWNED\x07\u202eb.lab'), '');
    writeFileSync(join(dir, 'a\u200b.lab'), '');
    writeFileSync(join(dir, 'abc.lab'), '');
    const notes: string[] = [];
    const [candidates, word] = completeCommandLine(`.replay ${dir}/a`, { commands: COMMANDS, names: () => [], note: (t) => notes.push(t) });
    expect(word).toBe(`${dir}/a`);
    expect(candidates).toEqual([`${dir}/abc.lab `]);
    expect(candidates.join('')).not.toMatch(/\\x1b|\x1b|\u202e|\u200b/);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^not completed: 2 names hold control or invisible characters \(.*\\x1b\]0;OWNED\\x07\\u\{202e\}b\.lab/);
    expect(notes[0]).not.toMatch(/\x1b|\x07|\u202e/);
  });

  it('names that are plain complete as before, with no note', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'lesson.lab'), '');
    const notes: string[] = [];
    expect(completeCommandLine(`.replay ${dir}/le`, { commands: COMMANDS, names: () => [], note: (t) => notes.push(t) })[0]).toEqual([`${dir}/lesson.lab `]);
    expect(notes).toEqual([]);
  });
});
