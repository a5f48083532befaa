/**
 * JavaScript typed at the prompt that throws later — in a timer, in a
 * listener it added to a socket, in a promise nobody awaits — is shown as
 * `Uncaught …` and the session lives on with its sockets (the brief: bad
 * input never ends the process). Before, a throw in `c1.on('data', …)`
 * ended socklab (exit 1): the socket was not in node:repl's domain. The
 * REPL now runs without node:domain (src/repl/light-domain.ts), so these
 * errors come through `process.on('uncaughtException')`. The built CLI.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupProcesses, runCli } from '../helpers/cli.js';
import { closeAll, tempDir } from '../helpers/loopback.js';

afterEach(async () => {
  await cleanupProcesses();
  await closeAll();
});

describe('an error JavaScript throws later, at the prompt', () => {
  it('in a listener on a socket, a timer and a rejected promise: one Uncaught line each, the sockets stay open', async () => {
    const lab = runCli(['--no-time', '-e', '.listen 0 --reply echo as e', '-e', '.connect e'], { keepStdin: true });
    await lab.waitForStdout(/c1 +connected/, 20_000);
    lab.write('void c1.on("data", (d) => { throw new Error("data boom " + d) })\n');
    lab.write('.send c2 one\n');
    await lab.waitForStdout(/Uncaught Error: data boom one/, 20_000);
    lab.write('setTimeout(() => { throw new RangeError("timer boom") }, 1)\n');
    await lab.waitForStdout(/Uncaught RangeError: timer boom/, 20_000);
    lab.write('void Promise.reject(new TypeError("nobody awaits"))\n');
    await lab.waitForStdout(/Uncaught TypeError: nobody awaits/, 20_000);
    // Still the same session: c2 → c1 still flows, and the listener still throws on it.
    lab.write('.send c2 two\n');
    await lab.waitForStdout(/Uncaught Error: data boom two/, 20_000);
    lab.write('.ls\n');
    await lab.waitForStdout(/^c1 .*open/m, 20_000);
    lab.end();
    const exit = await lab.waitForExit(20_000);
    expect(exit.code).toBe(0);
    expect(lab.stdout()).toMatch(/c1 +← 3 B +"two"/);
    expect(lab.stderr()).not.toMatch(/boom/);
    // The lines of the events that led to the error come before it (review 3 #6).
    const out = lab.stdout();
    expect(out.indexOf('"two"')).toBeLessThan(out.indexOf('data boom two'));
  });

  it('a line that throws at once is still the REPL\'s own error, and the line after it runs', async () => {
    const lab = runCli(['--no-time', '-e', 'void 0'], { keepStdin: true });
    lab.write('throw new Error("at once")\n');
    lab.write('6*7\n');
    await lab.waitForStdout(/\b42$/m, 20_000);
    expect(lab.stdout()).toMatch(/Uncaught Error: at once/);
    lab.end();
    expect((await lab.waitForExit(20_000)).code).toBe(0);
  });

  it('a line may not add an uncaughtException listener, as in Node\'s REPL (review 3 #3): one that throws would end the process', async () => {
    const lab = runCli(['--no-time', '-e', 'void 0'], { keepStdin: true });
    lab.write('process.on("uncaughtException", (e) => { throw new Error("again " + e.message) })\n');
    await lab.waitForStdout(/Uncaught Error: Listeners for `uncaughtException` cannot be used in the REPL/, 20_000);
    lab.write('setTimeout(() => { throw new Error("later") }, 1)\n');
    await lab.waitForStdout(/Uncaught Error: later/, 20_000);
    lab.write('6*7\n');
    await lab.waitForStdout(/\b42$/m, 20_000);
    lab.end();
    expect((await lab.waitForExit(20_000)).code).toBe(0);
    expect(lab.stdout()).not.toMatch(/again/);
  });
});

describe('an error script JavaScript throws later, headless (--allow-js)', () => {
  it('in a listener on a socket a dot-command opened: an E_JS line, the run goes on and closes everything, exit 1 (review 3 #4)', async () => {
    const file = join(tempDir(), 'listener-throws.lab');
    writeFileSync(file, '.listen 0\n.connect s1\nc1.on("data", (d) => { throw new Error("listener threw " + d) })\n.send c2 "x"\n.expect c1 "x"\n.send c2 "y"\n');
    const lab = runCli(['--no-time', '--allow-js', file]);
    const exit = await lab.waitForExit(20_000);
    expect(lab.stdout()).toMatch(/threw later: listener threw x/);
    expect(lab.stdout()).toMatch(/c1 +closed/);
    expect(lab.stderr()).not.toMatch(/listener threw|at Socket/);
    expect(exit.code).toBe(1);
  });

  it('in a timer, while a dot-command waits: the run fails though every line passed', async () => {
    const file = join(tempDir(), 'timer-throws.lab');
    writeFileSync(file, '.listen 0\nsetTimeout(() => { throw new RangeError("timer threw") }, 1)\n.sleep 300\n.ls\n');
    const lab = runCli(["--no-time", "--allow-js", file]);
    const exit = await lab.waitForExit(20_000);
    expect(lab.stdout()).toMatch(/threw later: timer threw/);
    expect(lab.stdout()).toMatch(/^id +name +kind/m);
    expect(exit.code).toBe(1);
  });
});

describe('node:domain, which node:repl loads', () => {
  it('does not stay wrapped around every emit of the process, and a domain created at the prompt (create() or new Domain()) still catches its errors', async () => {
    const lab = runCli(['--no-time', '-e', 'void 0'], { keepStdin: true });
    // Loading node:domain replaces EventEmitter.prototype.emit with a wrapper whose first line reads `this.domain`.
    lab.write('"plain emit: " + !String(require("events").prototype.emit).includes("this.domain")\n');
    await lab.waitForStdout(/plain emit: (true|false)/, 20_000);
    // The first domain of the process is made with the class (review 4 #2), the second with create().
    lab.write('const D = require("domain").Domain; const d2 = new D(); d2.on("error", (e) => console.log("class got " + e.message)); const em = new (require("events"))(); d2.add(em); setTimeout(() => em.emit("error", new Error("added")), 1)\n');
    await lab.waitForStdout(/class got added/, 20_000);
    lab.write('const d = require("domain").create(); d.on("error", (e) => console.log("domain got " + e.message)); d.run(() => new (require("events"))().emit("error", new Error("routed")))\n');
    await lab.waitForStdout(/domain got routed/, 20_000);
    lab.write('"same class: " + (d.constructor === require("domain").Domain && d2 instanceof require("domain").Domain)\n');
    await lab.waitForStdout(/same class: (true|false)/, 20_000);
    lab.end();
    expect((await lab.waitForExit(20_000)).code).toBe(0);
    expect(lab.stdout()).toMatch(/plain emit: true/);
    expect(lab.stdout()).toMatch(/same class: true/);
    expect(lab.stdout()).not.toMatch(/Uncaught/);
  });
});
