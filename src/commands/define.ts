import type { ArgsSpec, ParsedArgs } from '../parse/command-line.js';
import type { SocketEndpoint } from '../endpoints/tcp-types.js';
import type { Session } from '../session/session.js';
import type { Settings } from '../settings.js';
import type { FileUse, Permissions } from '../script/permissions.js';

/** Groups of `.help`, in the order they are listed. */
export const GROUPS = {
  endpoints: 'Endpoints',
  data: 'Data',
  scripts: 'Scripts and waiting',
  view: 'Looking at things',
  teaching: 'Teaching',
  session: 'Session',
} as const;
export type Group = keyof typeof GROUPS;

/** What a command can reach while it runs. */
export interface CommandContext {
  session: Session;
  settings: Settings;
  /** Print command output (tables, help), in order with the events. */
  print(text: string): void;
  /** Write out what is waiting to be printed (before JavaScript that prints by itself). */
  flush?(): void;
  /** Aborted when the user cancels a blocking command (Ctrl+C in the REPL). */
  signal?: AbortSignal;
  /**
   * True in the REPL: `.listen`, `.connect` and `.send` return at once and
   * their outcome arrives as events. False in scripts: they complete first.
   */
  interactive: boolean;
  /** Every command, for `.help`. */
  commands: CommandTable;
  /** Leave: close every endpoint gracefully, report, stop. */
  exit(): Promise<void>;
  /**
   * The permissions of the script running this line (SPEC section 6);
   * undefined for lines the person typed, who holds every permission.
   */
  permissions?: Permissions;
  /** Present in the REPL only: telnet-style typing into a socket. */
  repl?: {
    attach(ep: SocketEndpoint): void;
    /** Returns the socket that was attached, if any. */
    detach(): SocketEndpoint | undefined;
  };
}

/** One dot-command, as data: help, options and behaviour in one place. */
export interface Command {
  name: string;
  group: Group;
  /** One line for the `.help` list. */
  summary: string;
  args: ArgsSpec;
  /** Longer help for `.help NAME`: what it does and what to expect. */
  help?: string;
  /** 1–3 example lines, each a complete command. */
  examples: string[];
  /** The REPL waits for it before showing the prompt again (`.wait`, `.expect`, `.sleep`). */
  blocks?: boolean;
  run(ctx: CommandContext, args: ParsedArgs): Promise<void> | void;
  /**
   * Checks that need no session (an event name, a duration, a regex), run
   * when a line is parsed: a script with such a mistake is refused before
   * anything runs. Throws a SocklabError. `commands` is the table the line
   * runs against (a rule's COMMAND is checked against it).
   */
  check?(args: ParsedArgs, commands: CommandTable): void;
  /**
   * The line this command will run later, if any (a rule's COMMAND): a
   * script's checker checks it as one of the script's own lines (JavaScript
   * needs --allow-js; its files pass the permission check).
   */
  inner?(args: ParsedArgs): string | undefined;
  /**
   * The files this line would read or write (`file:` payloads, `.replay`,
   * `.record`): a script's checker passes each through `checkFile` before
   * anything runs, and `run` passes them again (with `ctx.permissions`).
   */
  files?(args: ParsedArgs): FileUse[];
  /**
   * Refusals a script's line gets that a typed line does not (SPEC section 6,
   * besides files): a script's checker calls it before anything runs (exit 2),
   * and `run` refuses again with `ctx.permissions`. Throws `E_PERMISSION`.
   */
  scriptCheck?(args: ParsedArgs): void;
}

export type CommandTable = ReadonlyMap<string, Command>;

/** Identity, for type inference and a uniform look of the command files. */
export function defineCommand(command: Command): Command {
  return command;
}
