/**
 * Script variables (SPEC section 13): the pure substitution, property-tested,
 * and the CLI around it (`--var`, the environment, `.replay`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { parseVarOption, substituteLine, type Variables } from '../../src/script/variables.js';
import { cleanupProcesses, runCli } from '../helpers/cli.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

const from = (vars: Record<string, string>, env: Record<string, string> = {}): Variables => ({ vars, env });

describe('substituteLine', () => {
  it('set, default, unset, escaped', () => {
    expect(substituteLine('.connect ${HOST}:${PORT}', from({ HOST: 'h', PORT: '1' })).text).toBe('.connect h:1');
    expect(substituteLine('.connect ${PORT:-9000}', from({})).text).toBe('.connect 9000');
    expect(substituteLine('.connect ${PORT:-9000}', from({ PORT: '7' })).text).toBe('.connect 7');
    expect(substituteLine('.send c1 "\\${PORT}"', from({ PORT: '7' })).text).toBe('.send c1 "${PORT}"');
    const unset = substituteLine('.connect ${PORT}', from({}));
    expect(unset.problems.map((p) => p.name)).toEqual(['PORT']);
    expect(unset.problems[0]?.message).toMatch(/PORT is not set.*--var PORT=VALUE/);
  });

  it('--var wins over the environment, which is read otherwise', () => {
    expect(substituteLine('${A}${B}', from({ A: 'var' }, { A: 'env', B: 'envB' })).text).toBe('varenvB');
  });

  it('a value with a line break or control character is refused, never inserted', () => {
    for (const bad of ['1\n.exec x', 'a\rb', 'a\u2028b', '\u001b[2J', 'a\0b']) {
      const r = substituteLine('.send c1 ${X}', from({ X: bad }));
      expect(r.problems.map((p) => p.name)).toEqual(['X']);
      expect(r.text).toBe('.send c1 ${X}');
    }
    expect(() => parseVarOption('X=a\nb')).toThrow(/control character/);
    expect(() => parseVarOption('1X=a')).toThrow(/NAME=VALUE/);
    expect(parseVarOption('X=a=b')).toEqual(['X', 'a=b']);
  });

  const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/);
  const safe = fc.string({ maxLength: 20 }).filter((s) => !/[\p{Cc}\u2028\u2029]/u.test(s));

  it('property: text without `${` is unchanged', () => {
    fc.assert(fc.property(fc.string().filter((s) => !s.includes('${')), safe, (text, v) => {
      expect(substituteLine(text, from({ X: v }))).toEqual({ text, problems: [] });
    }));
  });

  it('property: values are inserted literally, once (a value holding ${…} is not expanded again) and never add a line', () => {
    fc.assert(fc.property(name, safe, fc.string({ maxLength: 10 }).filter((s) => !s.includes('$') && !s.includes('\\')), (n, value, around) => {
      const r = substituteLine(`${around}\${${n}}${around}`, from({ [n]: value, OTHER: 'no' }));
      expect(r.problems).toEqual([]);
      expect(r.text).toBe(`${around}${value}${around}`);
      expect(r.text.split('\n').length).toBe(`${around}${around}`.split('\n').length);
    }));
  });

  it('property: an escaped \\${ always comes out as ${, whatever is set', () => {
    fc.assert(fc.property(name, safe, (n, value) => {
      expect(substituteLine(`\\\${${n}}`, from({ [n]: value })).text).toBe(`\${${n}}`);
    }));
  });
});

describe('variables through the CLI', () => {
  function script(name: string, text: string, dir = join(tempDir(), 'vars')): string {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('--var and the environment reach the script; --var wins; \\${ stays literal', async () => {
    const file = script('v.lab', '.listen 0 --reply echo as srv\n.connect ${TARGET} as c\n.send c "${GREETING} \\${HOME}"\n.expect c "${GREETING:-nope} ${HOME}"\n');
    const p = runCli(['--no-time', '--var', 'TARGET=srv', file], { env: { GREETING: 'from-env', TARGET: 'wrong' } });
    const exit = await p.waitForExit(10_000);
    expect(exit.code, p.stdout() + p.stderr()).toBe(1);
    // "${HOME}" was sent literally, so expecting the expanded HOME fails: the escape held.
    expect(p.stdout() + p.stderr()).toContain('from-env ${HOME}');
  });

  it('an unset variable refuses the script before anything runs: exit 2, FILE:LINE and the name', async () => {
    const file = script('unset.lab', '.listen 0 as srv\n# ${NOT_A_PROBLEM_IN_A_COMMENT}\n.connect ${SOCKLAB_TEST_UNSET_PORT}\n');
    const p = runCli(['--no-time', file], { env: { SOCKLAB_TEST_UNSET_PORT: undefined } });
    const exit = await p.waitForExit(10_000);
    const out = p.stdout() + p.stderr();
    expect(exit.code, out).toBe(2);
    expect(out).toMatch(/unset\.lab:3.*SOCKLAB_TEST_UNSET_PORT is not set/);
    expect(out).not.toMatch(/listening/);
  });

  it('a nested .replay inherits the run\'s variables and is checked with them', async () => {
    const inner = script('inner.lab', '.send c "${WORD}"\n');
    const outer = script('outer.lab', '.listen 0 --reply echo as srv\n.connect srv as c\n.replay inner.lab\n.expect c "hello"\n', dirname(inner));
    const ok = runCli(['--no-time', '--var', 'WORD=hello', outer]);
    expect((await ok.waitForExit(10_000)).code, ok.stdout() + ok.stderr()).toBe(0);
    const refused = runCli(['--no-time', outer], { env: { WORD: undefined } });
    expect((await refused.waitForExit(10_000)).code).toBe(2);
    expect(refused.stdout() + refused.stderr()).toMatch(/inner\.lab:1.*WORD is not set/);
  });

  it('a bad --var is a usage error', async () => {
    const p = runCli(['--var', 'no-equals', '-e', '.ls', '--exit']);
    expect((await p.waitForExit(10_000)).code).toBe(2);
    expect(p.stderr()).toMatch(/--var takes NAME=VALUE/);
  });
});
