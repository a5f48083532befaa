import { resolve } from 'node:path';
import type { CommandTable } from '../commands/define.js';
import { isBlankOrComment, isCommandLine, prepareCommand } from '../commands/dispatch.js';
import { isSocklabError, messageOf } from '../errors.js';
import type { ParsedArgs } from '../parse/command-line.js';
import { checkFile, nestedPermissions, type Permissions } from './permissions.js';
import { readScriptSync } from './source.js';
import { substituteLine } from './variables.js';

/** One line of a script that will run. */
export interface ScriptLine {
  /** 1-based line number in the file. */
  number: number;
  text: string;
  kind: 'command' | 'js';
}

export interface ScriptProblem {
  number: number;
  message: string;
  /**
   * `usage`: the command does not parse; `js`: a JavaScript line without
   * allowJs; `permission`: a file or flag the run's permissions do not allow.
   */
  kind: 'usage' | 'js' | 'permission';
  /** The nested `.replay` file the problem is in (`helper.lab`); undefined for the script itself. */
  file?: string;
}

/** How deep literal `.replay` lines are followed when a script is checked. */
export const MAX_REPLAY_DEPTH = 8;

const FLAGS = [
  ['allow-js', 'js'],
  ['allow-read', 'read'],
  ['allow-write', 'write'],
] as const;

/**
 * Read and check a whole script before anything runs: every command must
 * parse, JavaScript lines need `js`, and every file a line reads or writes
 * passes `checkFile` with the script's permissions. Literal `.replay FILE`
 * lines are followed (up to `MAX_REPLAY_DEPTH`) and checked with the
 * permissions they would inherit; asking for a flag the run does not hold
 * is a problem. `perms` as a boolean checks text that is not a file (a
 * document's examples): JavaScript only, no file rules.
 */
export function checkScript(
  source: string,
  commands: CommandTable,
  perms: Permissions | boolean,
  stack: string[] = [],
): { lines: ScriptLine[]; problems: ScriptProblem[] } {
  const permissions = typeof perms === 'boolean' ? undefined : perms;
  const allowJs = typeof perms === 'boolean' ? perms : perms.js;
  const lines: ScriptLine[] = [];
  const problems: ScriptProblem[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    const number = i + 1;
    if (isBlankOrComment(raw)) return;
    // Variables are read in dot-command lines only: `${…}` in a JavaScript line is JavaScript's.
    let text = raw;
    if (permissions?.vars !== undefined && isCommandLine(raw)) {
      const substituted = substituteLine(raw, permissions.vars);
      if (substituted.problems.length > 0) {
        for (const p of substituted.problems) problems.push({ number, kind: 'usage', message: p.message });
        lines.push({ number, text: raw, kind: 'command' });
        return;
      }
      text = substituted.text;
    }
    if (!isCommandLine(text)) {
      if (!allowJs) {
        // Never quoted: a file that is not a script (`.env`, a key) would show its secrets here.
        const length = text.trim().length;
        problems.push({ number, kind: 'js', message: `JavaScript line refused (${length} character${length === 1 ? '' : 's'}, not quoted): scripts run JavaScript only with --allow-js` });
      }
      lines.push({ number, text, kind: 'js' });
      return;
    }
    lines.push({ number, text, kind: 'command' });
    let prepared;
    try {
      prepared = prepareCommand({ commands }, text.trim());
    } catch (err) {
      problems.push({ number, kind: 'usage', message: messageOf(err) });
      return;
    }
    const inner = prepared.command.inner?.(prepared.args);
    if (inner !== undefined) problems.push(...checkInner(inner, number, commands, allowJs, permissions));
    if (permissions === undefined) return;
    try {
      for (const use of prepared.command.files?.(prepared.args) ?? []) checkFile(permissions, use);
      prepared.command.scriptCheck?.(prepared.args);
      if (prepared.command.name === 'replay') {
        for (const p of checkReplay(prepared.args, commands, permissions, stack)) problems.push({ ...p, number: p.file === undefined ? number : p.number });
      }
    } catch (err) {
      problems.push({ number, kind: isSocklabError(err) && err.code === 'E_PERMISSION' ? 'permission' : 'usage', message: messageOf(err) });
    }
  });
  return { lines, problems };
}

/**
 * Problems of the line a command runs later (a rule's COMMAND), checked as a
 * line of the script: JavaScript needs --allow-js, files the permissions.
 */
function checkInner(line: string, number: number, commands: CommandTable, allowJs: boolean, permissions: Permissions | undefined): ScriptProblem[] {
  if (!isCommandLine(line)) {
    if (allowJs) return [];
    const length = line.trim().length;
    return [{ number, kind: 'js', message: `a rule's JavaScript COMMAND refused (${length} character${length === 1 ? '' : 's'}, not quoted): scripts run JavaScript only with --allow-js` }];
  }
  if (permissions === undefined) return [];
  try {
    const prepared = prepareCommand({ commands }, line.trim());
    for (const use of prepared.command.files?.(prepared.args) ?? []) checkFile(permissions, use);
    prepared.command.scriptCheck?.(prepared.args);
    return [];
  } catch (err) {
    return [{ number, kind: isSocklabError(err) && err.code === 'E_PERMISSION' ? 'permission' : 'usage', message: messageOf(err) }];
  }
}

/** Problems of a nested `.replay` line: flags it may not add, and the lines of the file it runs. */
function checkReplay(args: ParsedArgs, commands: CommandTable, perms: Permissions, stack: string[]): ScriptProblem[] {
  for (const [flag, key] of FLAGS) {
    if (args.options[flag] === true && !perms[key]) {
      const message = `.replay --${flag} inside a script run without --${flag}: a replayed script inherits the run's permissions and cannot add any`;
      return [{ number: 0, kind: 'permission', message }];
    }
  }
  const file = args.positionals[0] ?? '';
  const path = resolve(perms.base, file);
  if (stack.includes(path)) return [{ number: 0, kind: 'usage', message: `${file} replays itself: a script that replays itself would never end` }];
  if (stack.length >= MAX_REPLAY_DEPTH) return [{ number: 0, kind: 'usage', message: `.replay nested deeper than ${MAX_REPLAY_DEPTH} files: flatten the scripts` }];
  const source = readScriptSync(path, file) ?? '';
  const nested = checkScript(source, commands, nestedPermissions(perms, file), [...stack, path]);
  return nested.problems.map((p) => ({ ...p, file: p.file ?? file }));
}
