/**
 * In a real terminal: lines pasted (or typed ahead) while a blocking command
 * runs wait their turn, as in a script; Ctrl+C stops the blocking command and
 * the session lives on.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupTmux, frame, hasCommand, startTmux, type TmuxSession } from '../helpers/cli.js';
import { closeAll, tempDir } from '../helpers/loopback.js';
import { lastRow, tmuxCommand } from '../helpers/tmux-repl.js';

afterEach(async () => {
  await cleanupTmux();
  await closeAll();
});

async function socklab(): Promise<TmuxSession> {
  const term = await startTmux(['--no-time'], { width: 100, height: 30 });
  await term.waitForScreen((s) => lastRow(s) === 'socklab>', 10_000, 'the first prompt');
  return term;
}

async function paste(term: TmuxSession, lines: string[]): Promise<void> {
  // In a directory of the test's own, removed by closeAll (it was left in /tmp).
  const file = join(tempDir(), 'paste.txt');
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  await tmuxCommand(term, ['load-buffer', file]);
  await tmuxCommand(term, ['paste-buffer']);
}

describe.skipIf(!hasCommand('tmux'))('pasted lines and Ctrl+C', () => {
  it('a pasted lesson runs in order: names exist for the next line, .expect waits for its bytes', async () => {
    const term = await socklab();
    await paste(term, ['.listen 0 as q', '.connect q as pz', '.sendln pz hi', '.wait q accept as pzc', '.expect pzc hi', '.ls']);
    const screen = await term.waitForScreen((s) => s.includes('pzc   conn of s1'), 10_000, 'the .ls after the lesson');
    expect(screen, frame(screen)).toContain('c2   expect ok: .expect pzc hi');
    expect(screen, frame(screen)).not.toContain('no endpoint');
    expect(screen, frame(screen)).not.toContain('cannot send');
  });

  it('Ctrl+C cancels a .sleep and drops the lines queued behind it; the session and its servers live on', async () => {
    const term = await socklab();
    await paste(term, ['.listen 0 as keep', '.sleep 20s', '.ls']);
    await term.waitForScreen((s) => s.includes('listening on'), 5000, 'the server');
    await term.sendKeys('C-c');
    const screen = await term.waitForScreen((s) => s.includes('sleep cancelled') && lastRow(s) === 'socklab>', 5000, 'the cancelled sleep');
    expect(screen, frame(screen)).not.toContain('id  name');
    expect(screen, frame(screen)).not.toContain('press Ctrl+C again');
    await term.type('.ls');
    await term.sendKeys('Enter');
    const after = await term.waitForScreen((s) => s.includes('keep  server'), 5000, '.ls after the cancel');
    expect(after, frame(after)).toContain('listening');
  });
});
