// Row 8: a 1,000-step send/expect script on loopback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interleave, median } from './pairs.mjs';
import { start } from './procs.mjs';
import { ROOT, SOCKLAB, socklabNodeArgs } from './servers.mjs';
import { absolute } from './table.mjs';

const STEPS = 1000;

/** `.listen`, `.connect`, then (STEPS - 2) / 2 × (`.send` + `.expect`): STEPS command lines. */
export function makeScript(steps = STEPS) {
  const lines = ['# socklab bench: send/expect on loopback', '.listen 0 --reply echo', '.connect s1'];
  for (let i = 1; i <= (steps - 2) / 2; i++) lines.push(`.send c1 ping-${i}`, `.expect c1 ping-${i}`);
  return lines.join('\n') + '\n';
}

/** Wall time of `socklab --no-color FILE`, spawn to exit; rejects unless it exits 0. */
async function cliRun(file) {
  const t0 = performance.now();
  const proc = start(process.execPath, [...socklabNodeArgs(), SOCKLAB, '--no-color', file], { cwd: ROOT, env: { ...process.env, SOCKLAB_HISTORY: '' } });
  proc.child.stdin.end();
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 20_000);
  const { code, signal } = await proc.exit;
  clearTimeout(timer);
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`socklab ${file} exited ${code ?? signal}: ${proc.text.slice(-500)}`);
  return ms;
}

/**
 * The script inside this process, through dist/'s own runner, dispatcher and
 * human printer (writing to a sink): the script's own time, no start-up.
 */
async function inProcess(source) {
  const dist = (p) => new URL(`../../dist/${p}`, import.meta.url).href;
  const [{ runScript }, { scriptPermissions }, { createSession }, { COMMANDS }, { HumanPrinter }, { defaultSettings }] = await Promise.all([
    import(dist('script/runner.js')),
    import(dist('script/permissions.js')),
    import(dist('session/session.js')),
    import(dist('commands/index.js')),
    import(dist('render/printer.js')),
    import(dist('settings.js')),
  ]);
  const settings = defaultSettings({ color: false });
  const session = createSession();
  let printed = 0;
  const printer = new HumanPrinter(settings, (text) => (printed += text.length));
  session.subscribe(printer.handle);
  const ctx = { session, settings, commands: COMMANDS, interactive: false, print: (t) => printer.print(t), exit: async () => {} };
  const t0 = performance.now();
  const permissions = scriptPermissions(join(tmpdir(), 'bench.lab'), { js: false, read: false, write: false });
  const code = await runScript(ctx, { name: 'bench.lab', source, permissions, keepGoing: false });
  const ms = performance.now() - t0;
  await session.shutdown();
  printer.close();
  if (code !== 0) throw new Error(`in-process script exited ${code}`);
  return ms;
}

export async function scriptRows(rounds, log) {
  const dir = mkdtempSync(join(tmpdir(), 'socklab-bench-'));
  try {
    const long = join(dir, 'steps.lab');
    const short = join(dir, 'one.lab');
    const source = makeScript();
    writeFileSync(long, source);
    writeFileSync(short, '.listen 0 --reply echo\n');
    log(`script: ${STEPS} steps, CLI wall time minus a one-line script, median of ${rounds}`);
    const r = await interleave(rounds, { oneLine: () => cliRun(short), steps: () => cliRun(long) }, log);
    const inproc = [];
    for (let i = 0; i < rounds; i++) inproc.push(await inProcess(source));
    const inMs = median(inproc);
    log(`  in-process: ${inproc.map((x) => x.toFixed(1)).join(', ')} ms`);
    const delta = (r.steps.median - r.oneLine.median) / 1000;
    return [
      absolute('8. script, 1,000 steps (CLI − start-up)', 's', delta, 0.5, `whole CLI run ${(r.steps.median / 1000).toFixed(2)} s`),
      absolute('8b. script, 1,000 steps (in-process)', 's', inMs / 1000, 0.5),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
