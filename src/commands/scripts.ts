import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SocklabError, messageOf } from '../errors.js';
import { parseDuration } from '../parse/duration.js';
import { decodePayload } from '../parse/payload.js';
import { escapeBytes } from '../render/escape.js';
import { isLive, kindOf, refusal } from '../session/endpoint.js';
import { WAITABLE, type WaitableEvent } from '../observers/event-queue.js';
import { parseRegexPattern, type Pattern } from '../observers/expect.js';
import type { Session } from '../session/session.js';
import { runScript } from '../script/runner.js';
import { defineCommand } from './define.js';
import { isCommandLine } from './dispatch.js';
import { payloadFileUse, permittedReader } from '../parse/payload-file.js';
import { checkFile, nestedPermissions, scriptPermissions } from '../script/permissions.js';
import { compiles, openRecordFile } from '../script/record-file.js';
import { readScriptFile } from '../script/source.js';
import { onSucceeded } from '../script/succeeded.js';
import { sessionVariables } from '../script/variables.js';

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

function readPattern(text: string, readFile?: (path: string) => Buffer): Pattern {
  const regex = parseRegexPattern(text);
  return regex ? { kind: 'regex', regex } : { kind: 'bytes', bytes: decodePayload(text, readFile === undefined ? {} : { readFile }) };
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
    'It matches across chunk boundaries (on a UDP socket: inside one datagram, any since the last match); a match consumes the bytes up to its end. A miss shows what did arrive.',
  examples: ['.expect c1 "You said"', '.expect c1 /HTTP\\/1\\.1 200/ --timeout 2s', '.expect peer hex:00 ff'],
  blocks: true,
  check(a) {
    const { text } = trailingTimeout(a.positionals[1] ?? '');
    if (!text.trim().startsWith('file:')) readPattern(text.trim());
  },
  files: (a) => payloadFileUse(trailingTimeout(a.positionals[1] ?? '').text.trim(), '.expect file:'),
  async run(ctx, a) {
    const [ref = '', rest = ''] = a.positionals;
    const { text, timeout } = trailingTimeout(rest);
    const pattern = readPattern(text.trim(), permittedReader(ctx.permissions, '.expect file:'));
    const ep = ctx.session.get(ref);
    const kind = kindOf(ep);
    if (!kind.receives) throw refusal(ep, 'expect');
    const ms = timeout ?? (a.options.timeout as number | undefined) ?? DEFAULT_WAIT;
    const line = `.expect ${ref} ${rest}`.trim();
    const s = ctx.session;
    try {
      const received = await s.expects.expect(ep.id, pattern, ms, () => !kind.mayReceive(ep), ctx.signal, kind.boundaries === true);
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

/** Lines `.record` leaves out: they only make sense typed (or would record the recording). */
const NOT_RECORDED = /^\.(record|attach|detach)\b/;

export const record = defineCommand({
  name: 'record',
  group: 'scripts',
  summary: 'write every line that succeeds from now on to FILE (.record stop ends)',
  args: {
    usage: '.record [--append | --force] FILE | stop',
    positionals: ['FILE'],
    options: {
      append: { type: 'flag', help: 'add to FILE, which must already be a socklab script' },
      force: { type: 'flag', help: 'overwrite FILE if it exists' },
    },
  },
  help:
    'Each line is written as it succeeds, so a crash loses nothing; failed lines are left out, and lines typed while ' +
    'attached are written as the `.sendln ID "…"` they were. FILE must not exist, unless --append (onto a socklab ' +
    'script: every line blank, a comment, a command or JavaScript) or --force. Regular files only (no FIFO or device). ' +
    'In a script, .record needs --allow-write. The file replays with `socklab FILE` or .replay.',
  examples: ['.record lesson.lab', '.record --append lesson.lab', '.record stop'],
  check(a) {
    if (a.options.append === true && a.options.force === true) throw new SocklabError('E_USAGE', '--append or --force, not both');
  },
  files: (a) => (a.positionals[0] === 'stop' ? [] : [{ path: a.positionals[0] ?? '', access: 'write', what: '.record' }]),
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
    const mode = a.options.append === true ? 'append' : a.options.force === true ? 'force' : 'new';
    const out = openRecordFile(checkFile(ctx.permissions, { path: file, access: 'write', what: '.record' }), file, mode, ctx.commands);
    const depth = replayDepth(ctx.session);
    const write = (line: string): void => {
      if (NOT_RECORDED.test(line) || line.includes('\n') || replayDepth(ctx.session) > depth) return;
      try {
        out.write(line);
      } catch (err) {
        // A throwing subscriber would end the process (the session rethrows it); stop recording instead.
        stop();
        ctx.print(`recording stopped: cannot write ${file}: ${messageOf(err)}`);
      }
    };
    // Dot-commands and attached lines once they succeeded; JavaScript as it is typed (the REPL
    // does not say whether it threw), when it is whole: an unfinished `function f() {` is left out.
    const offSucceeded = onSucceeded(ctx.session, write);
    const offJs = ctx.session.subscribe((ev) => {
      if (ev.type !== 'command' || isCommandLine(ev.line)) return;
      if (!ev.line.includes('\n')) {
        if (compiles(ev.line)) write(ev.line);
      } else if (replayDepth(ctx.session) <= depth) {
        ctx.print('not recorded: a JavaScript entry typed over several lines (a script line is one whole statement: type it on one line to record it)');
      }
    }, { types: ['command'] });
    const stop = (): void => {
      offSucceeded();
      offJs();
      out.close();
      recorders.delete(ctx.session);
    };
    recorders.set(ctx.session, { file, stop });
    ctx.print(`recording to ${file}${mode === 'append' ? ' (appending)' : ''}`);
  },
});

const PERMISSION_FLAGS = {
  'allow-js': { type: 'flag', help: 'run the JavaScript lines of the script too' },
  'allow-read': { type: 'flag', help: 'let its file: payloads and .replay read outside its folder' },
  'allow-write': { type: 'flag', help: 'let it .record (write files)' },
} as const;

export const replay = defineCommand({
  name: 'replay',
  group: 'scripts',
  summary: 'run a script inside this session',
  args: {
    usage: '.replay [--allow-js] [--allow-read] [--allow-write] [--keep-going] FILE',
    positionals: ['FILE'],
    options: {
      ...PERMISSION_FLAGS,
      'keep-going': { type: 'flag', help: 'report every failing line instead of stopping at the first' },
    },
  },
  help:
    'Same rules as `socklab FILE`: lines run in order, the first failure stops it. The script gets only the ' +
    'permissions on this line: JavaScript lines need --allow-js, file: paths and nested .replay stay in its folder ' +
    'without --allow-read, .record needs --allow-write. Inside a script, .replay inherits the run\'s permissions and can add none. ' +
    '${NAME} in its command lines reads the run\'s --var values, then the environment (${NAME:-default}; \\${ is a literal ${).',
  examples: ['.replay lesson.lab', '.replay --allow-js demo.lab'],
  blocks: true,
  files: (a) => [{ path: a.positionals[0] ?? '', access: 'read', what: '.replay' }],
  async run(ctx, a) {
    const file = a.positionals[0] ?? '';
    const flags = { js: a.options['allow-js'] === true, read: a.options['allow-read'] === true, write: a.options['allow-write'] === true };
    const parent = ctx.permissions;
    if (parent !== undefined) {
      const added = (Object.keys(flags) as Array<keyof typeof flags>).find((k) => flags[k] && !parent[k]);
      if (added !== undefined) throw new SocklabError('E_PERMISSION', `.replay --allow-${added} inside a script run without it: a replayed script cannot add permissions`);
    }
    const path = checkFile(parent, { path: file, access: 'read', what: '.replay' });
    // Typed in the REPL: the run's `--var` values; in a script: inherited with the permissions.
    const permissions = parent === undefined ? scriptPermissions(path, flags, sessionVariables(ctx.session)) : nestedPermissions(parent, file);
    const source = await readScriptFile(path, file);
    const stack = replaying.get(ctx.session) ?? [];
    const full = resolve(path);
    if (stack.includes(full)) throw new SocklabError('E_STATE', `${file} is already replaying: a script that replays itself would never end`);
    replaying.set(ctx.session, stack);
    stack.push(full);
    let code: number;
    try {
      code = await runScript(ctx, { name: file, source, permissions, keepGoing: a.options['keep-going'] === true, stack: [...stack] });
    } finally {
      stack.splice(stack.lastIndexOf(full), 1);
    }
    if (code !== 0) throw new SocklabError('E_SCRIPT', `${file} failed (exit code ${code})`);
  },
});
