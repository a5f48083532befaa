import { SocklabError, isSocklabError, messageOf } from '../errors.js';
import { parseArgs, splitCommand, type ParsedArgs } from '../parse/command-line.js';
import { checkFile } from '../script/permissions.js';
import { succeeded } from '../script/succeeded.js';
import type { Command, CommandContext } from './define.js';
import { aliasProblem } from '../session/endpoint.js';
import { findCommand } from './session.js';

/** Longest command line accepted; a longer one is refused before it is parsed. */
export const MAX_LINE_LENGTH = 1024 * 1024;

/** True for lines that are dot-commands (`.5` is a number, so JavaScript). */
export function isCommandLine(line: string): boolean {
  return /^\.[A-Za-z]/.test(line.trimStart());
}

/** True for lines a script skips: blank or `#` comments. */
export function isBlankOrComment(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

/** A command line found and read, ready to run. */
export interface PreparedCommand {
  command: Command;
  args: ParsedArgs;
  run: (c: CommandContext) => Promise<void>;
}

/** @throws SocklabError E_LIMIT when `line` is longer than `maxLength` characters. */
export function checkLineLength(line: string, maxLength = MAX_LINE_LENGTH): void {
  if (line.length > maxLength) {
    throw new SocklabError('E_LIMIT', `line of ${line.length} characters is longer than ${maxLength}: use file:PATH for large payloads`);
  }
}

/** Find and parse a command line without running it (scripts check every line first). */
export function prepareCommand(
  ctx: Pick<CommandContext, 'commands'>,
  line: string,
  /** Longest line accepted; a rule's line may be longer (a 1 MiB capture, escaped). */
  maxLength = MAX_LINE_LENGTH,
): PreparedCommand {
  checkLineLength(line, maxLength);
  const { name, rest } = splitCommand(line);
  const command = findCommand(ctx.commands, name);
  // splitCommand reads the trimmed line; `rest` is its tail, so this is where it starts.
  const args = parseArgs(command.args, rest, line.trim().length - rest.length);
  // A bad `as NAME` is known from the words alone: refused here, so a script's check catches it.
  const badName = args.alias === undefined ? undefined : aliasProblem(args.alias);
  if (badName !== undefined) throw new SocklabError('E_USAGE', badName);
  command.check?.(args, ctx.commands);
  return preparedCommand(command, args);
}

/** A command with words already read (and checked), ready to run: its files pass the permission check as it runs. */
export function preparedCommand(command: Command, args: ParsedArgs): PreparedCommand {
  return {
    command,
    args,
    run: async (c) => {
      // A script's files pass the permission check again as they run (the checker did it first).
      for (const use of command.files?.(args) ?? []) checkFile(c.permissions, use);
      await command.run(c, args);
    },
  };
}

/**
 * Run one dot-command line. Never throws: a failure becomes a
 * `command-error` event (which every renderer shows) and `false`.
 * `source` (`demo.lab:12`) names where the line came from.
 */
export async function runCommandLine(ctx: CommandContext, line: string, source?: string): Promise<boolean> {
  const session = ctx.session;
  const trimmed = line.trim();
  session.emit({ type: 'command', t: session.now(), line: trimmed });
  try {
    const { run } = prepareCommand(ctx, trimmed);
    await run(ctx);
    succeeded(session, trimmed);
    return true;
  } catch (err) {
    // In the REPL a network failure has already shown as the endpoint's error event.
    if (!(ctx.interactive && isSocklabError(err) && err.code === 'E_NET')) {
      session.emit({
        type: 'command-error',
        t: session.now(),
        line: trimmed,
        code: isSocklabError(err) ? err.code : 'E_INTERNAL',
        message: messageOf(err),
        ...(source !== undefined && { source }),
      });
    }
    return false;
  }
}
