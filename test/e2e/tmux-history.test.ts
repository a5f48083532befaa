/**
 * History across restarts, in real terminals (tmux): the lines typed are in
 * the file after `.exit`, a new session recalls them with Up; 1,000 entries
 * (SPEC §7, like Node's REPL); two sessions on one file never merge a line; a
 * line with a control character stays one entry. Nothing waits on a fixed
 * delay: the screen is polled and the pane's exit is awaited.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HISTORY_HEADER } from '../../src/repl/history.js';
import { cleanupTmux, frame, hasCommand, startTmux, type TmuxOptions, type TmuxSession } from '../helpers/cli.js';
import { closeAll, tempDir } from '../helpers/loopback.js';
import { enter, keepDeadPane, lastRow, paneExit, ready, rowsOf, tmuxCommand } from '../helpers/tmux-repl.js';

/** Per-test hang detector (a tmux pane on a loaded machine is slow to start and to draw); see vitest.config.ts. */
const LIMIT = 120_000;

afterEach(async () => {
  await cleanupTmux();
  await closeAll();
});

async function socklab(options: TmuxOptions = {}): Promise<TmuxSession> {
  // --no-color as well as NO_COLOR: a test that unsets NO_COLOR must not get colours.
  return ready(await startTmux(['--no-time', '--no-color'], { width: 100, height: 30, ...options }));
}

const hasRow = (screen: string, row: string): boolean => rowsOf(screen).includes(row);

/** The entries of a history file, oldest first, checking the shape: the header, then one entry a line, a final newline. */
function entriesOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n'), JSON.stringify(text)).toBe(true);
  const [header, ...entries] = text.slice(0, -1).split('\n');
  expect(header).toBe(HISTORY_HEADER);
  return entries;
}

/** Type `.exit`, wait for the process to end with status 0, close the terminal. */
async function exit(term: TmuxSession): Promise<void> {
  await term.type('.exit');
  await term.sendKeys('Enter');
  expect(await paneExit(term)).toBe(0);
  await term.kill();
}

/** Press Up and wait until the prompt row shows `line`. */
async function up(term: TmuxSession, line: string): Promise<void> {
  await term.sendKeys('Up');
  await term.waitForScreen((s) => lastRow(s) === `socklab> ${line}`.trimEnd(), 5000, `${JSON.stringify(line)} recalled`);
}

describe.skipIf(!hasCommand('tmux'))('history across restarts', () => {
  it(
    'SOCKLAB_HISTORY=FILE: the lines typed are in FILE after .exit, and a new session recalls them with Up',
    async () => {
      const file = join(tempDir(), 'history');
      let term = await socklab({ env: { SOCKLAB_HISTORY: file } });
      await keepDeadPane(term);
      await enter(term, '6*7', (s) => hasRow(s, '42') && lastRow(s) === 'socklab>');
      await enter(term, '.set maxbytes 64', (s) => lastRow(s) === 'socklab>' && s.includes('.set maxbytes 64\n'));
      await exit(term);
      expect(entriesOf(file)).toEqual(['6*7', '.set maxbytes 64', '.exit']);

      term = await socklab({ env: { SOCKLAB_HISTORY: file } });
      await up(term, '.exit');
      await up(term, '.set maxbytes 64');
      await up(term, '6*7');
      await term.sendKeys('Enter');
      await term.waitForScreen((s) => hasRow(s, '42') && lastRow(s) === 'socklab>', 5000, 'the recalled line run');
    },
    LIMIT,
  );

  it(
    'keeps 1,000 entries: of 1,200 in the file the newest 1,000 are recalled, in order; typing adds the 1,201st',
    async () => {
      const file = join(tempDir(), 'history');
      writeFileSync(file, [HISTORY_HEADER, ...Array.from({ length: 1200 }, (_, i) => `${i}+0`)].map((l) => `${l}\n`).join(''));
      const term = await socklab({ env: { SOCKLAB_HISTORY: file } });
      await keepDeadPane(term);
      await up(term, '1199+0');
      await up(term, '1198+0');
      // 998 more Ups reach the oldest kept entry (readline's default 30 would stop at 1170+0).
      await tmuxCommand(term, ['send-keys', '-N', '998', 'Up']);
      await term.waitForScreen((s) => lastRow(s) === 'socklab> 200+0', 10_000, 'the 1,000th newest entry');
      await term.sendKeys('Enter');
      const screen = await term.waitForScreen((s) => hasRow(s, '200') && lastRow(s) === 'socklab>', 5000, 'the oldest kept entry run');
      expect(screen, frame(screen)).not.toContain('199+0');
      await exit(term);
      const entries = entriesOf(file);
      expect(entries).toHaveLength(1202);
      expect(entries.slice(-2)).toEqual(['200+0', '.exit']);
    },
    LIMIT,
  );

  it(
    'two sessions on one file: each line is kept whole, in the order typed; a new session recalls them all',
    async () => {
      const file = join(tempDir(), 'history');
      const a = await socklab({ env: { SOCKLAB_HISTORY: file } });
      const b = await socklab({ env: { SOCKLAB_HISTORY: file } });
      await keepDeadPane(a);
      await keepDeadPane(b);
      const typed: string[] = [];
      // node:repl's writer rewrote its whole list from offset 0: a longer list from one
      // session, then a shorter one from the other, left "2+2ytes 64"-like merged lines.
      for (const [term, line, shows] of [
        [a, '1+1', '2'],
        [b, '2+2', '4'],
        [a, '"a much longer line from the first session".length', '41'],
        [b, '3+3', '6'],
      ] as const) {
        await enter(term, line, (s) => hasRow(s, shows) && lastRow(s) === 'socklab>');
        typed.push(line);
      }
      await exit(b);
      await exit(a);
      expect(entriesOf(file)).toEqual([...typed, '.exit', '.exit']);

      const c = await socklab({ env: { SOCKLAB_HISTORY: file } });
      // Both .exit lines are there; readline's Up skips an entry equal to the line shown.
      await up(c, '.exit');
      for (const line of [...typed].reverse()) await up(c, line);
    },
    LIMIT,
  );

  it(
    'a line with control characters (FS 0x1c, NEL U+0085) is one entry after a restart, recalled and run as typed',
    async () => {
      const file = join(tempDir(), 'history');
      let term = await socklab({ env: { SOCKLAB_HISTORY: file } });
      await keepDeadPane(term);
      const line = "'a\x1cb\u0085c'.length";
      await enter(term, line, (s) => hasRow(s, '5') && lastRow(s) === 'socklab>');
      await enter(term, '7*6', (s) => hasRow(s, '42') && lastRow(s) === 'socklab>');
      await exit(term);
      expect(entriesOf(file)).toEqual([line, '7*6', '.exit']);

      term = await socklab({ env: { SOCKLAB_HISTORY: file } });
      await up(term, '.exit');
      await up(term, '7*6');
      await term.sendKeys('Up');
      // The terminal shows nothing for FS and NEL; what runs is what was typed: five characters.
      await term.waitForScreen((s) => lastRow(s) === "socklab> 'abc'.length", 5000, 'the line with FS and NEL recalled');
      await term.sendKeys('Enter');
      await term.waitForScreen((s) => hasRow(s, '5') && lastRow(s) === 'socklab>', 5000, 'the recalled line run');
    },
    LIMIT,
  );

  it(
    'a history file that cannot be read (a directory) is said once, and the session goes on',
    async () => {
      const dir = tempDir();
      const term = await socklab({ env: { SOCKLAB_HISTORY: dir } });
      const screen = await enter(term, '6*7', (s) => hasRow(s, '42') && lastRow(s) === 'socklab>');
      const said = rowsOf(screen).filter((r) => r.includes('cannot read the history file'));
      expect(said, frame(screen)).toEqual([`!    cannot read the history file ${dir} (EISDIR): lines typed now are not kept`]);
    },
    LIMIT,
  );

  it(
    'SOCKLAB_HISTORY="" writes no history file; unset, it is ~/.socklab_history',
    async () => {
      for (const [history, written] of [['', false], [undefined, true]] as const) {
        const home = tempDir();
        const env = history === undefined ? { NO_COLOR: undefined, SOCKLAB_HISTORY: undefined, HOME: home } : { HOME: home, SOCKLAB_HISTORY: history };
        const term = await socklab({ env });
        await keepDeadPane(term);
        await enter(term, '6*7', (s) => hasRow(s, '42') && lastRow(s) === 'socklab>');
        await exit(term);
        expect(existsSync(join(home, '.socklab_history')), `SOCKLAB_HISTORY=${String(history)}: ${readdirSync(home).join(', ')}`).toBe(written);
        if (written) expect(entriesOf(join(home, '.socklab_history'))).toEqual(['6*7', '.exit']);
      }
    },
    LIMIT,
  );
});
