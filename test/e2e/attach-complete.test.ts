/**
 * Everyday interactivity of the built CLI in a real terminal (tmux): `.attach`
 * (telnet-style typing into a socket), Tab completion, Ctrl+D and
 * Ctrl+C. Bytes are checked where a plain `net` peer server receives them,
 * byte for byte; everything else on the screen. Nothing waits on a fixed delay:
 * the screen is polled (waitForScreen) and sockets are awaited.
 */
import { once } from 'node:events';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupTmux, frame, hasCommand, startTmux, type TmuxOptions, type TmuxSession } from '../helpers/cli.js';
import { closeAll, collect, peerServer, receive, type Peer } from '../helpers/loopback.js';
import { enter, keepDeadPane, lastRow, paneExit, ready, rowsOf, tabTab, waitForPrompt } from '../helpers/tmux-repl.js';

/** Per-test hang detector (a tmux pane on a loaded machine is slow to start and to draw); see vitest.config.ts. */
const LIMIT = 120_000;

afterEach(async () => {
  await cleanupTmux();
  await closeAll();
});

async function socklab(options: TmuxOptions = {}): Promise<TmuxSession> {
  // --no-color as well as NO_COLOR: a test that unsets a variable must unset NO_COLOR too (see `unset`).
  return ready(await startTmux(['--no-time', '--no-color'], { width: 100, height: 30, ...options }));
}

/** socklab connected (as c1, or `as NAME`) to a bare peer server; the peer's side of the socket, collecting. */
async function connectedToPeer(name?: string): Promise<{ term: TmuxSession; peer: Peer; socket: net.Socket; got: () => Buffer }> {
  const peer = await peerServer();
  const term = await socklab();
  await enter(term, `.connect 127.0.0.1:${peer.port}${name ? ` as ${name}` : ''}`, (s) => s.includes(`→ 127.0.0.1:${peer.port}`) && lastRow(s) === 'socklab>');
  const socket = await peer.nextSocket();
  const { data } = collect(socket);
  return { term, peer, socket, got: data };
}

/** The screen has a row equal to `row` (trailing blanks are already trimmed). */
const hasRow = (screen: string, row: string): boolean => rowsOf(screen).includes(row);

describe.skipIf(!hasCommand('tmux'))('.attach: typed lines go to a socket, like telnet', () => {
  it(
    'c1> prompt; lines reach the peer with the end-of-line (crlf too); JS is not evaluated; events print above; .detach',
    async () => {
      const { term, socket, got } = await connectedToPeer();
      let screen = await enter(term, '.attach c1', (s) => lastRow(s) === 'c1>');
      expect(screen).toContain('attached to c1: lines you type go to it (.detach or Ctrl+] to return)');

      let arrived = receive(socket, 'hello peer\n');
      await term.type('hello peer');
      await term.sendKeys('Enter');
      await arrived;
      await term.waitForScreen((s) => hasRow(s, 'c1   → 11 B  "hello peer\\n"') && lastRow(s) === 'c1>', 5000, 'the send event');

      // Not JavaScript while attached: the peer gets the three characters, no `2` is printed.
      arrived = receive(socket, '1+1\n');
      await term.type('1+1');
      await term.sendKeys('Enter');
      await arrived;
      screen = await term.waitForScreen((s) => hasRow(s, 'c1   → 4 B  "1+1\\n"') && lastRow(s) === 'c1>', 5000, 'the send of 1+1');
      expect(hasRow(screen, '2'), frame(screen)).toBe(false);

      // An event from the peer prints above the prompt and the half-typed line, which stays.
      await term.type('half typed');
      await term.waitForScreen((s) => lastRow(s) === 'c1> half typed', 5000, 'the half-typed line');
      socket.write('from the peer\n');
      screen = await term.waitForScreen((s) => s.includes('← 14 B') && lastRow(s) === 'c1> half typed', 5000, 'the data event above the prompt');
      const rows = rowsOf(screen);
      expect(rows.at(-2), frame(screen)).toBe('c1   ← 14 B  "from the peer\\n"');
      arrived = receive(socket, 'half typed\n');
      await term.sendKeys('Enter');
      await arrived;

      // Dot-commands still work while attached; the end-of-line follows the session setting.
      await enter(term, '.set eol crlf', undefined, 'the prompt after .set', 'c1>');
      arrived = receive(socket, 'crlf line\r\n');
      await term.type('crlf line');
      await term.sendKeys('Enter');
      await arrived;
      await term.waitForScreen((s) => hasRow(s, 'c1   → 11 B  "crlf line\\r\\n"'), 5000, 'the crlf send event');

      screen = await enter(term, '.detach', (s) => lastRow(s) === 'socklab>');
      expect(screen).toContain('detached from c1');
      // Detached: JavaScript again, and nothing more reaches the peer.
      screen = await enter(term, '20+22', (s) => hasRow(s, '42') && lastRow(s) === 'socklab>');
      arrived = receive(socket, 'done\r\n');
      await enter(term, '.sendln c1 done', (s) => hasRow(s, 'c1   → 6 B  "done\\r\\n"'));
      await arrived;
      expect(got().toString('latin1')).toBe('hello peer\n1+1\nhalf typed\ncrlf line\r\ndone\r\n');
    },
    LIMIT,
  );

  it(
    'the prompt shows the alias; Ctrl+] detaches',
    async () => {
      const { term, socket } = await connectedToPeer('bob');
      await enter(term, '.attach bob', (s) => lastRow(s) === 'bob>');
      const arrived = receive(socket, 'hi bob\n');
      await term.type('hi bob');
      await term.sendKeys('Enter');
      await arrived;
      await term.sendKeys('C-]');
      const screen = await term.waitForScreen((s) => lastRow(s) === 'socklab>', 5000, 'the socklab prompt after Ctrl+]');
      expect(hasRow(screen, 'detached from c1'), frame(screen)).toBe(true);
    },
    LIMIT,
  );

  // Was a bug: Ctrl+] is handled by a keypress listener, but readline still inserts
  // the \x1d byte into the line being edited (invisible on screen). The next
  // line typed after detaching therefore starts with \x1d: `6*7` gives
  // "Uncaught SyntaxError: Invalid or unexpected token", `.ls` too.
  it(
    'the line typed after Ctrl+] runs as typed',
    async () => {
      const { term } = await connectedToPeer();
      await enter(term, '.attach c1', (s) => lastRow(s) === 'c1>');
      await term.sendKeys('C-]');
      await term.waitForScreen((s) => lastRow(s) === 'socklab>', 5000, 'the socklab prompt after Ctrl+]');
      const screen = await enter(term, '6*7', (s) => (hasRow(s, '42') || s.includes('SyntaxError')) && lastRow(s) === 'socklab>');
      expect(screen, frame(screen)).not.toContain('SyntaxError');
      expect(hasRow(screen, '42'), frame(screen)).toBe(true);
    },
    LIMIT,
  );

  // Was a bug: a line that is just "." (SMTP's end of DATA, a classic telnet session)
  // is not sent while attached: node:repl takes it for a REPL keyword and
  // socklab answers "unknown command .null: .help lists the commands".
  it(
    'a line that is just "." goes to the socket',
    async () => {
      const { term, socket, got } = await connectedToPeer();
      await enter(term, '.attach c1', (s) => lastRow(s) === 'c1>');
      await term.type('.');
      await term.sendKeys('Enter');
      const arrived = receive(socket, 'after\n');
      await term.type('after');
      await term.sendKeys('Enter');
      await arrived;
      expect(got().toString('latin1')).toBe('.\nafter\n');
    },
    LIMIT,
  );
});

describe.skipIf(!hasCommand('tmux'))('Tab completion', () => {
  it(
    '.se Tab Tab lists .send .sendln .set .serve',
    async () => {
      const term = await socklab();
      await term.type('.se');
      await tabTab(term);
      const screen = await term.waitForScreen((s) => rowsOf(s).some((r) => r.startsWith('.send ')), 5000, 'the list of candidates');
      const list = rowsOf(screen).find((r) => r.startsWith('.send '))!;
      expect(list.split(/\s+/)).toEqual(['.send', '.sendln', '.set', '.serve']);
      expect(lastRow(screen)).toBe('socklab> .se');
    },
    LIMIT,
  );

  it(
    '.lis Tab completes the command name',
    async () => {
      const term = await socklab();
      await term.type('.lis');
      await term.sendKeys('Tab');
      await term.waitForScreen((s) => lastRow(s) === 'socklab> .listen', 5000, '.listen completed');
    },
    LIMIT,
  );

  // Was a bug: a unique completion is inserted without the space after it, so
  // `.lis` Tab `0` Enter runs `.listen0`: "unknown command .listen0: did you
  // mean .listen?". (Shells and the brief: `.lis<Tab>` → `.listen `.)
  it(
    '.lis Tab is followed by a space, so the argument can be typed at once',
    async () => {
      const term = await socklab();
      await term.type('.lis');
      await term.sendKeys('Tab');
      await term.waitForScreen((s) => lastRow(s).startsWith('socklab> .listen'), 5000, '.listen completed');
      await term.type('0');
      await term.sendKeys('Enter');
      const screen = await term.waitForScreen((s) => /listening on|unknown command/.test(s), 5000, 'the outcome');
      expect(screen).toMatch(/s1 {3}listening on 127\.0\.0\.1:\d+/);
    },
    LIMIT,
  );

  it(
    '.listen 0 --re Tab completes --reply, and the completed line runs',
    async () => {
      const term = await socklab();
      await term.type('.listen 0 --re');
      await term.sendKeys('Tab');
      await term.waitForScreen((s) => lastRow(s) === 'socklab> .listen 0 --reply', 5000, '--reply completed');
      await term.type(' echo');
      await term.sendKeys('Enter');
      await term.waitForScreen((s) => /s1 {3}listening on 127\.0\.0\.1:\d+ {2}\(reply: echo\)/.test(s), 5000, 'the echo server');
    },
    LIMIT,
  );

  it(
    '.send Tab Tab lists the open ids, the aliases and all; c1.remoteP Tab completes (JS sees the bound ids)',
    async () => {
      const term = await socklab();
      const listening = await enter(term, '.listen 0 as srv', (s) => s.includes('listening on'));
      const port = /listening on 127\.0\.0\.1:(\d+) as srv/.exec(listening)![1]!;
      await enter(term, '.connect srv as bob', (s) => s.includes('accepted by s1') && s.includes('as bob') && lastRow(s) === 'socklab>');
      await term.type('.send ');
      await tabTab(term);
      const screen = await term.waitForScreen((s) => rowsOf(s).some((r) => r.startsWith('all ')), 5000, 'the list of targets');
      expect(rowsOf(screen).find((r) => r.startsWith('all '))!.split(/\s+/)).toEqual(['all', 'bob', 'c1', 'c2', 's1', 'srv']);
      await term.sendKeys('C-u');
      await waitForPrompt(term);

      await term.type('c1.remoteP');
      await term.sendKeys('Tab');
      await term.waitForScreen((s) => lastRow(s) === 'socklab> c1.remotePort', 5000, 'c1.remotePort completed');
      await term.sendKeys('Enter');
      await term.waitForScreen((s) => hasRow(s, port) && lastRow(s) === 'socklab>', 5000, `the port ${port}`);
    },
    LIMIT,
  );

  it(
    '.wait c1 Tab Tab lists the event names',
    async () => {
      const term = await socklab();
      await enter(term, '.listen 0', (s) => s.includes('listening on'));
      await enter(term, '.connect s1', (s) => s.includes('connected 127.0.0.1') && lastRow(s) === 'socklab>');
      await term.type('.wait c1 ');
      await tabTab(term);
      const screen = await term.waitForScreen((s) => s.includes('timeout') && s.includes('listening  '), 5000, 'the list of events');
      const rows = rowsOf(screen);
      const start = rows.findIndex((r) => r.startsWith('accept '));
      const words = rows.slice(start, -1).join(' ').trim().split(/\s+/);
      expect(words).toEqual(['accept', 'close', 'connect', 'data', 'datagram', 'end', 'error', 'listening', 'message', 'secure', 'timeout']);
      expect(lastRow(screen)).toBe('socklab> .wait c1');
    },
    LIMIT,
  );

  it(
    '.replay ex Tab completes examples/, then a lesson file',
    async () => {
      const term = await socklab();
      await term.type('.replay ex');
      await term.sendKeys('Tab');
      await term.waitForScreen((s) => lastRow(s) === 'socklab> .replay examples/', 5000, 'examples/ completed');
      await term.type('echo');
      await term.sendKeys('Tab');
      await term.waitForScreen((s) => lastRow(s) === 'socklab> .replay examples/echo-server.lab', 5000, 'the lesson file completed');
    },
    LIMIT,
  );
});

// History across restarts and sessions: test/e2e/tmux-history.test.ts.

describe.skipIf(!hasCommand('tmux'))('Ctrl+D and Ctrl+C', () => {
  it(
    'Ctrl+D on an empty line leaves with exit code 0 and closes the endpoints: the peer sees FIN',
    async () => {
      const { term, socket } = await connectedToPeer();
      await keepDeadPane(term);
      const fin = once(socket, 'end');
      await term.sendKeys('C-d');
      await fin;
      expect(await paneExit(term)).toBe(0);
      const screen = await term.capture();
      expect(screen).toContain('c1   → FIN (we ended our side; still reading)');
      expect(screen).toContain('closed 0 servers and 1 socket; bye');
    },
    LIMIT,
  );

  it(
    'Ctrl+C on a half-typed line clears it, sends nothing, and the REPL lives on',
    async () => {
      const { term, socket, got } = await connectedToPeer();
      await term.type('.sendln c1 never sent');
      await term.waitForScreen((s) => lastRow(s) === 'socklab> .sendln c1 never sent', 5000, 'the half-typed line');
      await term.sendKeys('C-c');
      await waitForPrompt(term);
      await enter(term, '6*7', (s) => hasRow(s, '42') && lastRow(s) === 'socklab>');
      const arrived = receive(socket, 'marker\n');
      await enter(term, '.sendln c1 marker', (s) => s.includes('→ 7 B'));
      await arrived;
      expect(got().toString('latin1')).toBe('marker\n');
    },
    LIMIT,
  );

  // Was a bug: the goodbye line is printed "above the prompt", which redraws the
  // prompt after it, so the process leaves `socklab> ` as the last thing on the
  // terminal and the shell's prompt lands on the same row (`socklab> $ `).
  it(
    'after .exit the goodbye is the last thing on screen, not a fresh prompt',
    async () => {
      const term = await socklab();
      await keepDeadPane(term);
      await term.type('.exit');
      await term.sendKeys('Enter');
      expect(await paneExit(term)).toBe(0);
      const rows = rowsOf(await term.capture()).filter((r) => r !== '' && !r.startsWith('Pane is dead'));
      expect(rows.at(-1)).toBe('closed 0 servers and 0 sockets; bye');
    },
    LIMIT,
  );
});
