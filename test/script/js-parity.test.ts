/**
 * A script's JavaScript line behaves as it does typed in the REPL (SPEC
 * section 6): `require`, `import()` and top-level `await` work, so a recorded
 * session with them replays under --allow-js.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupProcesses, jsonEvents, runCli } from '../helpers/cli.js';
import { closeAll, tempDir } from '../helpers/loopback.js';
import { startHarness } from '../helpers/repl-harness.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

const SESSION = [
  '.listen 0 --reply echo',
  '.connect s1',
  "const fs = require('fs')",
  'await new Promise(r => setTimeout(r, 1))',
  "const { sep } = await import('node:path')",
  "const greeting = await Promise.resolve('hello' + sep.length)",
  'c1.write(greeting + String(typeof fs.readFileSync))',
  '.expect c1 hello1function',
];

describe('script JavaScript = REPL JavaScript', () => {
  it('the issue: a REPL session with require and top-level await, recorded, replays with --allow-js', async () => {
    const file = join(tempDir(), 'js.lab');
    const h = startHarness();
    h.type(`.record ${file}`);
    await h.waitFor('recording to');
    for (const line of SESSION) {
      h.mark();
      h.type(line);
      await h.waitFor(line.startsWith('.') ? /(listening on|connected|expect ok)/ : 'socklab> ');
    }
    h.type('.record stop');
    await h.waitFor('recording stopped');
    await h.close();
    expect(readFileSync(file, 'utf8')).toBe(SESSION.map((l) => `${l}\n`).join(''));

    const p = runCli(['--json', '--allow-js', file]);
    expect((await p.waitForExit(10_000)).code, p.stdout() + p.stderr()).toBe(0);
    const events = jsonEvents(p.stdout());
    expect(events.filter((ev) => ev.event === 'command-error')).toEqual([]);
    expect(events.filter((ev) => ev.event === 'expect-ok')).toHaveLength(1);
  });

  it('a JS line that throws, or rejects after an await, fails the script at its line', async () => {
    for (const [line, message] of [
      ["require('no-such-module-here')", /no-such-module-here/],
      ["await Promise.reject(new Error('late boom'))", /late boom/],
      ['function f() {', /incomplete JavaScript/],
    ] as const) {
      const file = join(tempDir(), 'bad.lab');
      writeFileSync(file, `.listen 0\n${line}\n.listen 0\n`);
      const p = runCli(['--json', '--allow-js', file]);
      expect((await p.waitForExit(10_000)).code, line).toBe(1);
      const errs = jsonEvents(p.stdout()).filter((ev) => ev.event === 'command-error');
      expect(errs.map((ev) => [ev.source, ev.code]), line).toEqual([[`${file}:2`, 'E_JS']]);
      expect(String(errs[0]?.message)).toMatch(message);
      expect(jsonEvents(p.stdout()).filter((ev) => ev.event === 'listening')).toHaveLength(1);
    }
  });
});
