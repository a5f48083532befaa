import { KEEPS_NO_BYTES } from '../session/manager.js';
import repl, { type REPLCommand, type REPLServer } from 'node:repl';
import { COMMANDS } from '../commands/index.js';
import type { CommandContext } from '../commands/define.js';
import { isCommandLine, runCommandLine } from '../commands/dispatch.js';
import { splitCommand } from '../parse/command-line.js';
import type { Session } from '../session/session.js';
import { isLive, kindOf } from '../session/endpoint.js';
import type { Settings } from '../settings.js';
import { escapeMessage } from '../render/escape.js';
import { escapingWriter } from '../render/inspect.js';
import { HumanPrinter, PIPE_BATCH_MS } from '../render/printer.js';
import { createBinder } from './bindings.js';
import { PromptScreen } from './print-above.js';
import { Attachment, DETACH_KEY } from './attach.js';
import { completeCommandLine } from './complete.js';
import { HISTORY_SIZE, HistoryFile, keepHistory } from './history.js';
import { messageOf } from '../errors.js';
import { appendLongLine } from './long-line.js';
import { compiles } from '../script/record-file.js';
import { createReplDomain } from './light-domain.js';

export interface ReplOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  session: Session;
  settings: Settings;
  /** Treat the streams as a terminal (cursor control, prompt redraws). */
  terminal: boolean;
  prompt?: string;
  /** Where history is kept; undefined = no history file. */
  historyFile?: string;
  /** Print events some other way (`--json`); by default a HumanPrinter above the prompt. */
  render?: 'human' | 'none';
}

export interface SocklabRepl {
  server: REPLServer;
  /** Run a line as if typed (the `-e` lines); resolves when it completed. */
  run(line: string): Promise<boolean>;
  /** Resolves when the REPL ends (`.exit`, Ctrl+D, end of input) and everything is closed. */
  closed: Promise<void>;
}

/**
 * Commands the next typed line waits for (see `gate`). `.show`, `.ls` and
 * `.tcp` may ask `ss` (the kernel's view): the prompt is back at once, but a
 * pasted `.close c1` after `.show c1` must not overtake it.
 */
const GATED = new Set(['listen', 'connect', 'show', 'ls', 'tcp']);

// Node's own file commands are replaced by .record/.replay; .clear would drop the bindings.
const REMOVED = ['load', 'save', 'editor', 'clear', 'help', 'exit'];

/** Open the socklab REPL on the given streams. Writes only to `output`. */
export function startRepl(options: ReplOptions): SocklabRepl {
  const { session, settings, output } = options;
  // readline's 'resize' listener (the one repl.start adds) is replaced by the screen's.
  const resizeListeners = new Set(output.listeners('resize'));
  const replDomain = createReplDomain();
  const server = repl.start({
    // Not in @types/node: node:repl's own option (see createReplDomain).
    ...({ domain: replDomain.domain } as object),
    prompt: options.prompt ?? 'socklab> ',
    input: options.input,
    output,
    terminal: options.terminal,
    useColors: settings.color,
    ignoreUndefined: true,
    preview: false,
    // Results and thrown errors alike go through the one escaping table.
    writer: escapingWriter(() => settings.color),
  });
  // readline keeps 30 lines unless told; repl.start's options do not list historySize.
  (server as unknown as { historySize: number }).historySize = HISTORY_SIZE;
  let busy = false;
  const screen = new PromptScreen(server, output);
  const printer = new HumanPrinter(
    settings,
    (text) => screen.print(text),
    options.terminal ? 0 : PIPE_BATCH_MS,
    () => (options.terminal ? (output as NodeJS.WriteStream).columns : undefined),
  );
  const unsubscribe = options.render === 'none' ? () => {} : session.subscribe(printer.handle, KEEPS_NO_BYTES);
  // Event lines waiting for their batch go out before an error the REPL prints itself (`Uncaught …`).
  replDomain.domain.prependListener('error', () => printer.flush());

  let exiting: Promise<void> | undefined;
  const exit = (): Promise<void> => {
    exiting ??= (async () => {
      const open = session.list().filter(isLive);
      const servers = open.filter((ep) => kindOf(ep).noun === 'server').length;
      const relays = open.filter((ep) => kindOf(ep).noun === 'relay').length;
      const sockets = open.length - servers - relays;
      await session.shutdown();
      // Leaving: what is printed now must not redraw a prompt under it.
      busy = true;
      screen.hide();
      const relayed = relays === 0 ? '' : `, ${relays} relay${relays === 1 ? '' : 's'}`;
      printer.print(`closed ${servers} server${servers === 1 ? '' : 's'}${relayed} and ${sockets} socket${sockets === 1 ? '' : 's'}; bye`);
      printer.close();
      unsubscribe();
      server.close();
      replDomain.dispose();
    })();
    return exiting;
  };
  const prompt = options.prompt ?? 'socklab> ';
  const attachment = new Attachment(server, session, settings, prompt);
  const ctx: CommandContext = {
    session,
    settings,
    commands: COMMANDS,
    interactive: true,
    print: (text) => printer.print(text),
    exit,
    repl: { attach: (ep) => attachment.attach(ep), detach: () => attachment.detach() },
  };

  // While a blocking command (.wait, .expect, .sleep, .replay) runs, lines
  // typed or pasted after it wait their turn, as in a script; Ctrl+C cancels it.
  let cancel: AbortController | undefined;
  const queued: string[] = [];
  // `.listen` and `.connect` do not block the prompt, but the lines after them
  // wait until they are listening / connected (a moment on loopback), so that
  // pasted lines find the names they create. Ctrl+C stops the waiting.
  let gate: Promise<boolean> | undefined;
  let gatedBy = '';
  const run = async (line: string): Promise<boolean> => {
    const name = splitCommand(line).name;
    const blocks = COMMANDS.get(name)?.blocks === true;
    if (!blocks) {
      const done = runCommandLine(ctx, line);
      if (GATED.has(name)) {
        gate = done;
        gatedBy = name;
        // node:repl cuts a JS error's stack at the last unnamed frame. This callback
        // runs the lines queued behind the gate, so it is named and the bottom
        // frame (`.finally` would add its own unnamed one below).
        const opened = function socklabGateOpened(): void {
          if (gate !== done) return;
          gate = undefined;
          // What the command printed goes out before the lines that waited for it (JavaScript prints by itself).
          if (queued.length > 0) printer.flush();
          drain();
        };
        void done.then(opened, opened);
      }
      return done;
    }
    busy = true;
    // No prompt while it blocks (as in a shell); keys typed meanwhile wait in `held`.
    screen.hide();
    cancel = new AbortController();
    ctx.signal = cancel.signal;
    try {
      return await runCommandLine(ctx, line);
    } finally {
      busy = false;
      cancel = undefined;
      ctx.signal = undefined;
      printer.flush();
    }
  };
  const drain = (): void => {
    while (!busy && gate === undefined && exiting === undefined && queued.length > 0) {
      // The line was shown when typed; what it prints goes below it, not into the half-typed line.
      screen.hide();
      handleLine(queued.shift() as string);
    }
  };
  // Keys typed while a blocking command runs, replayed at the prompt when it is done: each
  // line then shows after a prompt, as typed ahead in a shell. [key, info, isCompletionEnabled].
  const held: Array<[string | undefined, unknown, boolean]> = [];
  const replayHeld = (): void => {
    let i = 0;
    while (!busy && exiting === undefined && i < held.length) {
      const [key, info, completing] = held[i++]!;
      mutable.isCompletionEnabled = completing;
      mutable._ttyWrite.call(server, key, info);
    }
    held.splice(0, i);
    mutable.isCompletionEnabled = true;
  };

  // node:repl types these as read-only; they are plain properties we adjust once, here.
  const mutable = server as unknown as {
    commands: Record<string, REPLCommand>;
    completer: (line: string, cb: (err: Error | null, result: [string[], string]) => void) => void;
    _ttyWrite: (key: string | undefined, info: unknown) => void;
    isCompletionEnabled: boolean;
  };
  for (const name of REMOVED) delete mutable.commands[name];
  for (const cmd of COMMANDS.values()) {
    server.defineCommand(cmd.name, {
      help: cmd.summary,
      action(rest: string) {
        const line = `.${cmd.name} ${rest}`;
        if (cmd.blocks) {
          void run(line).then(function socklabBlockDone() {
            if (exiting !== undefined) return;
            server.displayPrompt();
            drain();
            replayHeld();
          });
        }
        else {
          void run(line);
          server.displayPrompt();
        }
      },
    });
  }
  // An unknown `.word` goes to the same dispatcher, which answers with the nearest command.
  mutable.commands = new Proxy(mutable.commands, {
    get(target, key) {
      if (typeof key !== 'string' || key in target) return Reflect.get(target, key);
      return {
        action(this: REPLServer, rest: string) {
          void run(`.${key} ${rest}`);
          server.displayPrompt();
        },
      };
    },
  });

  const bind = createBinder(session, server.context);
  if (options.historyFile) {
    keepHistory(server, new HistoryFile(options.historyFile), (err) =>
      session.emit({ type: 'command-error', t: session.now(), line: '', code: 'E_IO', message: messageOf(err) }),
    );
  }

  // Dot-commands complete from the command table; anything else is JavaScript,
  // completed by the REPL's own completer with the ids bound first.
  const jsComplete = mutable.completer;
  mutable.completer = (line, cb) => {
    if (!/^\s*\./.test(line)) {
      bind();
      // Names of JS values may hold invisible characters: inserted escaped they would name
      // another value, inserted raw they reach the terminal. Left out, with a note.
      jsComplete.call(server, line, (err, result) => {
        if (!result) return cb(err, result);
        const left = result[0].filter((c) => escapeMessage(c) !== c);
        if (left.length > 0) printer.print(`not completed: ${left.length === 1 ? 'a name holds' : `${left.length} names hold`} control or invisible characters (${left.slice(0, 3).map((c) => `"${escapeMessage(c)}"`).join(', ')}${left.length > 3 ? ', …' : ''})`);
        cb(err, [result[0].filter((c) => escapeMessage(c) === c), result[1]]);
      });
      return;
    }
    cb(null, completeCommandLine(line, { commands: COMMANDS, names: () => session.names().map(([n]) => n), note: (text) => printer.print(text) }));
  };

  // Ctrl+] leaves an attached socket, as in telnet; readline must not insert it into the line.
  const ttyWrite = mutable._ttyWrite;
  mutable._ttyWrite = function (key, info) {
    const pressed = info as { ctrl?: boolean; meta?: boolean; name?: string } | undefined;
    if (busy && exiting === undefined && !(pressed?.ctrl === true && pressed.name === 'c')) {
      held.push([key, info, mutable.isCompletionEnabled]);
      return;
    }
    if (appendLongLine(server as unknown as Parameters<typeof appendLongLine>[0], output, key, (output as NodeJS.WriteStream).columns)) return;
    // Not before each character of a paste (one chunk, the last key completing): the check reads the whole line.
    const insert = pressed?.ctrl !== true && pressed?.meta !== true && (pressed?.name === undefined || pressed.name.length === 1 || pressed.name === 'space');
    if (mutable.isCompletionEnabled || !insert) screen.beforeKey();
    if (key !== DETACH_KEY) return ttyWrite.call(this, key, info);
    const ep = attachment.detach();
    if (ep) printer.print(`detached from ${ep.id}`);
  };

  // Lines are looked at before node:repl sees them: while attached, every line
  // that is not one of our commands goes to the socket as typed (a lone "."
  // ends an SMTP message; "{" is not JavaScript there). A lone "." otherwise
  // gets our unknown-command answer, not node's keyword parsing.
  const [onLine] = server.listeners('line') as Array<(this: REPLServer, line: string) => void>;
  const [onSigint] = server.listeners('SIGINT') as Array<(this: REPLServer) => void>;
  if (!onLine || !onSigint) throw new Error('node:repl changed: no line or SIGINT listener to wrap');
  server.removeListener('line', onLine);
  // Named functions: node:repl cuts an error's stack at the last unnamed
  // frame, which must be the user's code, not these listeners.
  server.on('line', function socklabLine(line: string) {
    screen.lineEntered();
    if ((busy || gate !== undefined) && exiting === undefined) {
      queued.push(line);
      // Waiting for a .listen/.connect: the next line is typed at a prompt too.
      if (!busy && options.terminal) server.displayPrompt();
    } else handleLine(line);
  });
  // Ctrl+C while a command blocks stops that command (and drops the lines
  // queued behind it) instead of starting node's two-step exit.
  server.removeListener('SIGINT', onSigint);
  server.on('SIGINT', function socklabSigint() {
    if (cancel) {
      queued.length = 0;
      held.length = 0;
      cancel.abort();
    } else if (gate !== undefined) {
      queued.length = 0;
      gate = undefined;
      printer.print(
        gatedBy === 'listen' || gatedBy === 'connect'
          ? 'stopped waiting; the connection attempt goes on and reports as an event'
          : `stopped waiting for .${gatedBy}; it prints when ss answers`,
      );
    } else onSigint.call(server);
  });

  function handleLine(line: string): void {
    const name = /^\s*\.(\S*)/.exec(line)?.[1];
    const ours = name !== undefined && (COMMANDS.has(name) || name === 'break');
    if (attachment.attached && !ours) {
      attachment.send(line);
      server.displayPrompt();
    } else if (name === '') {
      void run(line);
      server.displayPrompt();
    } else if (name === undefined && forgotTheDot(line)) {
      server.displayPrompt();
    } else {
      // JavaScript: the ids and names are bound first. (Done here, not by
      // wrapping eval, so node:repl still trims its own frames from a stack.)
      if (name === undefined) bind();
      if (name !== undefined) onLine?.call(server, line);
      else javaScriptLine(line);
    }
  }

  // A JavaScript entry typed over several lines (`zz +` Enter `2`) is one
  // `command` event, its lines joined by newlines, when the REPL has it whole:
  // .record leaves it out whole (a script line is one statement), never half.
  let entry: string[] = [];
  const buffered = Object.getOwnPropertySymbols(server).find((sym) => sym.description === 'bufferedCommand');
  const inEntry = (): boolean => buffered !== undefined && (server as unknown as Record<symbol, unknown>)[buffered] !== '';
  function javaScriptLine(line: string): void {
    // .break or Ctrl+C dropped the entry being typed.
    if (!inEntry()) entry = [];
    const js = line.trim();
    const whole = entry.length === 0 && (js === '' || compiles(js));
    if (whole && js !== '') session.emit({ type: 'command', t: session.now(), line: js });
    onLine?.call(server, line);
    if (whole) return;
    entry.push(js);
    if (inEntry()) return;
    // Complete (or a syntax error the REPL has reported): the entry, once.
    session.emit({ type: 'command', t: session.now(), line: entry.join('\n') });
    entry = [];
  }

  /** `ls` alone is a ReferenceError in JavaScript; say what was meant instead. */
  function forgotTheDot(line: string): boolean {
    const word = /^\s*([a-z]+)\s*$/.exec(line)?.[1];
    if (word === undefined || !COMMANDS.has(word) || word in server.context) return false;
    const message = `${word} is not defined in JavaScript: did you mean .${word}? (dot-commands start with a dot)`;
    session.emit({ type: 'command-error', t: session.now(), line: line.trim(), code: 'E_UNKNOWN_COMMAND', message });
    return true;
  }

  // The prompt is redrawn with the cursor where it was in a half-typed line
  // (node's REPL asks for column 0 after each result), and the screen knows it is there.
  const displayPrompt = server.displayPrompt.bind(server);
  server.displayPrompt = () => {
    displayPrompt(true);
    screen.promptDrawn();
  };
  screen.takeResize(output.listeners('resize').filter((l) => !resizeListeners.has(l)) as Array<(...args: unknown[]) => void>);

  const closed = new Promise<void>((resolve) => {
    server.on('exit', () => void exit().then(resolve));
  });
  // A -e line runs as if typed: after a blocking one the prompt comes back, with what was typed meanwhile.
  const runLine = async (line: string): Promise<boolean> => {
    // After .exit or a signal no further line starts.
    if (exiting !== undefined) return false;
    // Not a dot-command: JavaScript, as if typed (its value is printed as the REPL prints it).
    if (!isCommandLine(line)) {
      if (line.trim() !== '') handleLine(line);
      return true;
    }
    const ok = await run(line);
    if (COMMANDS.get(splitCommand(line).name)?.blocks === true && exiting === undefined && options.terminal) {
      server.displayPrompt();
      drain();
      replayHeld();
    }
    return ok;
  };
  return { server, run: runLine, closed };
}
