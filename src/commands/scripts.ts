import { appendFileSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import vm from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import { SocklabError, messageOf } from '../errors.js';
import { parseDuration } from '../parse/duration.js';
import { decodePayload } from '../parse/payload.js';
import { escapeBytes } from '../render/escape.js';
import { isLive } from '../session/endpoint.js';
import { WAITABLE, type WaitableEvent } from '../session/event-queue.js';
import { parseRegexPattern, type Pattern } from '../session/expect.js';
import type { Session } from '../session/session.js';
import { runScript } from '../script/runner.js';
import { defineCommand } from './define.js';
import { isCommandLine, prepareCommand } from './dispatch.js';

/** Default time `.wait` and `.expect` give an event before they fail. */
export const DEFAULT_WAIT = 5000;

const TIMEOUT = { timeout: { type: 'duration', value: 'MS', help: `give up after this long (default ${DEFAULT_WAIT / 1000}s)` } } as const;

/** `… --timeout 2s` at the end of a payload line belongs to the command, as SPEC writes it. */
function trailingTimeout(text: string): { text: string; timeout?: number } {
  const m = /\s--timeout(?:=|\s+)(\S+)\s*$/.exec(text);
  return m?.[1] === undefined ? { text } : { text: text.slice(0, m.index), timeout: parseDuration(m[1]) };
}

export const wait = defineCommand({
  name: 'wait',
  group: 'scripts',
  summary: 'block until an endpoint has an event (events queue: no race)',
  args: { usage: `.wait TARGET ${WAITABLE.join('|')} [--timeout MS] [as NAME]`, positionals: ['TARGET', 'EVENT'], alias: true, options: TIMEOUT },
  help:
    'An event that already happened and that no earlier .wait on the same target and kind consumed counts at once, ' +
    'so `.connect s1` then `.wait s1 accept as peer` never races. `as NAME` names the accepted socket.',
  examples: ['.wait s1 accept as peer', '.wait c1 data --timeout 2s', '.wait c1 close'],
  blocks: true,
  check(a) {
    const kind = a.positionals[1] ?? '';
    if (!(WAITABLE as readonly string[]).includes(kind)) {
      throw new SocklabError('E_USAGE', `cannot wait for "${kind}": use one of ${WAITABLE.join(', ')}`);
    }
    if (a.alias !== undefined && kind !== 'accept') throw new SocklabError('E_USAGE', '`as NAME` goes with accept: it names the accepted socket');
  },
  async run(ctx, a) {
    const [ref = '', kind = ''] = a.positionals;
    if (a.alias !== undefined) ctx.session.checkAlias(a.alias);
    const ep = ctx.session.get(ref);
    const ms = (a.options.timeout as number | undefined) ?? DEFAULT_WAIT;
    const describe = () => `${ep.id} is ${ep.state}`;
    const socketId = await ctx.session.events.wait(ep.id, kind as WaitableEvent, ms, describe, ctx.signal);
    if (socketId === undefined) return;
    const accepted = ctx.session.get(socketId);
    if (a.alias !== undefined) ctx.session.setAlias(accepted, a.alias);
    // The queue may hand over an accept from long ago: say so when that socket is gone already.
    if (!isLive(accepted)) ctx.print(`${a.alias ?? accepted.id} is ${accepted.id}, accepted earlier and already ${accepted.state}`);
  },
});

function readPattern(text: string): Pattern {
  const regex = parseRegexPattern(text);
  return regex ? { kind: 'regex', regex } : { kind: 'bytes', bytes: decodePayload(text) };
}

/** `"PING\n"` — received bytes for a message line, escaped and cut. */
function shown(data: Buffer): string {
  const { text, omitted } = escapeBytes(data, 200);
  return `"${text}"${omitted > 0 ? ` … (+${omitted} B)` : ''}`;
}

export const expect = defineCommand({
  name: 'expect',
  group: 'scripts',
  summary: 'block until the bytes received since the last match contain PATTERN',
  args: { usage: '.expect ID PATTERN [--timeout MS]', positionals: ['ID', 'PATTERN'], rest: true, options: TIMEOUT },
  help:
    'PATTERN is payload syntax (text with escapes, "quoted", hex:…) or /regex/flags over the UTF-8 text, run by RE2 in linear time ' +
    '(flags i m s u; g changes nothing, y anchors at the first unmatched byte; no backreferences or lookaround). ' +
    'It matches across chunk boundaries; a match consumes the bytes up to its end. A miss shows what did arrive.',
  examples: ['.expect c1 "You said"', '.expect c1 /HTTP\\/1\\.1 200/ --timeout 2s', '.expect peer hex:00 ff'],
  blocks: true,
  check(a) {
    const { text } = trailingTimeout(a.positionals[1] ?? '');
    if (!text.trim().startsWith('file:')) readPattern(text.trim());
  },
  async run(ctx, a) {
    const [ref = '', rest = ''] = a.positionals;
    const { text, timeout } = trailingTimeout(rest);
    const pattern = readPattern(text.trim());
    const ep = ctx.session.getSocket(ref);
    const ms = timeout ?? (a.options.timeout as number | undefined) ?? DEFAULT_WAIT;
    const line = `.expect ${ref} ${rest}`.trim();
    const s = ctx.session;
    try {
      const received = await s.expects.expect(ep.id, pattern, ms, () => !isLive(ep) || ep.socket.readableEnded, ctx.signal);
      s.emit({ type: 'expect-ok', t: s.now(), id: ep.id, line, received });
    } catch (err) {
      const received = (err as { received?: Buffer }).received ?? Buffer.alloc(0);
      s.emit({ type: 'expect-fail', t: s.now(), id: ep.id, line, received });
      const wanted = pattern.kind === 'bytes' ? shown(pattern.bytes) : text.trim();
      const code = (err as { code?: string }).code === 'E_CANCELLED' ? 'E_CANCELLED' : 'E_EXPECT';
      throw new SocklabError(code, `expect ${ep.id} ${wanted} ${messageOf(err).replace(/^expect \S+ /, '')}; received ${shown(received)}`, { cause: err });
    }
  },
});

export const sleepCommand = defineCommand({
  name: 'sleep',
  group: 'scripts',
  summary: 'pause the script (or the prompt) for a while',
  args: { usage: '.sleep MS', positionals: ['MS'] },
  help: 'Durations take ms or a suffix: 500ms, 2s, 1m. Prefer .wait and .expect: they wait exactly as long as needed.',
  examples: ['.sleep 500ms', '.sleep 2s'],
  blocks: true,
  check: (a) => void parseDuration(a.positionals[0] ?? ''),
  async run(ctx, a) {
    try {
      await sleep(parseDuration(a.positionals[0] ?? ''), undefined, { signal: ctx.signal });
    } catch (err) {
      if (ctx.signal?.aborted) throw new SocklabError('E_CANCELLED', 'sleep cancelled', { cause: err });
      throw err;
    }
  },
});

/** Recorders by session: one `.record` at a time per session. */
const recorders = new WeakMap<Session, { file: string; stop: () => void }>();

/**
 * The files each session is replaying now, outermost first. Their lines are
 * not typed: `.record` keeps the `.replay FILE` line only, or replaying the
 * recording would run the file's lines twice. A file already on the stack is
 * refused: a script that replays itself would never end.
 */
const replaying = new WeakMap<Session, string[]>();
const replayDepth = (session: Session): number => replaying.get(session)?.length ?? 0;

/**
 * True when a JavaScript line is complete on its own. Checked inside an async
 * function, so a top-level `await` line (which the REPL runs) is kept.
 */
function compiles(code: string): boolean {
  try {
    new vm.Script(`(async () => {\n${code}\n})`);
    return true;
  } catch {
    return false;
  }
}

export const record = defineCommand({
  name: 'record',
  group: 'scripts',
  summary: 'append every command line from now on to FILE (.record stop ends)',
  args: { usage: '.record FILE | stop', positionals: ['FILE'] },
  help: 'Each line is written as it runs, so a crash loses nothing. Lines that do not parse are left out. The file replays with `socklab FILE` or .replay.',
  examples: ['.record lesson.lab', '.record stop'],
  run(ctx, a) {
    const file = a.positionals[0] ?? '';
    const current = recorders.get(ctx.session);
    if (file === 'stop') {
      if (!current) throw new SocklabError('E_STATE', 'not recording: .record FILE starts');
      current.stop();
      recorders.delete(ctx.session);
      ctx.print(`recording stopped: ${current.file}`);
      return;
    }
    if (current) throw new SocklabError('E_STATE', `already recording to ${current.file}: .record stop first`);
    try {
      appendFileSync(file, '');
    } catch (err) {
      throw new SocklabError('E_IO', `cannot record to ${file}: ${messageOf(err)}`, { cause: err });
    }
    const depth = replayDepth(ctx.session);
    const stop = ctx.session.subscribe((ev) => {
      if (ev.type !== 'command' || /^\.record\b/.test(ev.line) || ev.line.includes('\n')) return;
      if (replayDepth(ctx.session) > depth) return;
      if (isCommandLine(ev.line)) {
        try {
          prepareCommand(ctx, ev.line);
        } catch {
          return;
        }
        // The REPL evaluates an unfinished JavaScript line (`function f() {`) too, before it
        // asks for the rest; the whole entry has a newline and is left out, so is its first line.
      } else if (!compiles(ev.line)) return;
      try {
        appendFileSync(file, `${ev.line}\n`);
      } catch (err) {
        // A throwing subscriber would end the process (the session rethrows it); stop recording instead.
        stop();
        recorders.delete(ctx.session);
        ctx.print(`recording stopped: cannot write ${file}: ${messageOf(err)}`);
      }
    });
    recorders.set(ctx.session, { file, stop });
    ctx.print(`recording to ${file} (appending)`);
  },
});

export const replay = defineCommand({
  name: 'replay',
  group: 'scripts',
  summary: 'run a script inside this session',
  args: {
    usage: '.replay [--allow-js] [--keep-going] FILE',
    positionals: ['FILE'],
    options: {
      'allow-js': { type: 'flag', help: 'run the JavaScript lines of the script too' },
      'keep-going': { type: 'flag', help: 'report every failing line instead of stopping at the first' },
    },
  },
  help: 'Same rules as `socklab FILE`: lines run in order, the first failure stops it, JavaScript lines need --allow-js.',
  examples: ['.replay lesson.lab', '.replay --allow-js demo.lab'],
  blocks: true,
  async run(ctx, a) {
    const file = a.positionals[0] ?? '';
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SocklabError('E_IO', `cannot read ${file}: ${messageOf(err)}`, { cause: err });
    }
    const stack = replaying.get(ctx.session) ?? [];
    const path = resolve(file);
    if (stack.includes(path)) throw new SocklabError('E_STATE', `${file} is already replaying: a script that replays itself would never end`);
    replaying.set(ctx.session, stack);
    stack.push(path);
    let code: number;
    try {
      code = await runScript(ctx, { name: file, source, allowJs: a.options['allow-js'] === true, keepGoing: a.options['keep-going'] === true });
    } finally {
      stack.splice(stack.lastIndexOf(path), 1);
    }
    if (code !== 0) throw new SocklabError('E_SCRIPT', `${file} failed (exit code ${code})`);
  },
});
