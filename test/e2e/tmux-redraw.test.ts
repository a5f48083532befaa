/**
 * The redraw of the prompt and a half-typed line in a real terminal (tmux,
 * 60×20) when the terminal is resized, on Ctrl+L, after a paste that ends at a
 * row's end, and while a blocking command runs (STYLE.md habit 11). Each test
 * asserts on the captured screen: every event line once, no ghost copy of the
 * prompt, the prompt and the typed text intact, the cursor where it was.
 * Nothing waits on a fixed delay: the screen and the cursor are polled.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupTmux, frame, hasCommand, startTmux, type TmuxSession } from '../helpers/cli.js';
import { lastRow, rowsOf, tmuxCommand } from '../helpers/tmux-repl.js';
import { patience } from '../helpers/patience.js';

const PROMPT = 'socklab> ';
/** Per-test hang detector (a tmux pane on a loaded machine is slow to start and to draw); see vitest.config.ts. */
const LIMIT = 120_000;
// 9 + 88 columns: two rows at 60 columns, three at 40, one at 100.
const TYPED = '.sendln c1 the quick brown fox jumps over the lazy dog; 0123456789 ok and more text here';
const clients = new Set<net.Socket>();

afterEach(async () => {
  for (const c of clients) c.destroy();
  clients.clear();
  await cleanupTmux();
});

/** The rows a prompt with `typed` occupies at `width` columns (a full last row wraps to an empty one). */
function promptRows(typed: string, width: number): string[] {
  const full = PROMPT + typed;
  const rows: string[] = [];
  for (let i = 0; i < full.length; i += width) rows.push(full.slice(i, i + width).trimEnd());
  return rows;
}

/** Start socklab with an echo server (s1); the terminal and the port. */
async function echoServer(width = 60): Promise<{ term: TmuxSession; port: number }> {
  const term = await startTmux(['--no-time'], { width, height: 20 });
  await term.waitForScreen((s) => lastRow(s) === PROMPT.trimEnd(), 10_000, 'the first prompt');
  await term.type('.listen 0 --reply echo');
  await term.sendKeys('Enter');
  const screen = await term.waitForScreen((s) => /listening on 127\.0\.0\.1:\d+ /.test(s) && lastRow(s) === PROMPT.trimEnd(), 5000, 'the server');
  return { term, port: Number(/listening on 127\.0\.0\.1:(\d+) /.exec(screen)![1]) };
}

/** Connect a client, send `text\n`, resolve once the echo came back (so all four events were printed or are on the way). */
async function echoOnce(port: number, text: string): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  clients.add(socket);
  let got = '';
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString('utf8');
      if (got === `${text}\n`) resolve();
    });
    socket.once('error', reject);
    socket.write(`${text}\n`);
  });
}

/**
 * Resize the window and wait until the program can see it: tmux rewraps its
 * screen at once (the prompt rows look redrawn already) but tells the pane's
 * tty the new size up to 250 ms later; until then the program draws for the
 * old width. So this polls the size of the pane's tty itself (`stty size`).
 */
async function resize(term: TmuxSession, width: number): Promise<void> {
  await tmuxCommand(term, ['resize-window', '-x', String(width), '-y', '20']);
  const tty = (await tmuxCommand(term, ['display-message', '-p', '#{pane_tty}'])).trim();
  const deadline = Date.now() + patience(5000);
  while ((await ttySize(tty)) !== `20 ${width}`) {
    if (Date.now() > deadline) throw new Error(`${tty} did not become ${width} columns wide`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `rows columns` of a terminal device, as its programs see them. */
function ttySize(tty: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('stty', ['-F', tty, 'size'], { timeout: patience(5000) }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim())));
  });
}

/** The screen ends with the prompt rows of `typed` at `width`. */
const endsWithPrompt = (screen: string, typed: string, width: number): boolean => {
  const want = promptRows(typed, width);
  return rowsOf(screen).slice(-want.length).join('\n') === want.join('\n');
};

/**
 * The screen ends with exactly the prompt and `typed` at `width`; the first
 * prompt row appears once (no ghost); each of `events` is on one row, once, above it.
 */
function assertScreen(screen: string, typed: string, width: number, events: string[]): number {
  const rows = rowsOf(screen);
  const want = promptRows(typed, width);
  const promptRow = rows.length - want.length;
  const why = `\nthe screen:\n${frame(screen)}`;
  expect(rows.slice(promptRow), `prompt rows${why}`).toEqual(want);
  expect(rows.filter((r) => r.startsWith(want[0]!.slice(0, 20))).length, `copies of the prompt's first row${why}`).toBe(1);
  for (const text of events) {
    const at = rows.map((r, i) => (r.includes(text) ? i : -1)).filter((i) => i >= 0);
    expect(at.length, `rows with ${JSON.stringify(text)}${why}`).toBe(1);
    expect(at[0], `row of ${JSON.stringify(text)}${why}`).toBeLessThan(promptRow);
  }
  return promptRow;
}

/** Where the cursor is when it sits `fromEnd` characters before the end of `typed`, the prompt's first row at `row`. */
function cursorAt(typed: string, fromEnd: number, row: number, width: number): { x: number; y: number } {
  const offset = PROMPT.length + typed.length - fromEnd;
  return { x: offset % width, y: row + Math.floor(offset / width) };
}

/** Type `typed` (one chunk, as a paste) and move the cursor `left` characters back; the prompt's first row. */
async function typeAndMoveLeft(term: TmuxSession, typed: string, left: number, width: number): Promise<number> {
  await term.type(typed);
  const screen = await term.waitForScreen((s) => endsWithPrompt(s, typed, width), 5000, 'the typed line');
  const row = rowsOf(screen).length - promptRows(typed, width).length;
  if (left > 0) await tmuxCommand(term, ['send-keys', '-N', String(left), 'Left']);
  const at = cursorAt(typed, left, row, width);
  await term.waitForCursor(at.x, at.y);
  return row;
}

const EVENTS = (text: string): string[] => [`← ${text.length + 1} B  "${text}\\n"`, `→ ${text.length + 1} B  "${text}\\n"`];

describe.skipIf(!hasCommand('tmux'))('redraw of a wrapped half-typed line, cursor in the middle', () => {
  it(
    'resize narrower, then wider, with events before and after each: no event lost, no ghost prompt, cursor kept',
    async () => {
      const { term, port } = await echoServer(60);
      await typeAndMoveLeft(term, TYPED, 30, 60);
      await echoOnce(port, 'one');
      let screen = await term.waitForScreen((s) => s.includes(EVENTS('one')[1]!) && endsWithPrompt(s, TYPED, 60), 5000, 'the first events');
      assertScreen(screen, TYPED, 60, EVENTS('one'));

      for (const width of [40, 100, 60]) {
        await resize(term, width);
        screen = await term.waitForScreen((s) => endsWithPrompt(s, TYPED, width), 5000, `the prompt redrawn at ${width} columns`);
        let row = assertScreen(screen, TYPED, width, EVENTS('one'));
        let at = cursorAt(TYPED, 30, row, width);
        await term.waitForCursor(at.x, at.y);

        const text = `after ${width}`;
        await echoOnce(port, text);
        screen = await term.waitForScreen((s) => s.includes(EVENTS(text)[1]!) && endsWithPrompt(s, TYPED, width), 5000, `the events after the resize to ${width}`);
        row = assertScreen(screen, TYPED, width, [...EVENTS('one'), ...EVENTS(text)]);
        at = cursorAt(TYPED, 30, row, width);
        await term.waitForCursor(at.x, at.y);
      }
      // Enter still sends the whole line, cursor in the middle or not.
      await term.sendKeys('Enter');
      await term.waitForScreen((s) => s.includes('→ 78 B  "the quick brown fox') && lastRow(s) === PROMPT.trimEnd(), 5000, 'the line sent');
    },
    LIMIT,
  );

  it(
    'Left across the wrap after a paste, then Ctrl+L: the prompt and the line once, at the top; the next event goes above it',
    async () => {
      const { term, port } = await echoServer(60);
      // 40 back from the end crosses into the first row: readline redraws, from the row it remembers.
      const row = await typeAndMoveLeft(term, TYPED, 40, 60);
      assertScreen(await term.capture(), TYPED, 60, []);
      expect(cursorAt(TYPED, 40, row, 60).y).toBe(row);
      await echoOnce(port, 'before');
      await term.waitForScreen((s) => s.includes(EVENTS('before')[1]!) && endsWithPrompt(s, TYPED, 60), 5000, 'the events');
      await term.sendKeys('C-l');
      let screen = await term.waitForScreen((s) => !s.includes('listening on'), 5000, 'the cleared screen');
      expect(rowsOf(screen), frame(screen)).toEqual(promptRows(TYPED, 60));
      await term.waitForCursor(cursorAt(TYPED, 40, 0, 60).x, cursorAt(TYPED, 40, 0, 60).y);

      await echoOnce(port, 'after');
      screen = await term.waitForScreen((s) => s.includes(EVENTS('after')[1]!) && endsWithPrompt(s, TYPED, 60), 5000, 'the events after Ctrl+L');
      const after = assertScreen(screen, TYPED, 60, EVENTS('after'));
      expect(screen, frame(screen)).not.toContain('"before');
      await term.waitForCursor(cursorAt(TYPED, 40, after, 60).x, cursorAt(TYPED, 40, after, 60).y);
    },
    LIMIT,
  );

  it(
    'a paste that ends exactly at a row’s end (readline redraws it onto the next row), then events: the row above the prompt is kept',
    async () => {
      const { term, port } = await echoServer(60);
      await echoOnce(port, 'keep me');
      await term.waitForScreen((s) => s.includes(EVENTS('keep me')[1]!) && lastRow(s) === PROMPT.trimEnd(), 5000, 'the first events');
      // 9 + 51 = 60 columns: the last character wraps the cursor onto an empty row.
      const typed = '.sendln c1 exactly to the end of the row 0123456789';
      expect(PROMPT.length + typed.length).toBe(60);
      await term.type(typed);
      await term.waitForScreen((s) => rowsOf(s).includes(PROMPT + typed), 5000, 'the typed line');
      await echoOnce(port, 'then this');
      const screen = await term.waitForScreen((s) => s.includes(EVENTS('then this')[1]!) && rowsOf(s).includes(PROMPT + typed), 5000, 'the events');
      const rows = rowsOf(screen);
      const why = frame(screen);
      for (const text of [...EVENTS('keep me'), ...EVENTS('then this'), 'listening on 127.0.0.1:']) {
        expect(rows.filter((r) => r.includes(text)).length, `${text}\n${why}`).toBe(1);
      }
      expect(rows.filter((r) => r === PROMPT + typed).length, why).toBe(1);
      expect(rows.indexOf(PROMPT + typed), why).toBeGreaterThan(rows.findIndex((r) => r.includes(EVENTS('then this')[1]!)));
    },
    LIMIT,
  );
});

describe.skipIf(!hasCommand('tmux'))('typing while a command blocks', () => {
  it(
    '.wait: lines typed meanwhile run after it, each shown after a prompt; the half-typed rest stays on the prompt',
    async () => {
      const { term, port } = await echoServer(60);
      await term.type('.wait s1 accept');
      await term.sendKeys('Enter');
      await term.waitForScreen((s) => lastRow(s) === `${PROMPT}.wait s1 accept`, 5000, 'the .wait without a prompt under it');
      await term.type('6*7');
      await term.sendKeys('Enter');
      await term.type('half typed');
      // The client's events end the wait.
      await echoOnce(port, 'hi');
      const screen = await term.waitForScreen((s) => lastRow(s) === `${PROMPT}half typed` && rowsOf(s).includes('42'), 5000, 'the typed-ahead line run and the half-typed one at the prompt');
      const rows = rowsOf(screen);
      const why = frame(screen);
      const waited = rows.indexOf(`${PROMPT}.wait s1 accept`);
      const typedAhead = rows.indexOf(`${PROMPT}6*7`);
      expect(waited, why).toBeGreaterThan(-1);
      expect(typedAhead, why).toBeGreaterThan(waited);
      expect(rows.indexOf('42'), why).toBe(typedAhead + 1);
      // Every row is an event, a prompt with a line, or the result: nothing typed shows without its prompt.
      expect(rows.filter((r) => r.includes('6*7') || r.includes('half typed')).every((r) => r.startsWith(PROMPT)), why).toBe(true);
      expect(rows.filter((r) => r.includes('accepted by s1')).length, why).toBe(1);
      for (const text of EVENTS('hi')) expect(rows.filter((r) => r.includes(text)).length, `${text}\n${why}`).toBe(1);
      await term.waitForCursor((PROMPT + 'half typed').length, rows.length - 1);
    },
    LIMIT,
  );

  it(
    '.sleep 1s with a wrapped line typed meanwhile: after it, the prompt and the whole line, cursor at its end',
    async () => {
      const { term } = await echoServer(60);
      await term.type('.sleep 1s');
      await term.sendKeys('Enter');
      await term.type(TYPED);
      const screen = await term.waitForScreen((s) => endsWithPrompt(s, TYPED, 60), 5000, 'the prompt and the line typed during the sleep');
      const row = assertScreen(screen, TYPED, 60, ['listening on 127.0.0.1:']);
      expect(rowsOf(screen)[row - 1], frame(screen)).toBe(`${PROMPT}.sleep 1s`);
      await term.waitForCursor(cursorAt(TYPED, 0, row, 60).x, cursorAt(TYPED, 0, row, 60).y);
    },
    LIMIT,
  );
});
