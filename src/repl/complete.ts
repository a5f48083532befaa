import { readdirSync, statSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import type { CommandTable } from '../commands/define.js';
import { escapeMessage } from '../render/escape.js';
import { WAITABLE } from '../observers/event-queue.js';
import { RULE_EVENTS } from '../behaviours/rules.js';

/** What completion may offer besides the command table. */
export interface CompletionSource {
  commands: CommandTable;
  /** Ids and aliases open now. */
  names(): string[];
  /** Entries of a directory (injected in tests). */
  listDir?(dir: string): string[];
  /** Told, in one line, about candidates left out (names the escaping table would change). */
  note?(text: string): void;
}

// Fixed words some positions take, by command and argument index.
const WORDS: Record<string, Record<number, readonly string[]>> = {
  view: { 0: ['text', 'hex', 'both', 'off'] },
  wait: { 1: WAITABLE },
  on: { 1: RULE_EVENTS },
  off: { 0: ['all'] },
  set: { 0: ['eol', 'time', 'maxbytes', 'color'] },
  explain: { 0: ['on', 'off'] },
  record: { 0: ['stop'] },
};
const TAKES_ALL = new Set(['send', 'sendln', 'close', 'on']);
const TAKES_FILE = new Set(['record', 'replay']);

/**
 * Complete a dot-command line: command names, then the options of the command
 * being typed, ids and aliases, fixed words, and file paths for .record and
 * .replay. Returns readline's [candidates, the word they replace].
 *
 * A candidate the escaping table would change (a file named with ESC, a bidi
 * or invisible character) is not offered: readline inserts what it is given,
 * so the escaped text (`\x1b`) would name no file, and the raw name would
 * reach the terminal as the line is redrawn. `src.note` is told instead.
 */
export function completeCommandLine(line: string, src: CompletionSource): [string[], string] {
  const [raw, word] = candidatesFor(line, src);
  const candidates = raw.filter((c) => escapeMessage(c) === c);
  const left = raw.filter((c) => escapeMessage(c) !== c);
  if (left.length > 0) {
    const shown = left.slice(0, 3).map((c) => `"${escapeMessage(c)}"`).join(', ');
    src.note?.(`not completed: ${left.length === 1 ? 'a name holds' : `${left.length} names hold`} control or invisible characters (${shown}${left.length > 3 ? ', …' : ''}); rename it to type it`);
  }
  // One candidate that is a whole word gets its space, so the next word can be typed at once.
  if (candidates.length === 1 && !candidates[0]?.endsWith('/')) return [[`${candidates[0]} `], word];
  return [candidates, word];
}

function candidatesFor(line: string, src: CompletionSource): [string[], string] {
  const m = /^\s*\.(\S*)$/.exec(line);
  if (m) {
    const word = m[1] ?? '';
    const names = [...src.commands.keys()].filter((n) => n.startsWith(word)).map((n) => `.${n}`);
    return [names, `.${word}`];
  }
  const parts = /^\s*\.(\S+)\s+(.*)$/.exec(line);
  if (!parts) return [[], line];
  const name = parts[1] ?? '';
  const command = src.commands.get(name);
  if (!command) return [[], line];
  const rest = parts[2] ?? '';
  const words = rest.split(/\s+/);
  const word = words[words.length - 1] ?? '';
  const index = words.slice(0, -1).filter((w) => !w.startsWith('--')).length;
  let candidates: string[];
  if (word.startsWith('-')) {
    candidates = Object.keys(command.args.options ?? {}).map((o) => `--${o}`);
  } else if (words[words.length - 2] === 'as') {
    return [[], word];
  } else if (TAKES_FILE.has(name) && index === 0) {
    candidates = [...(WORDS[name]?.[0] ?? []), ...completePath(word, src)];
  } else {
    const fixed = WORDS[name]?.[index];
    if (fixed) candidates = [...fixed];
    else if (index < (command.args.rest ? command.args.positionals.length - 1 : command.args.positionals.length)) {
      candidates = [...src.names(), ...(TAKES_ALL.has(name) ? ['all'] : [])];
    } else candidates = [];
  }
  return [candidates.filter((c) => c.startsWith(word)).sort(), word];
}

function completePath(word: string, src: CompletionSource): string[] {
  const dir = word.endsWith('/') ? word : dirname(word);
  const list = src.listDir ?? defaultListDir;
  const prefix = word.endsWith('/') || dir !== '.' || word.startsWith('./') ? (word.endsWith('/') ? word : `${dir}/`) : '';
  return list(dir === '' ? '.' : dir)
    .filter((entry) => entry.startsWith(word.endsWith('/') ? '' : basename(word)))
    .map((entry) => `${prefix}${entry}`);
}

function defaultListDir(dir: string): string[] {
  try {
    return readdirSync(dir).map((e) => {
      try {
        return statSync(join(dir, e)).isDirectory() ? `${e}/` : e;
      } catch {
        return e;
      }
    });
  } catch {
    return [];
  }
}
