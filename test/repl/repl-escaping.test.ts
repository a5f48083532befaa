/**
 * The REPL's own printing (issue 9, SPEC section 7): JavaScript results,
 * thrown errors and completion candidates go through the one escaping table;
 * an error of a JS line queued behind `.listen` prints as one typed at the
 * prompt, without socklab's frames.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, track } from '../helpers/loopback.js';
import { startHarness, type ReplHarness } from '../helpers/repl-harness.js';
import { rawControls, sendAndEnd } from '../hostile/helpers.js';

afterEach(closeAll);

const clean = (h: ReplHarness): string[] => rawControls(Buffer.from(h.output()));

/** Ask the REPL's completer (the one Tab calls) for `line`. */
function complete(h: ReplHarness, line: string): Promise<[string[], string]> {
  const server = h.repl.server as unknown as { completer(line: string, cb: (err: Error | null, r: [string[], string]) => void): void };
  return new Promise((resolve, reject) => server.completer(line, (err, r) => (err ? reject(err) : resolve(r))));
}

describe('JavaScript results are escaped', () => {
  it.each<[string, string, string]>([
    ['JSON.parse of peer text with bidi, zero-width and line separator', `JSON.parse('"a\\\\u202eb\\\\u200bc\\\\u2028d"')`, `'a\\u{202e}b\\u{200b}c\\u{2028}d'`],
    ['tag characters', `'x' + String.fromCodePoint(0xe0041, 0xe007f)`, `'x\\u{e0041}\\u{e007f}'`],
    ['Hangul filler and variation selector', `'\\u3164|\\ufe0f'`, `'\\u{3164}|\\u{fe0f}'`],
    ['object keys and values', `({ ['k\\u202e']: '\\u2066v' })`, `{ 'k\\u{202e}': '\\u{2066}v' }`],
    ['a function named with an OSC', `Object.defineProperty(() => 1, 'name', { value: '\\x1b]0;pwned\\x07' })`, `[Function: \\x1b]0;pwned\\x07]`],
  ])('%s', async (_name, line, shown) => {
    const h = startHarness();
    h.mark();
    h.type(line);
    await h.waitFor(shown);
    expect(clean(h)).toEqual([]);
  });
});

describe('thrown errors are escaped', () => {
  it.each<[string, string, string]>([
    ['an Error whose message has an OSC', `throw new Error('\\x1b]0;pwned\\x07 \\u202e')`, 'Uncaught Error: \\x1b]0;pwned\\x07 \\u{202e}'],
    ['a thrown string', `throw '\\x1b[2J\\u2028'`, "Uncaught '\\x1B[2J\\u{2028}'"],
    ['a rejected promise, awaited', `await Promise.reject(new TypeError('\\u{e0041}\\x9b'))`, 'Uncaught TypeError: \\u{e0041}\\u{009b}'],
    ['JSON.parse of peer text that is not JSON', `JSON.parse('\\x1b]0;x\\x07')`, 'Uncaught SyntaxError: Unexpected token'],
  ])('%s', async (_name, line, shown) => {
    const h = startHarness();
    h.mark();
    h.type(line);
    await h.waitFor(shown);
    h.type('1 + 1');
    await h.waitFor(/^(?:socklab> )*2$/m);
    expect(clean(h)).toEqual([]);
  });
});

describe('completion never inserts a name the escaping table changes (review #16)', () => {
  it('file names with ESC for .replay and .record: left out, one note names them escaped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'socklab-complete-'));
    track(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'ok.lab'), '');
    writeFileSync(join(dir, 'evil\x1b]0;pwned\x07.lab'), '');
    writeFileSync(join(dir, 'rtl\u202ebal.lab'), '');
    const h = startHarness();
    const [candidates] = await complete(h, `.replay ${dir}/`);
    expect(candidates).toEqual([`${dir}/ok.lab `]);
    await h.waitFor('not completed: 2 names hold control or invisible characters');
    h.mark();
    const [one] = await complete(h, `.record ${dir}/ev`);
    expect(one).toEqual([]);
    await h.waitFor(`not completed: a name holds control or invisible characters ("${dir}/evil\\x1b]0;pwned\\x07.lab")`);
    expect(rawControls(Buffer.from(h.output().replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')))).toEqual([]);
    await h.close();
  });

  it('JavaScript names with invisible characters: left out, with a note', async () => {
    const h = startHarness();
    h.type('var zz\u200dhidden = 1; var zz\u{e0100}vs = 2; var zzplain = 3');
    await h.waitFor('socklab> ');
    const [candidates] = await complete(h, 'zz');
    expect(candidates.filter((c) => c.startsWith('zz'))).toEqual(['zzplain']);
    await h.waitFor('not completed: 2 names hold control or invisible characters ("zz\\u{200d}hidden", "zz\\u{e0100}vs")');
    expect(rawControls(Buffer.from(candidates.join('\n')))).toEqual([]);
    await h.close();
  });
});

describe('JS lines queued behind .listen print like lines typed at the prompt', () => {
  it('no stack frames of socklab or node:repl', async () => {
    const h = startHarness();
    h.type('null.x');
    await h.waitFor("Uncaught TypeError: Cannot read properties of null (reading 'x')");
    const typed = h.output();
    h.mark();
    // Pasted: both lines arrive in one chunk, the second waits until s1 is listening.
    h.type('.listen 0\nnull.y');
    await h.waitFor("Uncaught TypeError: Cannot read properties of null (reading 'y')");
    h.type('1 + 1');
    await h.waitFor(/^(?:socklab> )*2$/m);
    expect(typed).not.toMatch(/^\s+at /m);
    expect(h.output()).not.toMatch(/^\s+at /m);
  });

  it('behind a blocking command too', async () => {
    const h = startHarness();
    h.mark();
    h.type('.sleep 10ms\nundefinedThing');
    await h.waitFor('Uncaught ReferenceError: undefinedThing is not defined');
    h.type('1 + 1');
    await h.waitFor(/^(?:socklab> )*2$/m);
    expect(h.output()).not.toMatch(/^\s+at /m);
  });
});

describe('error lines are never cut inside the user text', () => {
  it('an HTTP request containing "EHTTP" shows its whole error line', async () => {
    const h = startHarness();
    h.type('.listen 0 --http');
    const port = Number((await h.waitFor(/listening on 127\.0\.0\.1:\d+/)).split(':').at(-1));
    await sendAndEnd(port, 'GET /EHTTP-then-more x y\r\n\r\n');
    const line = await h.waitFor(/c1 +error EHTTP [^\n]*\n/);
    expect(line).toContain('bad request line "GET /EHTTP-then-more x y"');
    expect(clean(h)).toEqual([]);
  });
});

describe('errors thrown later, from a timer the line started', () => {
  it('print escaped through the same writer, and the REPL lives on', async () => {
    const h = startHarness();
    h.mark();
    h.type("setTimeout(() => { throw new Error('late \\x1b]0;pwned\\x07') }, 1); 'started'");
    await h.waitFor('Uncaught Error: late \\x1b]0;pwned\\x07');
    h.type('1 + 1');
    await h.waitFor(/^(?:socklab> )*2$/m);
    expect(clean(h)).toEqual([]);
  });
});
