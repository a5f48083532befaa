import repl, { type REPLCommand, type REPLEval, type REPLServer } from 'node:repl';
import { COMMANDS } from '../commands/index.js';
import type { CommandContext } from '../commands/define.js';
import { runCommandLine } from '../commands/dispatch.js';
import { splitCommand } from '../parse/command-line.js';
import type { Session } from '../session/session.js';
import { isLive } from '../session/endpoint.js';
import type { Settings } from '../settings.js';
import { HumanPrinter, PIPE_BATCH_MS } from '../render/printer.js';
import { createBinder } from './bindings.js';
import { printAbove } from './print-above.js';
import { Attachment, DETACH_KEY } from './attach.js';
import { completeCommandLine } from './complete.js';

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

// Node's own file commands are replaced by .record/.replay; .clear would drop the bindings.
const REMOVED = ['load', 'save', 'editor', 'clear', 'help', 'exit'];

/** Open the socklab REPL on the given streams. Writes only to `output`. */
export function startRepl(options: ReplOptions): SocklabRepl {
  const { session, settings, output } = options;
  const server = repl.start({
    prompt: options.prompt ?? 'socklab> ',
    input: options.input,
    output,
    terminal: options.terminal,
    useColors: settings.color,
    ignoreUndefined: true,
    preview: false,
  });
  let busy = false;
  const printer = new HumanPrinter(settings, (text) => printAbove(server, output, text, !busy), options.terminal ? 0 : PIPE_BATCH_MS);
  const unsubscribe = options.render === 'none' ? () => {} : session.subscribe(printer.handle);

  let exiting: Promise<void> | undefined;
  const exit = (): Promise<void> => {
    exiting ??= (async () => {
      const open = session.list().filter(isLive);
      const servers = open.filter((ep) => ep.kind === 'server').length;
      await session.shutdown();
      // Leaving: what is printed now must not redraw a prompt under it.
      busy = true;
      printer.print(`closed ${servers} server${servers === 1 ? '' : 's'} and ${open.length - servers} socket${open.length - servers === 1 ? '' : 's'}; bye`);
      printer.close();
      unsubscribe();
      server.close();
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

  const run = async (line: string): Promise<boolean> => {
    const blocks = COMMANDS.get(splitCommand(line).name)?.blocks === true;
    const done = runCommandLine(ctx, line);
    if (!blocks) return done;
    busy = true;
    try {
      return await done;
    } finally {
      busy = false;
      printer.flush();
    }
  };

  // node:repl types these as read-only; they are plain properties we adjust once, here.
  const mutable = server as unknown as {
    commands: Record<string, REPLCommand>;
    eval: REPLEval;
    completer: (line: string, cb: (err: Error | null, result: [string[], string]) => void) => void;
    _ttyWrite: (key: string | undefined, info: unknown) => void;
  };
  for (const name of REMOVED) delete mutable.commands[name];
  for (const cmd of COMMANDS.values()) {
    server.defineCommand(cmd.name, {
      help: cmd.summary,
      action(rest: string) {
        const line = `.${cmd.name} ${rest}`;
        if (cmd.blocks) void run(line).then(() => exiting === undefined && server.displayPrompt());
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
  const evaluate = mutable.eval;
  mutable.eval = function (code, context, file, cb) {
    bind();
    const line = code.trim();
    if (line !== '') session.emit({ type: 'command', t: session.now(), line });
    evaluate.call(this, code, context, file, cb);
  };
  if (options.historyFile) server.setupHistory(options.historyFile, () => {});

  // Dot-commands complete from the command table; anything else is JavaScript,
  // completed by the REPL's own completer with the ids bound first.
  const jsComplete = mutable.completer;
  mutable.completer = (line, cb) => {
    if (!/^\s*\./.test(line)) {
      bind();
      jsComplete.call(server, line, cb);
      return;
    }
    cb(null, completeCommandLine(line, { commands: COMMANDS, names: () => session.names().map(([n]) => n) }));
  };

  // Ctrl+] leaves an attached socket, as in telnet; readline must not insert it into the line.
  const ttyWrite = mutable._ttyWrite;
  mutable._ttyWrite = function (key, info) {
    if (key !== DETACH_KEY) return ttyWrite.call(this, key, info);
    const ep = attachment.detach();
    if (ep) printer.print(`detached from ${ep.id}`);
  };

  // Lines are looked at before node:repl sees them: while attached, every line
  // that is not one of our commands goes to the socket as typed (a lone "."
  // ends an SMTP message; "{" is not JavaScript there). A lone "." otherwise
  // gets our unknown-command answer, not node's keyword parsing.
  const [onLine] = server.listeners('line') as Array<(this: REPLServer, line: string) => void>;
  if (onLine) {
    server.removeListener('line', onLine);
    server.on('line', (line: string) => {
      const name = /^\s*\.(\S*)/.exec(line)?.[1];
      const ours = name !== undefined && (COMMANDS.has(name) || name === 'break');
      if (attachment.attached && !ours) {
        attachment.send(line);
        server.displayPrompt();
      } else if (name === '') {
        void run(line);
        server.displayPrompt();
      } else onLine.call(server, line);
    });
  }

  const closed = new Promise<void>((resolve) => {
    server.on('exit', () => void exit().then(resolve));
  });
  return { server, run, closed };
}
