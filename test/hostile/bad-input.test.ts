/**
 * Issue #5.6 and the input limits of #5.7: bad input, fuzzed. Any command
 * line either parses or yields one SocklabError with a helpful message; run
 * against live sockets it never lets another exception out, and never exits
 * the process. The script reader never throws. Lines and payloads past their
 * limits are refused with a clear error. (The tokenizer and the payload
 * decoder have their own properties in test/parse.)
 */
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { MAX_LINE_LENGTH, prepareCommand } from '../../src/commands/dispatch.js';
import { SocklabError } from '../../src/errors.js';
import { checkScript } from '../../src/script/check.js';
import { cleanupProcesses, runCli } from '../helpers/cli.js';
import { commandRig } from '../helpers/commands.js';
import { closeAll, tempDir } from '../helpers/loopback.js';
import { startHarness } from '../helpers/repl-harness.js';
import { MiB, report } from './helpers.js';

afterEach(async () => {
  vi.restoreAllMocks();
  await cleanupProcesses();
  await closeAll();
});

/** What makes an error message helpful: one line that says something, with no leaked internals. */
function expectHelpful(message: string, context: string): void {
  expect(message.length, context).toBeGreaterThan(10);
  expect(message, context).not.toMatch(/\n|\bundefined\b|\[object |\bNaN\b|^Error:|at .*\(.*:\d+:\d+\)/);
}

// Words that make parsers take their less common paths, mixed with arbitrary text.
const WORDS = [' ', '  ', '"', "'", '\\', '\\x1b', '\\u{202e}', '\\x', '--', '=', 'as', 'x', '0', '1', '2', '-1', '1e3', '1ms', '99999999999',
  'c1', 'c2', 's1', 's9', 'all', 'hex:', 'hex:4', 'base64:', 'base64:QQ', 'é', '😀', '\t', 'on', 'off', 'text', 'hex', 'eol', 'crlf', 'maxbytes',
  '--repeat', '--chunk', '--delay', '--eol', '--no-drain', '--force', '--open', '--all', '--mermaid', '--timeout', '--reply', '--count', '/(/', '/a/g',
  'constructor', '__proto__', 'toString', 'hasOwnProperty'];
const rest = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.array(fc.constantFrom(...WORDS), { maxLength: 10 }).map((w) => w.join(' ')),
  fc.array(fc.constantFrom(...WORDS), { maxLength: 10 }).map((w) => w.join('')),
);

describe('the command parser, fuzzed over every command', () => {
  it('any `.command …` line parses, or throws one SocklabError with a helpful message', () => {
    const names = [...COMMANDS.keys(), 'lisen', 'load', 'x'];
    fc.assert(
      fc.property(fc.constantFrom(...names), rest, (name, text) => {
        const line = `.${name} ${text}`;
        try {
          prepareCommand({ commands: COMMANDS }, line);
        } catch (err) {
          expect(err, line).toBeInstanceOf(SocklabError);
          expectHelpful((err as SocklabError).message, line);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

// Commands that touch only the session's own loopback sockets (and .connect to
// its own server, below): no files, no other addresses, no waits (.wait, .expect and .sleep would make each run last seconds).
const SAFE = ['send', 'sendln', 'end', 'close', 'destroy', 'pause', 'resume', 'ls', 'show', 'view', 'set', 'help', 'explain', 'timeline', 'attach', 'detach', 'exit'];

describe('the dispatcher, fuzzed against live sockets', () => {
  it('every line succeeds or fails with exactly one command-error that is a SocklabError (never E_INTERNAL); the process never exits', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`process.exit(${code}) called`);
    });
    const rig = commandRig();
    await rig.ok('.listen 0 --reply echo');
    await rig.ok('.connect s1 --count 2');
    const outcomes = { passed: 0, failed: 0 };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SAFE, 'connect'), fc.constantFrom('', 'c1', 'c2', 'c3', 'c5', 's1', 'all', 'constructor', '__proto__'), fc.oneof({ arbitrary: fc.constant(''), weight: 2 }, { arbitrary: rest, weight: 3 }), async (name, target, text) => {
        // .connect only to s1: never an address outside this process.
        const line = name === 'connect' ? `.connect s1 ${text}` : `.${name} ${target} ${text}`;
        if (line.includes('file:')) return;
        const before = rig.log.of('command-error').length;
        const ok = await rig.run(line);
        const errors = rig.log.of('command-error').slice(before);
        outcomes[ok ? 'passed' : 'failed']++;
        expect(errors, line).toHaveLength(ok ? 0 : 1);
        for (const e of errors) {
          expect(e.code, `${line}: ${e.message}`).not.toBe('E_INTERNAL');
          expectHelpful(e.message, line);
        }
      }),
      { numRuns: 1000 },
    );
    expect(exit).not.toHaveBeenCalled();
    // Not a vacuous run: plenty of lines ran, plenty were refused.
    expect(outcomes.passed).toBeGreaterThan(40);
    expect(outcomes.failed).toBeGreaterThan(40);
    // Still a working session afterwards.
    await rig.ok('.listen 0');
    await rig.ok('.ls');
    report(`dispatcher fuzz: ${outcomes.passed} lines ran, ${outcomes.failed} refused with one SocklabError each`);
  });
});

describe('the script reader, fuzzed', () => {
  const lines = fc.oneof(rest, rest.map((t) => `.${t}`), fc.constantFrom('', '# comment', '.listen 0', '.send c1 x', '.sleep 1s', 'console.log(1)', '.wait s1 accept as peer'));

  it('never throws: it returns the lines and a problem per bad line, each naming a line that exists', () => {
    fc.assert(
      fc.property(fc.array(lines, { maxLength: 20 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), (source, eol, allowJs) => {
        const text = source.join(eol);
        const count = text.split(/\r?\n/).length;
        const { problems } = checkScript(text, COMMANDS, allowJs);
        for (const p of problems) {
          expect(p.number).toBeGreaterThanOrEqual(1);
          expect(p.number).toBeLessThanOrEqual(count);
          expectHelpful(p.message, text);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('limits, with a clear error past them', () => {
  const long = `.send c1 ${'x'.repeat(MAX_LINE_LENGTH)}`;

  it(`a typed line longer than ${MAX_LINE_LENGTH} characters is refused, and the REPL lives on`, async () => {
    const h = startHarness();
    h.type(long);
    await h.waitFor(`!    line of ${long.length} characters is longer than ${MAX_LINE_LENGTH}: use file:PATH for large payloads`, 10_000);
    h.type('.listen 0');
    await h.waitFor('s1   listening on');
  });

  it('a script with such a line is refused before it runs (exit 2), naming file and line', async () => {
    const file = join(tempDir(), 'long.lab');
    writeFileSync(file, `.listen 0\n${long}\n`);
    const lab = runCli(['--no-time', file]);
    expect((await lab.waitForExit(10_000)).code).toBe(2);
    // The script reader refuses it while reading (SPEC section 6: no line over 1 MiB), before the checker.
    expect(lab.stderr()).toContain(`long.lab:2: line longer than 1 MiB, the limit of a script line`);
    expect(lab.stdout()).not.toContain('listening');
  });

  it('.send of a file past the payload limit (64 MiB) is refused without reading it', async () => {
    const file = join(tempDir(), 'big.bin');
    writeFileSync(file, '');
    truncateSync(file, 64 * MiB + 1); // sparse: nothing is written
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    const err = await rig.fail(`.send c1 file:${file}`);
    expect(err).toMatchObject({ code: 'E_LIMIT', message: `file:${file} is ${64 * MiB + 1} bytes, over the 67108864-byte limit of a payload: send it in smaller parts` });
  });

  it('.send file:/dev/zero (a device that never ends) is refused at once instead of hanging the process', async () => {
    const rig = commandRig();
    await rig.ok('.listen 0');
    await rig.ok('.connect s1');
    const err = await rig.fail('.send c1 file:/dev/zero');
    expect(err).toMatchObject({ code: 'E_IO', message: 'file:/dev/zero is a device: a file: payload is read from a regular file' });
    const greet = await rig.fail('.listen 0 --greet file:/dev/zero');
    expect(greet.code).toBe('E_IO');
  });
});
