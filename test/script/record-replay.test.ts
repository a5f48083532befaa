import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startRepl } from '../../src/repl/start.js';
import type { SessionEvent } from '../../src/session/events.js';
import { createSession, type Session } from '../../src/session/session.js';
import { defaultSettings } from '../../src/settings.js';
import { cleanupProcesses, jsonEvents, runCli } from '../helpers/cli.js';
import { closeAll, tempDir, track } from '../helpers/loopback.js';
import { patience } from '../helpers/patience.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

const PROMPT = 'socklab> ';

/**
 * A tiny in-process REPL driver (PassThrough streams, no terminal). `type`
 * sends one line and resolves once the REPL has shown its next prompt for it
 * (a blocking command shows it when it completed) and, if given, once the
 * output after the line shows `until`. It waits on output, never on time, and
 * shows everything received when it gives up.
 */
function startLab() {
  const input = new PassThrough();
  const output = new PassThrough();
  const session = createSession();
  const events: SessionEvent[] = [];
  session.subscribe((ev) => events.push(ev));
  let text = '';
  const listeners = new Set<() => void>();
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => {
    text += chunk;
    for (const fn of [...listeners]) fn();
  });
  const repl = startRepl({ input, output, session, settings: defaultSettings({ time: false, color: false }), terminal: false });
  let typed = 0;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      input.end();
      await repl.closed;
    })();
    return closing;
  };
  track(close);

  const waitOutput = (test: () => boolean, what: string, ms = 5000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!test()) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`REPL output did not show ${what} within ${patience(ms)} ms; received:\n${text || '(nothing)'}`));
      }, patience(ms));
      listeners.add(check);
      check();
    });

  const prompts = () => text.split(PROMPT).length - 1;

  return {
    session: session as Session,
    events,
    output: () => text,
    close,
    /** Type the first line of an unfinished JavaScript entry: the REPL answers with its `... ` prompt. */
    async typePartial(line: string): Promise<void> {
      const from = text.length;
      input.write(`${line}\n`);
      await waitOutput(() => text.slice(from).includes('... '), `the ... prompt after ${JSON.stringify(line)}`);
    },
    async type(line: string, until?: string | RegExp): Promise<void> {
      const from = text.length;
      typed++;
      const want = typed + 1; // the first prompt, then one per line
      input.write(`${line}\n`);
      await waitOutput(() => prompts() >= want, `prompt #${want} after ${JSON.stringify(line)}`);
      if (until !== undefined) {
        const seen = () => (typeof until === 'string' ? text.slice(from).includes(until) : until.test(text.slice(from)));
        await waitOutput(seen, `${String(until)} after ${JSON.stringify(line)}`);
      }
    },
  };
}

/** The lesson of the round trip, with what to wait for after each line. */
const LESSON: Array<[string, (string | RegExp)?]> = [
  ['.listen 0 --reply echo', 'listening on'],
  ['.connect s1', 'c1   connected'],
  ['.wait s1 accept as peer'],
  ['.send c1 hi', 'c1   → 2 B'],
  ['.expect c1 hi', 'expect ok'],
  ['.close c1', 'c1   → FIN'],
  ['.wait peer close'],
];

type Projected = Array<[string, number?]>;

/** Per endpoint id: its event kinds in order, with byte counts for data and send. */
function perEndpoint(list: Array<{ kind: string; id?: string; bytes?: number }>): Record<string, Projected> {
  const out: Record<string, Projected> = {};
  for (const ev of list) {
    if (ev.id === undefined || ['command', 'command-error', 'note'].includes(ev.kind)) continue;
    (out[ev.id] ??= []).push(ev.bytes === undefined ? [ev.kind] : [ev.kind, ev.bytes]);
  }
  return out;
}

const fromSession = (events: SessionEvent[]) =>
  events.map((ev) => ({
    kind: ev.type,
    id: 'id' in ev ? ev.id : undefined,
    bytes: ev.type === 'data' || ev.type === 'send' ? ev.data.length : undefined,
  }));

const fromJson = (events: ReturnType<typeof jsonEvents>) =>
  events.map((ev) => ({ kind: ev.event, id: ev.id as string | undefined, bytes: typeof ev.bytes === 'number' ? ev.bytes : undefined }));

describe('.record then replay', () => {
  it('round trip: the replayed recording produces the same events as the typed session', async () => {
    const file = join(tempDir(), 'lesson.lab');
    const lab = startLab();
    await lab.type(`.record ${file}`, `recording to ${file}`);
    for (const [line, until] of LESSON) await lab.type(line, until);
    await lab.type('.record stop', 'recording stopped');
    await lab.close();
    expect(lab.output()).not.toMatch(/^!/m);

    expect(readFileSync(file, 'utf8')).toBe(LESSON.map(([line]) => `${line}\n`).join(''));

    const p = runCli(['--json', file]);
    const exit = await p.waitForExit(10_000);
    expect(exit.code, p.stdout() + p.stderr()).toBe(0);
    const replayed = jsonEvents(p.stdout());

    const typed = perEndpoint(fromSession(lab.events));
    const again = perEndpoint(fromJson(replayed));
    expect(Object.keys(again).sort()).toEqual(['c1', 'c2', 's1']);
    expect(again).toEqual(typed);
    // The shape of the lesson, spelled out (so the comparison cannot pass on two empty lists).
    expect(again.c1).toEqual([['connect'], ['send', 2], ['data', 2], ['expect-ok'], ['shutdown'], ['end'], ['close']]);
    expect(again.c2?.[0]).toEqual(['accept']);
    expect(again.s1).toEqual([['listening'], ['close']]);
    // The same commands ran, in the same order.
    const commands = (list: Array<{ kind: string; line?: unknown }>) => list.filter((ev) => ev.kind === 'command').map((ev) => ev.line);
    expect(commands(replayed.map((ev) => ({ kind: ev.event, line: ev.line })))).toEqual(LESSON.map(([line]) => line));
    expect(commands(lab.events.map((ev) => ({ kind: ev.type, line: ev.type === 'command' ? ev.line : undefined })))).toEqual([
      `.record ${file}`,
      ...LESSON.map(([line]) => line),
      '.record stop',
    ]);
  });

  it('appends to an existing file and writes each line as it runs', async () => {
    const file = join(tempDir(), 'append.lab');
    writeFileSync(file, '# kept from before\n.listen 0\n');
    const lab = startLab();
    await lab.type(`.record --append ${file}`, 'recording to');
    expect(readFileSync(file, 'utf8')).toBe('# kept from before\n.listen 0\n');
    await lab.type('.listen 0 --reply echo', 'listening on');
    // Read while still recording: the line is already in the file.
    expect(readFileSync(file, 'utf8')).toBe('# kept from before\n.listen 0\n.listen 0 --reply echo\n');
    await lab.type('.connect s1', 'connected');
    expect(readFileSync(file, 'utf8')).toBe('# kept from before\n.listen 0\n.listen 0 --reply echo\n.connect s1\n');
    await lab.type('.record stop', 'recording stopped');
    await lab.type('.ls');
    expect(readFileSync(file, 'utf8')).toBe('# kept from before\n.listen 0\n.listen 0 --reply echo\n.connect s1\n');
  });

  it('creates the file at once, even before a line is recorded', async () => {
    const file = join(tempDir(), 'new.lab');
    const lab = startLab();
    await lab.type(`.record ${file}`, 'recording to');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('keeps only lines that succeeded: not those that fail to parse, nor those that fail when run', async () => {
    const file = join(tempDir(), 'typos.lab');
    const lab = startLab();
    await lab.type(`.record ${file}`, 'recording to');
    await lab.type('.listen 0 --bogus', 'unknown option --bogus');
    await lab.type('.lisen 0', 'unknown command .lisen');
    await lab.type('.send c1', 'missing PAYLOAD');
    await lab.type('.listen 0', 'listening on');
    await lab.type('.close c9', 'no endpoint "c9"');
    await lab.type('.send zz hi', 'no endpoint "zz"');
    await lab.type('.record stop', 'recording stopped');
    expect(readFileSync(file, 'utf8')).toBe('.listen 0\n');
  });

  it('records JavaScript lines, but not the unfinished first line of a multi-line entry', async () => {
    const file = join(tempDir(), 'js.lab');
    const lab = startLab();
    await lab.type(`.record ${file}`, 'recording to');
    await lab.type('.listen 0', 'listening on');
    await lab.type('globalThis.answer = 6 * 7', '42');
    await lab.typePartial('function twice(x) {');
    await lab.type('  return 2 * x; }');
    await lab.type('answer', '42');
    await lab.type('await Promise.resolve(answer + 1)', '43');
    await lab.type('.record stop', 'recording stopped');
    // The whole function spans two lines and cannot be one script line: it is left out, and so is its first line.
    expect(readFileSync(file, 'utf8')).toBe('.listen 0\nglobalThis.answer = 6 * 7\nanswer\nawait Promise.resolve(answer + 1)\n');
    // And the recording replays (JavaScript needs --allow-js), top-level await included: script JS runs as typed.
    const p = runCli(['--json', '--allow-js', file]);
    expect((await p.waitForExit(10_000)).code, p.stdout() + p.stderr()).toBe(0);
    expect(jsonEvents(p.stdout()).filter((ev) => ev.event === 'command-error')).toEqual([]);
  });

  it('records a .replay line, not the lines the replayed file ran', async () => {
    const dir = tempDir();
    const inner = join(dir, 'inner.lab');
    writeFileSync(inner, '.listen 0 --reply echo\n.connect s1\n.send c1 hi\n.expect c1 hi\n');
    const file = join(dir, 'outer.lab');
    const lab = startLab();
    await lab.type(`.record ${file}`, 'recording to');
    await lab.type(`.replay ${inner}`, 'expect ok');
    await lab.type('.send c1 bye', 'c1   → 3 B');
    await lab.type('.record stop', 'recording stopped');
    expect(readFileSync(file, 'utf8')).toBe(`.replay ${inner}\n.send c1 bye\n`);
    // Replaying the recording runs the inner lines once: one server, one client, one accepted socket.
    // (The path was typed absolute: a script reads it only with --allow-read.)
    const p = runCli(['--json', '--allow-read', file]);
    expect((await p.waitForExit(10_000)).code, p.stdout()).toBe(0);
    const ids = new Set(jsonEvents(p.stdout()).map((ev) => ev.id).filter((id) => id !== undefined));
    expect([...ids].sort()).toEqual(['c1', 'c2', 's1']);
  });

  it('a file that cannot be written is an E_IO error, not a crash', async () => {
    const dir = tempDir();
    const lab = startLab();
    await lab.type(`.record ${dir}`, `cannot record to ${dir}`);
    expect(lab.events.filter((ev) => ev.type === 'command-error').map((ev) => (ev as { code: string }).code)).toEqual(['E_IO']);
    // Not recording: a new .record is allowed.
    await lab.type(`.record ${join(dir, 'ok.lab')}`, 'recording to');
  });

  it('writes to the file it opened: a folder removed (or a path swapped) meanwhile changes nothing, and the REPL lives on', async () => {
    const dir = join(tempDir(), 'gone');
    mkdirSync(dir);
    const lab = startLab();
    await lab.type(`.record ${join(dir, 'x.lab')}`, 'recording to');
    rmSync(dir, { recursive: true });
    await lab.type('.listen 0', 'listening on');
    await lab.type('.connect s1', 'connected');
    await lab.type('.record stop', 'recording stopped');
    expect(existsSync(dir)).toBe(false);
  });

  it('one recording at a time; .record stop when not recording is an error', async () => {
    const dir = tempDir();
    const lab = startLab();
    await lab.type('.record stop', 'not recording');
    await lab.type(`.record ${join(dir, 'a.lab')}`, 'recording to');
    await lab.type(`.record ${join(dir, 'b.lab')}`, `already recording to ${join(dir, 'a.lab')}`);
    const errors = lab.events.filter((ev) => ev.type === 'command-error').map((ev) => (ev as { code: string }).code);
    expect(errors).toEqual(['E_STATE', 'E_STATE']);
    expect(existsSync(join(dir, 'b.lab'))).toBe(false);
  });
});
