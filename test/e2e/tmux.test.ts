/**
 * The built CLI in a real terminal (tmux, 60×20): an event that arrives while
 * a half-typed line is on screen is printed ABOVE the prompt, and the prompt
 * with the whole half-typed line (wrapped or not) is redrawn below it, cursor
 * where it was (STYLE.md habit 11).
 *
 * readline in tmux can misplace a character typed right after Left-arrow keys
 * (plain `node` does the same), so these tests never type after moving the
 * cursor: the screen layout is the point.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupTmux, frame, hasCommand, startTmux, type TmuxSession } from '../helpers/cli.js';
import { patience } from '../helpers/patience.js';

const WIDTH = 60;
const PROMPT = 'socklab> ';

const clients = new Set<net.Socket>();

afterEach(async () => {
  for (const c of clients) c.destroy();
  clients.clear();
  await cleanupTmux();
});

/** The rows a prompt with `typed` occupies on a WIDTH-column screen. */
function promptRows(typed: string): string[] {
  const full = PROMPT + typed;
  const rows: string[] = [];
  for (let i = 0; i < full.length; i += WIDTH) rows.push(full.slice(i, i + WIDTH).trimEnd());
  return rows;
}

/** Rows of the screen; the screen is already trimmed of trailing empty rows. */
const rowsOf = (screen: string): string[] => screen.split('\n');

/** True when the screen ends with exactly the prompt rows for `typed`. */
function endsWithPrompt(screen: string, typed: string): boolean {
  const want = promptRows(typed);
  return rowsOf(screen).slice(-want.length).join('\n') === want.join('\n');
}

/** Start socklab, open an echo server, return the terminal and the port. */
async function echoServer(): Promise<{ term: TmuxSession; port: number }> {
  const term = await startTmux([], { width: WIDTH, height: 20 });
  await term.waitForScreen((s) => rowsOf(s).at(-1) === PROMPT.trimEnd(), 10_000, 'the first prompt');
  await term.type('.listen 0 --reply echo');
  await term.sendKeys('Enter');
  const screen = await term.waitForScreen(
    (s) => /listening on 127\.0\.0\.1:\d+ /.test(s) && rowsOf(s).at(-1) === PROMPT.trimEnd(),
    5000,
    '"listening on 127.0.0.1:PORT" and a new prompt',
  );
  const port = Number(/listening on 127\.0\.0\.1:(\d+) /.exec(screen)![1]);
  expect(port).toBeGreaterThan(0);
  return { term, port };
}

/** Connect a node client, send `peer says hi\n`, resolve once the echo came back. */
async function peerSaysHi(port: number): Promise<{ socket: net.Socket; received: () => string; waitFor: (text: string) => Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  clients.add(socket);
  let received = '';
  const waiters = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('utf8');
    for (const w of [...waiters]) w();
  });
  const waitFor = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`client waited ${patience(5000)} ms for ${JSON.stringify(text)}; got ${JSON.stringify(received)}`)), patience(5000));
      const check = () => {
        if (!received.includes(text)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write('peer says hi\n');
  await waitFor('peer says hi\n');
  return { socket, received: () => received, waitFor };
}

/** Where the cursor must be when it sits `fromEnd` characters before the end of `typed`, the prompt's first row at `row`. */
function cursorAt(typed: string, fromEnd: number, row: number): { x: number; y: number } {
  const offset = PROMPT.length + typed.length - fromEnd;
  return { x: offset % WIDTH, y: row + Math.floor(offset / WIDTH) };
}

/** The checks shared by both layouts, after the peer's events were shown. */
function assertEventsAbovePrompt(screen: string, typed: string): number {
  const rows = rowsOf(screen);
  const want = promptRows(typed);
  const promptRow = rows.length - want.length;
  const why = `\nthe screen:\n${frame(screen)}`;
  // The last non-empty rows are exactly the prompt and the whole half-typed line.
  expect(rows.slice(promptRow), `prompt rows${why}`).toEqual(want);
  // Joined across the wrap (a row's trailing blank is not captured: pad it back).
  const joined = rows.slice(promptRow).map((r, i, all) => (i < all.length - 1 ? r.padEnd(WIDTH) : r)).join('');
  expect(joined, why).toBe(PROMPT + typed);
  // The peer's events are above it, each on its own row, after the listening line.
  const listening = rows.findIndex((r) => r.includes('listening on 127.0.0.1:'));
  for (const text of ['accepted by s1 from 127.0.0.1:', '← 13 B  "peer says hi\\n"', '→ 13 B  "peer says hi\\n"']) {
    const at = rows.findIndex((r) => r.includes(text));
    expect(at, `row of ${JSON.stringify(text)}${why}`).toBeGreaterThan(listening);
    expect(at, `row of ${JSON.stringify(text)}${why}`).toBeLessThan(promptRow);
    expect(rows[at], `event row ${at} holds typed text${why}`).not.toContain(typed.slice(0, 12));
  }
  // No stale copy of the half-typed line is left above the events, and nothing of an event is in the prompt rows.
  expect(screen.split(want[0]!).length - 1, `copies of the prompt row${why}`).toBe(1);
  for (const row of rows.slice(promptRow)) expect(row, why).not.toMatch(/peer says|←|→|accepted|\d\d:\d\d:\d\d/);
  return promptRow;
}

describe.skipIf(!hasCommand('tmux'))('events above a half-typed line, in a 60-column tmux', () => {
  it('keeps a wrapped half-typed line intact below the event, cursor in the middle', async () => {
    const { term, port } = await echoServer();
    // 9 + 70 columns: the line wraps onto a second row.
    const typed = '.sendln c1 the quick brown fox jumps over the lazy dog; 0123456789 ok';
    expect(PROMPT.length + typed.length).toBeGreaterThan(WIDTH);
    await term.type(typed);
    let screen = await term.waitForScreen((s) => endsWithPrompt(s, typed), 5000, 'the typed line');
    const firstRow = rowsOf(screen).length - promptRows(typed).length;
    await term.sendKeys('Left', 'Left', 'Left', 'Left', 'Left', 'Left');
    const before = cursorAt(typed, 6, firstRow);
    await term.waitForCursor(before.x, before.y);

    const peer = await peerSaysHi(port);
    screen = await term.waitForScreen(
      (s) => s.includes('← 13 B') && s.includes('→ 13 B') && rowsOf(s).at(-1)!.endsWith(typed.slice(-8)),
      5000,
      'the events and the redrawn half-typed line',
    );
    const promptRow = assertEventsAbovePrompt(screen, typed);
    expect(promptRow, `the prompt moved down below the events\n${frame(screen)}`).toBeGreaterThan(firstRow);
    // The cursor is back where it was in the line: 6 characters before the end.
    const after = cursorAt(typed, 6, promptRow);
    await term.waitForCursor(after.x, after.y, 2000);

    // Enter runs the whole line (cursor position does not matter): the peer gets the text.
    await term.sendKeys('Enter');
    const payload = typed.slice('.sendln c1 '.length);
    await peer.waitFor(`${payload}\n`);
    expect(peer.received()).toBe(`peer says hi\n${payload}\n`);
    await term.waitForScreen((s) => s.includes(`→ ${payload.length + 1} B`) && rowsOf(s).at(-1) === PROMPT.trimEnd(), 5000, 'the send event and a fresh prompt');
  });

  it('keeps a short half-typed line intact below the event, cursor at its end', async () => {
    const { term, port } = await echoServer();
    const typed = '.sendln c1 short one';
    await term.type(typed);
    let screen = await term.waitForScreen((s) => endsWithPrompt(s, typed), 5000, 'the typed line');
    const firstRow = rowsOf(screen).length - 1;
    const before = cursorAt(typed, 0, firstRow);
    await term.waitForCursor(before.x, before.y);

    const peer = await peerSaysHi(port);
    screen = await term.waitForScreen(
      (s) => s.includes('← 13 B') && s.includes('→ 13 B') && rowsOf(s).at(-1)!.endsWith(typed),
      5000,
      'the events and the redrawn half-typed line',
    );
    const promptRow = assertEventsAbovePrompt(screen, typed);
    const after = cursorAt(typed, 0, promptRow);
    await term.waitForCursor(after.x, after.y, 2000);

    await term.sendKeys('Enter');
    await peer.waitFor('short one\n');
    expect(peer.received()).toBe('peer says hi\nshort one\n');
    await term.waitForScreen((s) => s.includes('→ 10 B  "short one\\n"') && rowsOf(s).at(-1) === PROMPT.trimEnd(), 5000, 'the send event and a fresh prompt');
  });
});
