// Row 10: 200 small .lab files through `socklab test --jobs 2` (one process)
// vs `socklab FILE` 200 times in a shell loop (a start-up per file).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interleave } from './pairs.mjs';
import { row } from './table.mjs';

const BIN = fileURLToPath(new URL('../../bin/socklab.js', import.meta.url));
const FILES = 200;
const LAB = '.listen 0 --reply echo as srv\n.connect srv as c\n.sendln c hello\n.expect c "hello"\n.close c\n.wait c close\n';

const run = promisify(execFile);

/** Seconds a command takes to its end (a failing run throws); asynchronous, so the bench's watchdog still runs. */
async function timed(command, args) {
  const t0 = performance.now();
  await run(command, args, { maxBuffer: 64 * 1024 * 1024 });
  return (performance.now() - t0) / 1000;
}

export async function suiteRows(rounds, log) {
  const dir = mkdtempSync(join(os.tmpdir(), 'socklab-bench-suite-'));
  try {
    for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `f${String(i).padStart(3, '0')}.lab`), LAB);
    log(`suite: ${FILES} files, median of ${rounds}: socklab test --jobs 2 vs a shell loop of socklab FILE`);
    const loop = `for f in "$1"/*.lab; do "$2" "$3" --no-time "$f" >/dev/null || exit 1; done`;
    const sides = {
      loop: () => timed('sh', ['-c', loop, 'sh', dir, process.execPath, BIN]),
      suite: () => timed(process.execPath, [BIN, 'test', '--jobs', '2', '--no-time', dir]),
    };
    const r = await interleave(rounds, sides, log);
    return [row(`10. ${FILES} .lab files: test --jobs 2 vs a shell loop`, 's', r.loop.median, r.suite.median, 'lower', 0.25, 'sh loop')];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
