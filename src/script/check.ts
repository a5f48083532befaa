import type { CommandTable } from '../commands/define.js';
import { isBlankOrComment, isCommandLine, prepareCommand } from '../commands/dispatch.js';
import { messageOf } from '../errors.js';

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
  /** `usage`: the command does not parse; `js`: a JavaScript line without allowJs. */
  kind: 'usage' | 'js';
}

/**
 * Read and check a whole script before anything runs (a pure function): every
 * command must parse, and JavaScript lines are refused unless allowed.
 */
export function checkScript(
  source: string,
  commands: CommandTable,
  allowJs: boolean,
): { lines: ScriptLine[]; problems: ScriptProblem[] } {
  const lines: ScriptLine[] = [];
  const problems: ScriptProblem[] = [];
  source.split(/\r?\n/).forEach((text, i) => {
    const number = i + 1;
    if (isBlankOrComment(text)) return;
    if (!isCommandLine(text)) {
      if (!allowJs) {
        problems.push({ number, kind: 'js', message: `JavaScript line refused: ${clip(text)} (scripts run JavaScript only with --allow-js)` });
      }
      lines.push({ number, text, kind: 'js' });
      return;
    }
    try {
      prepareCommand({ commands }, text.trim());
    } catch (err) {
      problems.push({ number, kind: 'usage', message: messageOf(err) });
    }
    lines.push({ number, text, kind: 'command' });
  });
  return { lines, problems };
}

function clip(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > 60 ? `${t.slice(0, 57)}...` : t);
}
