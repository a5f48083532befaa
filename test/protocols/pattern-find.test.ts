/**
 * compilePattern's search from the first byte runs RE2 once for the match
 * and its groups; a re2js Matcher (the reference here, and what a search
 * from a later byte still uses) runs it twice. Both must give the same
 * match and groups: leftmost-first, groups that took no part, empty
 * matches, anchors, flags, invalid UTF-8.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { compilePattern, type PatternMatch } from '../../src/protocols/pattern.js';

const { RE2JS } = createRequire(import.meta.url)('re2js') as typeof import('re2js');
const FLAGS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL };

/** The first match as a re2js Matcher finds it (find, then each group's start and end). */
function reference(source: string, bytes: Uint8Array): PatternMatch | undefined {
  const [, body = '', flags = ''] = /^\/(.+)\/([a-z]*)$/s.exec(source) ?? [];
  let bits = 0;
  for (const f of flags) bits |= FLAGS[f] ?? 0;
  const translated = RE2JS.translateRegExp(body);
  const re = RE2JS.compile(flags.includes('y') ? `\\A(?:${translated})` : translated, bits);
  const m = re.matcher(bytes);
  if (!m.find(0)) return undefined;
  const captures = [];
  for (let g = 1; g <= re.groupCount(); g++) captures.push(m.start(g) < 0 ? undefined : { start: m.start(g), end: m.end(g) });
  return { start: m.start(), end: m.end(), captures };
}

const CASES: Array<[string, string | Buffer]> = [
  ['/PING (\\d+)\\r?\\n/', 'noise PING 42\r\nPING 7\n'],
  ['/([^\\n]*)\\n/', `${'p'.repeat(63)}\n`],
  ['/([^\\n]*)\\n/', 'no newline'],
  ['/(a)|(b)/', 'xxb'],
  ['/(a)?(b)/', 'b'],
  ['/x*/', 'abc'],
  ['/^(\\w+) (\\w+)$/m', 'one\ntwo three\nfour'],
  ['/HELLO (.)/is', 'say hello \n'],
  ['/\\bcat\\b/', 'concat cat'],
  ['/(\\d+)/y', '12ab'],
  ['/(\\d+)/y', 'ab12'],
  ['/(.)(.)/', Buffer.from([0xff, 0xc3, 0xa9, 0x41])],
  ['/(é+)/', 'caféé!'],
  ['/((a)(b(c)))/', 'zzabc'],
];

describe('a regex search from the first byte', () => {
  it.each(CASES)('%s in %j: the match and groups a Matcher finds', (source, input) => {
    const bytes = typeof input === 'string' ? Buffer.from(input) : input;
    const pattern = compilePattern(source);
    expect(pattern).toBeDefined();
    expect(pattern!.find(bytes)).toEqual(reference(source, bytes));
    expect(pattern!.find(bytes, 0)).toEqual(reference(source, bytes));
  });

  it('a search from a later byte still sees the bytes before it as context', () => {
    const pattern = compilePattern('/^(\\w)|\\b(\\w)/')!;
    expect(pattern.find(Buffer.from('ab cd'), 1)).toEqual({ start: 3, end: 4, captures: [undefined, { start: 3, end: 4 }] });
  });
});
