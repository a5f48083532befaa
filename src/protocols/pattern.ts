import { createRequire } from 'node:module';
import type { RE2JS as RE2JSPattern } from 're2js';
import { SocklabError } from '../errors.js';

/** Where a match (or one capture group) lies: byte offsets into the searched bytes, `end` exclusive. */
export interface Span {
  start: number;
  end: number;
}

/** The first match found: its span and each capture group's (undefined when the group took no part). */
export interface PatternMatch extends Span {
  captures: Array<Span | undefined>;
}

/**
 * A compiled `/regex/flags`, matched in linear time over bytes (RE2 via
 * re2js), so no pattern and no peer's bytes can hang the process.
 */
export interface BytePattern {
  /** The pattern as typed, `/…/flags`. */
  readonly source: string;
  /**
   * The most bytes one match can span, or Infinity when the pattern repeats
   * without bound (`*`, `+`, `{n,}`). A conservative upper bound: a caller
   * that searched some bytes already needs to look back only this far.
   */
  readonly maxLength: number;
  /**
   * The leftmost match in `bytes` that starts at or after `from` (byte
   * offset). Bytes before `from` still count as context: `^` means offset 0
   * of `bytes` and `\b` sees the byte before `from`. Invalid UTF-8 bytes
   * match as one U+FFFD each. Undefined when nothing matches.
   */
  find(bytes: Uint8Array, from?: number): PatternMatch | undefined;
}

/**
 * JavaScript constructs RE2 cannot run in linear time (or at all), each with
 * the name the error gives it. Checked outside character classes.
 */
const UNSUPPORTED: Array<[RegExp, string]> = [
  [/^\\[1-9]/, 'a backreference (\\1 … \\9)'],
  [/^\\k</, 'a named backreference (\\k<name>)'],
  [/^\(\?=/, 'a lookahead (?=…)'],
  [/^\(\?!/, 'a negative lookahead (?!…)'],
  [/^\(\?<=/, 'a lookbehind (?<=…)'],
  [/^\(\?<!/, 'a negative lookbehind (?<!…)'],
];

type Re2js = typeof import('re2js');
let loaded: Re2js | undefined;
// re2js is ~260 KB of JavaScript: parsed on the first pattern, not at start-up.
function re2js(): Re2js {
  loaded ??= createRequire(import.meta.url)('re2js') as Re2js;
  return loaded;
}

const FLAG_NAMES = { i: 'CASE_INSENSITIVE', m: 'MULTILINE', s: 'DOTALL' } as const;
const FLAGS_WITHOUT_BITS = new Set(['u', 'g', 'y']);

/**
 * Read `/regex/flags`; anything else is not a regex (undefined).
 *
 * JavaScript syntax, run by RE2: flags `i` `m` `s` `u` mean what they mean in
 * JavaScript (RE2 is always Unicode-aware); `g` is accepted and changes
 * nothing (every search finds the first match after the last one); `y`
 * (sticky) anchors the match at the first byte searched. Backreferences and
 * lookaround are refused by name, as are other flags and what RE2 rejects
 * (e.g. a repeat count over 1000).
 *
 * @throws SocklabError E_BAD_PAYLOAD naming the construct or flag that is not supported.
 */
export function compilePattern(text: string): BytePattern | undefined {
  const m = /^\/(.+)\/([a-z]*)$/s.exec(text);
  if (!m) return undefined;
  const body = m[1] ?? '';
  const flags = m[2] ?? '';
  const { RE2JS, RE2JSException } = re2js();
  let bits = 0;
  for (const f of flags) {
    const bit = Object.hasOwn(FLAG_NAMES, f) ? RE2JS[FLAG_NAMES[f as keyof typeof FLAG_NAMES]] : FLAGS_WITHOUT_BITS.has(f) ? 0 : undefined;
    if (bit === undefined) throw new SocklabError('E_BAD_PAYLOAD', `bad regex ${text}: flag "${f}" is not supported (use i, m, s, u; g and y are accepted)`);
    bits |= bit;
  }
  checkSupported(text, body);
  let translated = RE2JS.translateRegExp(body);
  if (flags.includes('y')) translated = `\\A(?:${translated})`;
  let re: RE2JSPattern;
  try {
    re = RE2JS.compile(translated, bits);
  } catch (err) {
    const why = err instanceof RE2JSException ? err.message.replace(/^error parsing regexp: /, '') : String(err);
    throw new SocklabError('E_BAD_PAYLOAD', `bad regex ${text}: ${why}`, { cause: err });
  }
  const groups = re.groupCount();
  const engine = re.re2();
  return {
    source: text,
    maxLength: maxLength(body),
    find(bytes, from = 0) {
      // From the first byte: one run of the engine for the match and its groups (a Matcher runs it
      // once for the match, then again from its start for the groups).
      if (from === 0) return fromIndex(engine.findUTF8SubmatchIndex(bytes) as number[] | null, groups);
      const matcher = re.matcher(bytes);
      if (!matcher.find(from)) return undefined;
      const captures: Array<Span | undefined> = [];
      for (let g = 1; g <= groups; g++) {
        const start = matcher.start(g);
        captures.push(start < 0 ? undefined : { start, end: matcher.end(g) });
      }
      return { start: matcher.start(), end: matcher.end(), captures };
    },
  };
}

/** A match from RE2's index pairs (`[start, end, group 1 start, group 1 end, …]`, -1 for a group that took no part). */
function fromIndex(a: number[] | null, groups: number): PatternMatch | undefined {
  if (a === null) return undefined;
  const captures: Array<Span | undefined> = [];
  for (let g = 1; g <= groups; g++) {
    const start = a[2 * g] ?? -1;
    captures.push(start < 0 ? undefined : { start, end: a[2 * g + 1] ?? -1 });
  }
  return { start: a[0] ?? 0, end: a[1] ?? 0, captures };
}

/** Refuse, by name, the first construct outside a character class that RE2 does not have. */
function checkSupported(text: string, body: string): void {
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\' && inClass) i++;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (!inClass && (c === '\\' || c === '(')) {
      const rest = body.slice(i, i + 4);
      const hit = UNSUPPORTED.find(([re]) => re.test(rest));
      if (hit) {
        throw new SocklabError(
          'E_BAD_PAYLOAD',
          `bad regex ${text}: ${hit[1]} is not supported (the RE2 engine runs in linear time and has no backreferences or lookaround)`,
        );
      }
      if (c === '\\') i++;
    }
  }
}

/**
 * An upper bound on the bytes one match spans, from the source alone: every
 * atom matches at most one character (4 bytes of UTF-8), and a `{n,m}`
 * multiplies what it repeats by at most m, so length × 4 × the product of
 * the counts bounds it. Infinity for `*`, `+`, `{n,}` (outside a class).
 */
function maxLength(body: string): number {
  let factor = 1;
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') i++;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (!inClass && (c === '*' || c === '+')) return Infinity;
    else if (!inClass && c === '{') {
      const rep = /^\{(\d+)(,(\d*))?\}/.exec(body.slice(i));
      if (!rep) continue;
      if (rep[2] !== undefined && rep[3] === '') return Infinity;
      factor *= Number(rep[3] ?? rep[1]) || 1;
    }
  }
  return body.length * 4 * factor;
}
