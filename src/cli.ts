import { KEEPS_NO_BYTES } from './session/manager.js';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import pc from 'picocolors';
import { COMMANDS } from './commands/index.js';
import type { CommandContext } from './commands/define.js';
import { isBlankOrComment, isCommandLine, runCommandLine } from './commands/dispatch.js';
import { createJsEvaluator, type JsEvaluator } from './script/js-eval.js';
import { escapingWriter } from './render/inspect.js';
import { SocklabError, messageOf } from './errors.js';
import { escapeMessage } from './render/escape.js';
import { jsonBytesPrinter } from './render/json.js';
import { HumanPrinter, PIPE_BATCH_MS } from './render/printer.js';
import { startRepl } from './repl/start.js';
import { EXIT, runScript } from './script/runner.js';
import { scriptPermissions } from './script/permissions.js';
import { checkStdinKind, readScriptFile, readScriptStream } from './script/source.js';
import { runVariables, setSessionVariables } from './script/variables.js';
import { startTranscript, transcriptOf } from './script/transcript.js';
import { OutputGate } from './observers/output-gate.js';
import { stopServing } from './serve/serve.js';
import { createSession, type Session } from './session/session.js';
import { defaultSettings, type Settings } from './settings.js';
import { CLI_HELP, parseCliArgs, type CliArgs } from './cli-args.js';
import { TEST_HELP, parseTestArgs, runTestCommand, type TestArgs } from './cli-test.js';

/** The package version the bundle was built from (scripts/bundle.mjs defines it; undefined when run from the sources). */
declare const SOCKLAB_BUILD_VERSION: string | undefined;

/** The package version: the bundle's, else read from package.json (reading it cost ~1.5 M instructions of a start-up). */
export function version(): string {
  if (typeof SOCKLAB_BUILD_VERSION === 'string') return SOCKLAB_BUILD_VERSION;
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Entry point of the `socklab` command; the only place that calls process.exit. */
export function runMain(argv: string[]): void {
  // A closed pipe (`| head`), a full disk (`> /dev/full`), a terminal that hung up:
  // one line on the other stream, the session closed as .exit closes it, exit 1.
  for (const [stream, name, other] of OUTPUTS()) {
    stream.on('error', (err: NodeJS.ErrnoException) => outputLost(name, other, err));
  }
  if (argv[0] === 'test') return runTestMain(argv.slice(1));
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    process.stderr.write(`socklab: ${escapeMessage(messageOf(err))}\n`);
    process.exit(EXIT.USAGE);
  }
  if (args.help) {
    process.stdout.write(CLI_HELP);
    return;
  }
  if (args.version) {
    process.stdout.write(`socklab ${version()}\n`);
    return;
  }
  main(args).then(
    (code) => exitWhenFlushed(code),
    (err: unknown) => {
      process.stderr.write(`socklab: ${escapeMessage(err instanceof SocklabError ? err.message : String((err as Error)?.stack ?? err))}\n`);
      exitWhenFlushed(err instanceof SocklabError && err.code === 'E_USAGE' ? EXIT.USAGE : EXIT.FAILED);
    },
  );
}

/** `socklab test …`: exit 0/1/2 (SPEC section 13). */
function runTestMain(argv: string[]): void {
  let args: TestArgs;
  try {
    args = parseTestArgs(argv);
  } catch (err) {
    process.stderr.write(`socklab test: ${escapeMessage(messageOf(err))}\n`);
    process.exit(EXIT.USAGE);
  }
  if (args.help) {
    process.stdout.write(TEST_HELP);
    return;
  }
  for (const sig of SIGNALS) process.once(sig, () => exitWhenFlushed(EXIT.FAILED));
  runTestCommand(args, { write: (text) => void process.stdout.write(text), isTTY: process.stdout.isTTY === true }).then(
    (code) => exitWhenFlushed(code),
    (err: unknown) => {
      process.stderr.write(`socklab test: ${escapeMessage(messageOf(err))}\n`);
      exitWhenFlushed(err instanceof SocklabError && err.code === 'E_USAGE' ? EXIT.USAGE : EXIT.FAILED);
    },
  );
}

/** stdout and stderr, each with its name and the stream to complain on when it fails. */
const OUTPUTS = () =>
  [
    [process.stdout, 'stdout', process.stderr],
    [process.stderr, 'stderr', process.stdout],
  ] as const;

/** Ends the running session gracefully (set once one runs): every endpoint closed. */
let stopSession: () => Promise<void> = async () => {};
let lost = false;

/** Output cannot be written: say so once, close the session, leave with exit code 1. */
function outputLost(name: string, other: NodeJS.WriteStream, err: NodeJS.ErrnoException): void {
  if (lost) return;
  lost = true;
  const what = err.code === 'EPIPE' ? 'its reader has gone' : err.code === 'ENOSPC' ? 'the disk is full' : (err.code ?? err.message);
  try {
    if (!other.destroyed) other.write(`socklab: cannot write to ${name} (${what}); stopping\n`);
  } catch {
    // Both streams are gone: nobody is left to tell.
  }
  const leave = () => process.exit(EXIT.FAILED);
  setTimeout(leave, FLUSH_GRACE_MS).unref();
  stopSession().then(leave, leave);
}

/** How long an exit waits for a reader of stdout that does not read. */
const FLUSH_GRACE_MS = 2000;

/**
 * Exit once stdout and stderr have handed everything to the OS. Writes to a
 * pipe are asynchronous, and process.exit drops what is still queued: the
 * last events and the final report would be lost to `socklab … | tee log`.
 * There is no time limit (a slow reader gets every event); a signal while
 * waiting leaves at once, with exit code 1 since output was cut.
 */
function exitWhenFlushed(code: number): void {
  let left = 2;
  const done = (): void => {
    if (--left === 0 && !lost) process.exit(code);
  };
  // Signals while waiting for a slow reader: leave at once, and not with success.
  for (const sig of SIGNALS) process.on(sig, () => process.exit(code === EXIT.OK ? EXIT.FAILED : code));
  // A write's callback runs after every earlier write to the stream is done; an error
  // there (a full disk) is reported before the stream's own 'error' event would be.
  // No time limit: a slow reader gets every byte (the output is lossless).
  for (const [stream, name, other] of OUTPUTS()) {
    stream.write('', (err) => {
      if (err) outputLost(name, other, err as NodeJS.ErrnoException);
      done();
    });
  }
}

/** Where `--json` lines go: stdout as bytes, the gate (if any) consulted after each write, as gate.writer does. */
function jsonOut(gate: OutputGate | undefined): (line: Buffer) => void {
  return (line) => {
    process.stdout.write(line);
    gate?.check();
  };
}

/** Backpressure from stdout to the network when it is a pipe or a file (a terminal writes synchronously). */
function stdoutGate(session: Session): OutputGate | undefined {
  return process.stdout.isTTY ? undefined : new OutputGate(session, process.stdout);
}

async function main(args: CliArgs): Promise<number> {
  const settings = defaultSettings({ time: args.time, color: args.color ?? pc.isColorSupported });
  const session = createSession();
  setSessionVariables(session, runVariables(args.vars));
  // The person asked for it on the command line: no --allow-write needed (that guards scripts).
  if (args.transcript !== undefined) startTranscript(session, args.transcript);
  stopSession = () => session.shutdown().then(() => void finishTranscript(session));
  const script = args.file !== undefined || (args.lines.length === 0 && !process.stdin.isTTY);
  if (script || args.exit) return headless(args, session, settings);

  // With --json, stdout carries only NDJSON; the prompt and command output go to stderr.
  const output = args.json ? process.stderr : process.stdout;
  output.write(`socklab ${version()} — TCP playground. .help lists the commands, .exit leaves.\n`);
  const history = process.env.SOCKLAB_HISTORY ?? join(homedir(), '.socklab_history');
  // Input that is not a terminal (a pipe, `< /dev/null` in CI) is read only once the -e lines
  // have run: its end closes the REPL, and it must not close it while they run.
  const typedLater = args.lines.length > 0 && !process.stdin.isTTY ? new PassThrough() : undefined;
  const repl = startRepl({
    input: typedLater ?? process.stdin,
    output,
    session,
    settings,
    terminal: output.isTTY === true && process.stdin.isTTY === true,
    historyFile: history === '' ? undefined : history,
    render: args.json ? 'none' : 'human',
  });
  const gate = stdoutGate(session);
  if (args.json) session.subscribe(jsonBytesPrinter(jsonOut(gate)), KEEPS_NO_BYTES);
  // The REPL's printer writes to stdout itself: the gate looks after each event.
  if (gate && output === process.stdout) session.subscribe(gate.watch, KEEPS_NO_BYTES);
  // Ctrl+C at the prompt is a keypress (readline handles it); a SIGINT or SIGTERM from
  // outside (kill, a process manager, a non-terminal stdin) leaves as .exit does. A second one kills.
  for (const sig of SIGNALS) process.once(sig, () => void repl.run('.exit'));
  if (args.serve !== undefined) await repl.run(`.serve ${args.serve}`);
  for (const line of args.lines) await repl.run(line);
  if (typedLater) process.stdin.pipe(typedLater);
  await repl.closed;
  await stopServing(session);
  return finishTranscript(session) ? EXIT.OK : EXIT.FAILED;
}

/** Write the session's transcript, if one is being taken; false (and one line on stderr) when it cannot be written. */
function finishTranscript(session: Session): boolean {
  try {
    transcriptOf(session)?.finish();
    return true;
  } catch (err) {
    process.stderr.write(`socklab: ${escapeMessage(messageOf(err))}\n`);
    return false;
  }
}

/** Signals that end a session as .exit does (SPEC section 7); a second one kills. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Run a script file, stdin or the -e lines without a prompt; resolve to the exit code. */
async function headless(args: CliArgs, session: Session, settings: Settings): Promise<number> {
  const gate = stdoutGate(session);
  const write = (text: string): void => void process.stdout.write(text);
  const out = gate ? gate.writer(write) : write;
  const printer = new HumanPrinter(settings, out, process.stdout.isTTY ? 0 : PIPE_BATCH_MS);
  if (args.json) session.subscribe(jsonBytesPrinter(jsonOut(gate)), KEEPS_NO_BYTES);
  else session.subscribe(printer.handle, KEEPS_NO_BYTES);
  if (gate) session.subscribe(gate.watch, KEEPS_NO_BYTES);
  let stopping = false;
  const ctx: CommandContext = {
    session,
    settings,
    commands: COMMANDS,
    interactive: false,
    print: args.json ? (text) => process.stderr.write(`${escapeMessage(text)}\n`) : (text) => printer.print(text),
    flush: () => printer.flush(),
    exit: async () => {
      stopping = true;
    },
  };
  // Once a signal arrived no further line starts (an -e list, a script, a .replay
  // inside it): the runner looks at ctx.signal before each line, and a blocking one ends.
  const signalled = new AbortController();
  ctx.signal = signalled.signal;
  const interrupted = new Promise<number>((resolve) => {
    for (const sig of SIGNALS) {
      process.once(sig, () => {
        signalled.abort();
        resolve(EXIT.FAILED);
      });
    }
  });
  let code: number;
  // Typed by the person on the command line: a script's permissions do not apply to it.
  if (args.serve !== undefined && !(await runCommandLine(ctx, `.serve ${args.serve}`, '--serve'))) {
    await session.shutdown();
    printer.close();
    return EXIT.USAGE;
  }
  if (args.lines.length > 0) {
    code = EXIT.OK;
    const lines = commandLineRunner(ctx);
    try {
      for (const [i, line] of args.lines.entries()) {
        if (stopping || signalled.signal.aborted) break;
        if (!(await Promise.race([lines.run(line, i + 1), interrupted.then(() => false)]))) {
          code = EXIT.FAILED;
          if (!args.keepGoing || signalled.signal.aborted) break;
        }
      }
    } finally {
      lines.close();
    }
    if (signalled.signal.aborted) code = EXIT.FAILED;
  } else {
    const name = args.file ?? '<stdin>';
    const permissions = scriptPermissions(args.file, { js: args.allowJs, read: args.allowRead, write: args.allowWrite }, runVariables(args.vars));
    const stack = args.file === undefined ? [] : [resolve(args.file)];
    // Reading races the signals too: a FIFO nobody writes to must not outlive a SIGTERM.
    const run = readScript(args.file).then((source) => runScript(ctx, { name, source, permissions, keepGoing: args.keepGoing, stack }));
    code = await Promise.race([run, interrupted]);
  }
  await session.shutdown();
  await stopServing(session);
  printer.close();
  return finishTranscript(session) ? code : EXIT.FAILED;
}

/**
 * Runs `-e` lines headless: a dot-command through the dispatcher, anything else
 * as JavaScript typed at the prompt (its value printed, escaped). The person
 * typing on the command line holds every permission, so no --allow-js is needed.
 */
function commandLineRunner(ctx: CommandContext): { run(line: string, n: number): Promise<boolean>; close(): void } {
  let evaluator: JsEvaluator | undefined;
  // ctx.print escapes again: inspect's colours would show as text, so none.
  const writer = escapingWriter(() => false);
  return {
    async run(line, n) {
      if (isCommandLine(line)) return runCommandLine(ctx, line, `-e ${n}`);
      if (isBlankOrComment(line)) return true;
      evaluator ??= createJsEvaluator(ctx, '-e');
      ctx.flush?.();
      try {
        const value = await evaluator.evaluate(line);
        if (value !== undefined) ctx.print(writer(value));
        return true;
      } catch (err) {
        ctx.session.emit({ type: 'command-error', t: ctx.session.now(), line: line.trim(), code: 'E_JS', message: messageOf(err), source: `-e ${n}` });
        return false;
      }
    },
    close: () => evaluator?.close(),
  };
}

/** The script's text, within the bounds of SPEC section 6; any refusal is a usage error (exit 2). */
async function readScript(file: string | undefined): Promise<string> {
  try {
    if (file !== undefined) return await readScriptFile(file);
    checkStdinKind();
    return await readScriptStream(process.stdin, '<stdin>');
  } catch (err) {
    throw new SocklabError('E_USAGE', messageOf(err), { cause: err });
  }
}
