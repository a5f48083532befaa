import { SocklabError } from '../errors.js';
import { parseDuration } from './duration.js';
import { closest } from './suggest.js';

/** How an option's value is read. */
export type OptionType = 'flag' | 'string' | 'int' | 'duration';

export interface OptionSpec {
  type: OptionType;
  /** Placeholder shown in help (`MS`, `N`, `SPEC`). */
  value?: string;
  help: string;
  /** Smallest accepted value for `int` options. */
  min?: number;
  max?: number;
}

/** The shape of a command's words: positionals, options, payload, `as NAME`. */
export interface ArgsSpec {
  /** Names of the positional arguments, for messages (`TARGET`, `PAYLOAD`). */
  positionals: string[];
  /** How many positionals are required (default: all). */
  required?: number;
  /** The last positional is the rest of the line, raw (a payload). */
  rest?: boolean;
  /** Accepts a trailing `as NAME`. */
  alias?: boolean;
  options?: Record<string, OptionSpec>;
  /** Usage line for messages, e.g. `.send [opts] TARGET PAYLOAD`. */
  usage: string;
}

export type OptionValue = string | number | boolean;

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, OptionValue>;
  alias?: string;
}

/** Split `.name rest…` into the command name (without the dot) and the rest. */
export function splitCommand(line: string): { name: string; rest: string } {
  const m = /^\.(\S*)\s*([\s\S]*)$/.exec(line.trim());
  return { name: m?.[1] ?? '', rest: m?.[2] ?? '' };
}

/**
 * Read a command's words against its spec. Options come before the payload;
 * quotes ('…' or "…") group words; the payload is the rest of the line as typed.
 * `offset` is how many characters of the typed line come before `text`, so
 * error columns point into the line the user typed.
 */
export function parseArgs(spec: ArgsSpec, text: string, offset = 0): ParsedArgs {
  const result: ParsedArgs = { positionals: [], options: {} };
  let input = text.trim();
  offset += text.length - text.trimStart().length;
  if (spec.alias) {
    const m = /(?:^|\s)as\s+(\S+)$/.exec(input);
    // `--greet "hi as bob"` is a quoted value, not a name.
    if (m?.[1] !== undefined && outsideQuotes(input, m.index)) {
      result.alias = m[1];
      input = input.slice(0, m.index).trimEnd();
    } else {
      // `as NAME` followed by more words: name the words, not `as`.
      const late = /(?:^|\s)as\s+(\S+)\s+(\S.*)$/.exec(input);
      if (late?.[2] !== undefined && outsideQuotes(input, late.index)) throw usage(spec, afterName(late[1] ?? '', late[2]));
    }
  }
  const max = spec.positionals.length;
  let i = 0;
  for (;;) {
    while (i < input.length && /\s/.test(input[i] ?? '')) i++;
    if (i >= input.length) break;
    if (input.startsWith('--', i)) {
      i = readOption(spec, input, i, result.options, offset);
      continue;
    }
    if (spec.rest && result.positionals.length === max - 1) {
      result.positionals.push(input.slice(i));
      break;
    }
    const token = readToken(input, i, offset);
    if (result.positionals.length >= max) {
      if (token.value.startsWith('#')) throw usage(spec, `unexpected "${input.slice(i)}": ${COMMENT_RULE}`);
      throw usage(spec, `unexpected "${token.value}"`);
    }
    result.positionals.push(token.value);
    i = token.end;
  }
  const required = spec.required ?? max;
  if (result.positionals.length < required) {
    throw usage(spec, `missing ${spec.positionals[result.positionals.length] ?? 'argument'}`);
  }
  return result;
}

// SPEC 6: `#` starts a comment only at the start of a line (on a payload command it is payload).
const COMMENT_RULE = 'a comment is a line of its own that starts with # (put the note on the line above)';

/** The message for words after `as NAME`: the name must come last. */
function afterName(name: string, extra: string): string {
  if (extra.startsWith('#')) return `unexpected "${extra}" after "as ${name}": ${COMMENT_RULE}`;
  const word = extra.split(/\s+/)[0] ?? extra;
  return `unexpected "${word}" after "as ${name}": the name comes last (… as ${name})`;
}

function readOption(spec: ArgsSpec, input: string, start: number, out: Record<string, OptionValue>, offset: number): number {
  const token = readToken(input, start, offset);
  const eq = token.value.indexOf('=');
  const name = (eq === -1 ? token.value : token.value.slice(0, eq)).slice(2);
  // Own keys only: `--toString` is not an option of anything.
  const option = spec.options && Object.hasOwn(spec.options, name) ? spec.options[name] : undefined;
  if (!option) {
    const known = Object.keys(spec.options ?? {});
    const guess = closest(name, known);
    const hint = guess ? `did you mean --${guess}? ` : '';
    const list = known.length ? `options: ${known.map((k) => `--${k}`).join(' ')}` : 'it takes no options';
    throw usage(spec, `unknown option --${name}: ${hint}${list}`);
  }
  if (option.type === 'flag') {
    if (eq !== -1) throw usage(spec, `--${name} takes no value`);
    out[name] = true;
    return token.end;
  }
  let raw: string;
  let end = token.end;
  if (eq !== -1) raw = token.value.slice(eq + 1);
  else {
    let j = end;
    while (j < input.length && /\s/.test(input[j] ?? '')) j++;
    if (j >= input.length) throw usage(spec, `--${name} needs a value (${option.value ?? 'VALUE'})`);
    const value = readToken(input, j, offset);
    raw = value.value;
    end = value.end;
  }
  out[name] = convert(spec, name, option, raw);
  return end;
}

function convert(spec: ArgsSpec, name: string, option: OptionSpec, raw: string): OptionValue {
  switch (option.type) {
    case 'string':
      return raw;
    case 'duration':
      return parseDuration(raw);
    case 'int': {
      const min = option.min ?? 0;
      const max = option.max ?? Number.MAX_SAFE_INTEGER;
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!(n >= min && n <= max)) {
        const range = option.max === undefined ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
        throw usage(spec, `--${name} takes ${range}, not "${raw}"`);
      }
      return n;
    }
    case 'flag':
      return true;
  }
}

/**
 * One word at `start`. '…' groups literally; "…" groups and keeps backslash
 * escapes as typed, for the payload decoder to read. `offset` shifts the
 * column in error messages (characters of the line before `input`).
 */
export function readToken(input: string, start: number, offset = 0): { value: string; end: number } {
  let value = '';
  let i = start;
  while (i < input.length && !/\s/.test(input[i] ?? '')) {
    const ch = input[i] as string;
    if (ch === "'" || ch === '"') {
      const close = findClose(input, i + 1, ch);
      if (close === -1) throw new SocklabError('E_USAGE', `unterminated ${ch === '"' ? 'double' : 'single'} quote at column ${offset + i + 1}: close it with ${ch}`);
      value += input.slice(i + 1, close);
      i = close + 1;
    } else {
      value += ch;
      i++;
    }
  }
  return { value, end: i };
}

/** True when `index` is not inside a '…' or "…" group of `input`. */
function outsideQuotes(input: string, index: number): boolean {
  for (let i = 0; i < index; i++) {
    const ch = input[i];
    if (ch !== "'" && ch !== '"') continue;
    const close = findClose(input, i + 1, ch);
    if (close === -1 || close > index) return false;
    i = close;
  }
  return true;
}

function findClose(input: string, from: number, quote: string): number {
  for (let i = from; i < input.length; i++) {
    if (quote === '"' && input[i] === '\\') i++;
    else if (input[i] === quote) return i;
  }
  return -1;
}

function usage(spec: ArgsSpec, what: string): SocklabError {
  return new SocklabError('E_USAGE', `${what} — usage: ${spec.usage}`);
}
