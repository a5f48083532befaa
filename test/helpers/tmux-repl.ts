/**
 * A little more on top of the tmux harness of cli.ts, for tests that drive the
 * REPL line by line: waiting for a prompt, typing a line, reading the rows of
 * the screen, and seeing how the process ended (tmux keeps a dead pane on
 * screen with its exit status once `keepDeadPane` was called).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BIN, frame, type TmuxSession } from './cli.js';
import { patience } from './patience.js';

/** Rows of a captured screen (capture() already trims trailing blanks and empty rows). */
export const rowsOf = (screen: string): string[] => screen.split('\n');

/** The last row of the screen: where the prompt and the half-typed line are. */
export const lastRow = (screen: string): string => rowsOf(screen).at(-1) ?? '';

/** Run a tmux command against the test's own server. */
export function tmuxCommand(term: TmuxSession, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-L', term.socket, ...args], { timeout: patience(5000) }, (error, stdout, stderr) => {
      if (error) reject(new Error(`tmux ${args.join(' ')}: ${error.message}${stderr ? `\n${stderr}` : ''}`));
      else resolve(stdout);
    });
  });
}

/** Keep the pane (and its last screen) after the program exits, so its exit status can be read. */
export async function keepDeadPane(term: TmuxSession): Promise<void> {
  await tmuxCommand(term, ['set-option', '-g', 'remain-on-exit', 'on']);
}

/** Poll until the program in the pane has exited; resolve its exit status. Needs `keepDeadPane` first. */
export async function paneExit(term: TmuxSession, ms = 5000): Promise<number> {
  ms = patience(ms);
  const deadline = Date.now() + ms;
  for (;;) {
    const [dead = '0', status = ''] = (await tmuxCommand(term, ['display-message', '-p', '#{pane_dead} #{pane_dead_status}'])).trim().split(' ');
    if (dead === '1') return Number(status);
    if (Date.now() > deadline) throw new Error(`the program did not exit within ${ms} ms; the screen:\n${frame(await term.capture())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Wait until the last row is exactly `prompt` (trailing blank trimmed: `socklab>`, `c1>`). */
export function waitForPrompt(term: TmuxSession, prompt = 'socklab>', ms = 5000): Promise<string> {
  return term.waitForScreen((s) => lastRow(s) === prompt, ms, `the prompt ${JSON.stringify(prompt)} on the last row`);
}

/**
 * Type `line`, press Enter, and wait until `done` holds for the screen (by
 * default: the screen changed and a fresh `prompt` is on the last row).
 */
export async function enter(
  term: TmuxSession,
  line: string,
  done?: (screen: string) => boolean,
  what = `the outcome of ${JSON.stringify(line)}`,
  prompt = 'socklab>',
): Promise<string> {
  const before = await term.capture();
  await term.type(line);
  await term.sendKeys('Enter');
  return term.waitForScreen(done ?? ((s) => s !== before && lastRow(s) === prompt), 5000, what);
}

/** Start a REPL session and wait for its first prompt. */
export async function ready(term: TmuxSession): Promise<TmuxSession> {
  await waitForPrompt(term, 'socklab>', 10_000);
  return term;
}

/**
 * Press Tab twice, as a person does: two separate reads. Node's readline takes
 * a Tab that is not the last key of one read for pasted text and inserts it,
 * and two `send-keys` sent back to back arrive as one read when the program is
 * slow to read (a busy machine); so the second Tab goes once the program has
 * read the first: its count of read calls (/proc/PID/io) has moved. An idle
 * REPL reads nothing else. (A fixed pause here failed under load.)
 */
export async function tabTab(term: TmuxSession): Promise<void> {
  const pid = await programPid(term);
  const tty = (await tmuxCommand(term, ['display-message', '-p', '#{pane_tty}'])).trim();
  const deadline = Date.now() + patience(5000);
  const poll = async (what: string, done: () => Promise<boolean>): Promise<void> => {
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${patience(5000)} ms; the screen:\n${frame(await term.capture())}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  // What was typed before has been read, so the next read the program makes is the Tab's.
  await poll('the typed keys read', async () => (await unreadInput(tty)) === 0);
  const before = readCalls(pid);
  await term.sendKeys('Tab');
  await poll('the first Tab read', async () => readCalls(pid) !== before && (await unreadInput(tty)) === 0);
  await term.sendKeys('Tab');
}

/** Bytes typed into a terminal device that its program has not read yet (FIONREAD, through Python). */
function unreadInput(tty: string): Promise<number> {
  const code = 'import fcntl,os,struct,sys,termios\nfd=os.open(sys.argv[1],os.O_RDONLY|os.O_NOCTTY|os.O_NONBLOCK)\nprint(struct.unpack("i",fcntl.ioctl(fd,termios.FIONREAD,b"0000"))[0])';
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', code, tty], { timeout: patience(5000) }, (error, stdout) => (error ? reject(error) : resolve(Number(stdout.trim()))));
  });
}

/** The pid of the program in the pane: tmux starts it through a shell and `env`, which may exec it or wait for it. */
async function programPid(term: TmuxSession): Promise<number> {
  let pid = Number((await tmuxCommand(term, ['display-message', '-p', '#{pane_pid}'])).trim());
  const isProgram = (p: number): boolean => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[1] === BIN;
  for (let depth = 0; depth < 4 && !isProgram(pid); depth++) {
    const [child] = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    pid = Number(child);
  }
  return pid;
}

/** read() system calls a process has made so far (`syscr` of /proc/PID/io). */
function readCalls(pid: number): number {
  return Number(/^syscr: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
}
