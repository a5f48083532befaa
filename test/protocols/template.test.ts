import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SocklabError } from '../../src/errors.js';
import { compileTemplate, type ReplyContext } from '../../src/protocols/template.js';

const ctx = (data: Buffer | string): ReplyContext => ({
  data: typeof data === 'string' ? Buffer.from(data) : data,
  id: 'c3',
  remote: '127.0.0.1:51234',
});

const run = (spec: string, data: Buffer | string): string => compileTemplate(spec)(ctx(data)).toString('utf8');

describe('compileTemplate', () => {
  it.each<[string, string, string]>([
    ['You said "{upper}"', 'I am Chuck Norris!', 'You said "I AM CHUCK NORRIS!"'],
    ['你好{data}', '哇咔咔', '你好哇咔咔'],
    ['{lower}', 'HeLLo ÄÖ', 'hello äö'],
    ['{len}', 'hello', '5'],
    ['{len}', '哇', '3'],
    ['{len} bytes', '', '0 bytes'],
    ['{hex}', 'AZ\n', '415a0a'],
    ['{id} from {remote}', 'x', 'c3 from 127.0.0.1:51234'],
    ['[{data}|{data}]', 'ab', '[ab|ab]'],
    ['{data}\\n', 'hi', 'hi\n'],
    ['\\u{1F600} {data}', 'x', '😀 x'],
    ['{{data}} is {data}', 'x', '{data} is x'],
    ['{{}}', 'x', '{}'],
    ['{{"len": {len}}}', 'abc', '{"len": 3}'],
    ['"quotes stay"', 'x', '"quotes stay"'],
    ['fixed\\tline', 'ignored', 'fixed\tline'],
    ['', 'x', ''],
    ['hex:{hex}', '\x01', 'hex:01'],
  ])('%j with %j → %j', (spec, data, expected) => {
    expect(run(spec, data)).toBe(expected);
  });

  it('passes binary {data} through unchanged', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(compileTemplate('{data}')(ctx(all))).toEqual(all);
    expect(compileTemplate('<{data}>')(ctx(all))).toEqual(Buffer.concat([Buffer.from('<'), all, Buffer.from('>')]));
    expect(compileTemplate('\\xff{data}\\x00')(ctx(Buffer.from([0x80])))).toEqual(Buffer.from([0xff, 0x80, 0x00]));
  });

  it('binary-safe for any bytes (property)', () => {
    const template = compileTemplate('a{data}b{len}');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (raw) => {
        const data = Buffer.from(raw);
        const expected = Buffer.concat([Buffer.from('a'), data, Buffer.from(`b${data.length}`)]);
        expect(template(ctx(data))).toEqual(expected);
      }),
    );
  });

  it('treats a prefixed spec without braces as a fixed payload', () => {
    expect(run('hex:48 69', 'x')).toBe('Hi');
    expect(run('base64:SGk=', 'x')).toBe('Hi');
    const dir = mkdtempSync(join(tmpdir(), 'socklab-template-'));
    try {
      const path = join(dir, 'reply.txt');
      writeFileSync(path, 'from a file');
      const template = compileTemplate(`file:${path}`);
      rmSync(path);
      expect(template(ctx('x')).toString()).toBe('from a file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const seen: string[] = [];
    const template = compileTemplate('file:reply.bin', { readFile: (p) => (seen.push(p), Buffer.from([1, 2])) });
    expect(template(ctx('x'))).toEqual(Buffer.from([1, 2]));
    expect(seen).toEqual(['reply.bin']);
  });

  it.each<[string, string, string]>([
    ['hi {foo}', 'E_BAD_PAYLOAD', 'unknown placeholder {foo} at column 4: use one of {data} {upper} {lower} {len} {hex} {id} {remote}'],
    ['{DATA}', 'E_BAD_PAYLOAD', 'unknown placeholder {DATA}'],
    ['{constructor}', 'E_BAD_PAYLOAD', 'unknown placeholder {constructor}'],
    ['{}', 'E_BAD_PAYLOAD', 'unknown placeholder {}'],
    ['{"a": 1}', 'E_BAD_PAYLOAD', 'or {{ and }} for literal braces'],
    ['oops {data', 'E_BAD_PAYLOAD', 'unclosed "{" at column 6'],
    ['a } b', 'E_BAD_PAYLOAD', 'single "}" at column 3 of the template: write }} for a literal brace'],
    ['{data}\\q', 'E_BAD_PAYLOAD', 'bad escape "\\q" at column 7'],
    ['你好 \\q {data}', 'E_BAD_PAYLOAD', 'bad escape "\\q" at column 4'],
    ['{{\\x4}}', 'E_BAD_PAYLOAD', 'bad escape "\\x4" at column 3'],
    ['\\{data}', 'E_BAD_PAYLOAD', 'bad escape "\\{" at column 1 of the template: write {{ for a literal brace'],
    ['a\\}', 'E_BAD_PAYLOAD', 'bad escape "\\}" at column 2 of the template: write }}'],
    ['end\\', 'E_BAD_PAYLOAD', 'bad escape "\\" at the end (column 4)'],
    ['hex:4g', 'E_BAD_PAYLOAD', 'bad hex digit "g"'],
    ['file:/nonexistent-socklab/reply.bin', 'E_IO', 'cannot read file:/nonexistent-socklab/reply.bin: no such file'],
  ])('%j is refused', (spec, code, message) => {
    let error: unknown;
    try {
      compileTemplate(spec);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SocklabError);
    expect((error as SocklabError).code).toBe(code);
    expect((error as SocklabError).message).toContain(message);
  });

  it('compiles once: later calls do not re-read a file', () => {
    let reads = 0;
    const template = compileTemplate('file:x', { readFile: () => (reads++, Buffer.from('r')) });
    for (let i = 0; i < 3; i++) template(ctx('x'));
    expect(reads).toBe(1);
  });
});
