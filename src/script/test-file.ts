import { KEEPS_NO_BYTES } from '../session/manager.js';
import { relative, resolve } from 'node:path';
import { COMMANDS } from '../commands/index.js';
import type { CommandContext } from '../commands/define.js';
import { messageOf } from '../errors.js';
import { HumanPrinter } from '../render/printer.js';
import type { SessionEvent } from '../session/events.js';
import { createSession } from '../session/session.js';
import { defaultSettings } from '../settings.js';
import { scriptPermissions } from './permissions.js';
import { EXIT, runScript } from './runner.js';
import { readScriptFile } from './source.js';
import { transcriptOf } from './transcript.js';
import type { Variables } from './variables.js';

/** What a test run gives every file (SPEC section 13). */
export interface TestOptions {
  allowJs: boolean;
  allowRead: boolean;
  allowWrite: boolean;
  /** `--var` values over the environment. */
  vars: Variables;
  /** Per-file limit, ms; undefined = none. */
  timeout?: number;
  /** Timestamps on the log's lines. */
  time: boolean;
  /** Folder the files' names are shown relative to (the working directory). */
  cwd: string;
}

/** How one file ended: `refused` = checked and not run (a usage error, exit code 2 alone). */
export type TestStatus = 'passed' | 'failed' | 'refused';

/** The result of one `.lab` file run as a test. */
export interface TestResult {
  /** As shown: relative to the working directory. */
  file: string;
  status: TestStatus;
  /** Wall time of the file, ms. */
  ms: number;
  /** The first failure: `FILE:LINE: message` (or `FILE: message` when no line is known). */
  failure?: string;
  /** Everything the session printed, as `socklab FILE` would (no colour). */
  log: string;
}

/**
 * Run one script as an isolated test: a fresh session of its own (its own
 * ids from s1/c1, its own servers on ports the OS picks), its own log, the
 * run's permissions and variables; everything it opened is closed at the
 * end. With `timeout`, a file still running then is cancelled (a blocking
 * `.wait`/`.expect`/`.sleep` ends at once) and fails. Never throws.
 */
export async function runTestFile(path: string, options: TestOptions): Promise<TestResult> {
  const started = Date.now();
  const file = relative(options.cwd, resolve(path)) || path;
  const session = createSession();
  let log = '';
  const printer = new HumanPrinter(defaultSettings({ time: options.time, color: false }), (text) => (log += text));
  session.subscribe(printer.handle, KEEPS_NO_BYTES);
  let failure: string | undefined;
  session.subscribe((ev: SessionEvent) => {
    if (ev.type === 'command-error' && failure === undefined) failure = `${ev.source ?? file}: ${ev.message}`;
  }, { types: ['command-error'] });
  const abort = new AbortController();
  const ctx: CommandContext = {
    session,
    settings: defaultSettings({ time: options.time, color: false }),
    commands: COMMANDS,
    interactive: false,
    signal: abort.signal,
    print: (text) => printer.print(text),
    flush: () => printer.flush(),
    exit: async () => {},
  };
  const permissions = scriptPermissions(path, { js: options.allowJs, read: options.allowRead, write: options.allowWrite }, options.vars);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((done) => {
    if (options.timeout !== undefined) timer = setTimeout(() => done('timeout'), options.timeout);
  });
  let code: number | 'timeout';
  try {
    const source = await readScriptFile(path, file);
    code = await Promise.race([runScript(ctx, { name: file, source, permissions, keepGoing: false, stack: [resolve(path)] }), timedOut]);
  } catch (err) {
    failure ??= `${file}: ${messageOf(err)}`;
    code = EXIT.USAGE;
  } finally {
    clearTimeout(timer);
  }
  if (code === 'timeout') {
    abort.abort();
    failure = `${file}: timed out after ${options.timeout} ms${failure === undefined ? '' : ` (first failure: ${failure})`}`;
    printer.print(failure);
  }
  await session.shutdown();
  printer.close();
  try {
    transcriptOf(session)?.finish();
  } catch (err) {
    failure ??= `${file}: ${messageOf(err)}`;
    code = EXIT.FAILED;
  }
  const status = code === EXIT.OK ? 'passed' : code === EXIT.USAGE ? 'refused' : 'failed';
  return { file, status, ms: Date.now() - started, ...(status !== 'passed' && { failure: failure ?? `${file}: failed` }), log };
}
