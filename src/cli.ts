import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import pc from 'picocolors';
import { COMMANDS } from './commands/index.js';
import type { CommandContext } from './commands/define.js';
import { runCommandLine } from './commands/dispatch.js';
import { SocklabError, messageOf } from './errors.js';
import { jsonPrinter } from './render/json.js';
import { HumanPrinter, PIPE_BATCH_MS } from './render/printer.js';
import { startRepl } from './repl/start.js';
import { EXIT, runScript } from './script/runner.js';
import { OutputGate } from './session/output-gate.js';
import { createSession, type Session } from './session/session.js';
import { defaultSettings, type Settings } from './settings.js';
import { CLI_HELP, parseCliArgs, type CliArgs } from './cli-args.js';

/** The package version, read once from package.json. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Entry point of the `socklab` command; the only place that calls process.exit. */
export function runMain(argv: string[]): void {
  // `socklab demo.lab | head`: once the reader is gone there is nobody to report to.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    process.stderr.write(`socklab: ${messageOf(err)}\n`);
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
      process.stderr.write(`socklab: ${err instanceof SocklabError ? err.message : String((err as Error)?.stack ?? err)}\n`);
      exitWhenFlushed(err instanceof SocklabError && err.code === 'E_USAGE' ? EXIT.USAGE : EXIT.FAILED);
    },
  );
}

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
    if (--left === 0) process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => process.exit(code === EXIT.OK ? EXIT.FAILED : code));
  // A write's callback runs after every earlier write to the stream is done.
  for (const stream of [process.stdout, process.stderr]) stream.write('', done);
}

/** Backpressure from stdout to the network when it is a pipe or a file (a terminal writes synchronously). */
function stdoutGate(session: Session): OutputGate | undefined {
  return process.stdout.isTTY ? undefined : new OutputGate(session, process.stdout);
}

async function main(args: CliArgs): Promise<number> {
  const settings = defaultSettings({ time: args.time, color: args.color ?? pc.isColorSupported });
  const session = createSession();
  const script = args.file !== undefined || (args.lines.length === 0 && !process.stdin.isTTY);
  if (script || args.exit) return headless(args, session, settings);

  // With --json, stdout carries only NDJSON; the prompt and command output go to stderr.
  const output = args.json ? process.stderr : process.stdout;
  output.write(`socklab ${version()} — TCP playground. .help lists the commands, .exit leaves.\n`);
  const history = process.env.SOCKLAB_HISTORY ?? join(homedir(), '.socklab_history');
  const repl = startRepl({
    input: process.stdin,
    output,
    session,
    settings,
    terminal: output.isTTY === true && process.stdin.isTTY === true,
    historyFile: history === '' ? undefined : history,
    render: args.json ? 'none' : 'human',
  });
  const gate = stdoutGate(session);
  if (args.json) session.subscribe(jsonPrinter(gate ? gate.writer((t) => process.stdout.write(t)) : (t) => process.stdout.write(t)));
  // The REPL's printer writes to stdout itself: the gate looks after each event.
  if (gate && output === process.stdout) session.subscribe(gate.watch);
  // Ctrl+C at the prompt is a keypress (readline handles it); a SIGINT or SIGTERM from
  // outside (kill, a process manager, a non-terminal stdin) leaves as .exit does. A second one kills.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void repl.run('.exit'));
  for (const line of args.lines) await repl.run(line);
  await repl.closed;
  return EXIT.OK;
}

/** Run a script file, stdin or the -e lines without a prompt; resolve to the exit code. */
async function headless(args: CliArgs, session: Session, settings: Settings): Promise<number> {
  const gate = stdoutGate(session);
  const write = (text: string): void => void process.stdout.write(text);
  const out = gate ? gate.writer(write) : write;
  const printer = new HumanPrinter(settings, out, process.stdout.isTTY ? 0 : PIPE_BATCH_MS);
  if (args.json) session.subscribe(jsonPrinter(out));
  else session.subscribe(printer.handle);
  if (gate) session.subscribe(gate.watch);
  let stopping = false;
  const ctx: CommandContext = {
    session,
    settings,
    commands: COMMANDS,
    interactive: false,
    print: args.json ? (text) => process.stderr.write(`${text}\n`) : (text) => printer.print(text),
    flush: () => printer.flush(),
    exit: async () => {
      stopping = true;
    },
  };
  const interrupted = new Promise<number>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve(EXIT.FAILED));
  });
  let code: number;
  if (args.lines.length > 0) {
    code = EXIT.OK;
    for (const line of args.lines) {
      if (stopping) break;
      if (!(await Promise.race([runCommandLine(ctx, line), interrupted.then(() => false)]))) {
        code = EXIT.FAILED;
        if (!args.keepGoing) break;
      }
    }
  } else {
    const name = args.file ?? '<stdin>';
    const source = args.file === undefined ? await readStdin() : readScript(args.file);
    code = await Promise.race([runScript(ctx, { name, source, allowJs: args.allowJs, keepGoing: args.keepGoing }), interrupted]);
  }
  await session.shutdown();
  printer.close();
  return code;
}

function readScript(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SocklabError('E_USAGE', `cannot read script ${file}: ${messageOf(err)}`, { cause: err });
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
