// Row 7: start-up, socklab vs node's own REPL, to the first prompt and to the
// end of `.exit` (issue 17 item 3: both ≤ 1.0×).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interleave, median } from './pairs.mjs';
import { start, stop, waitFor, withTimeout } from './procs.mjs';
import { startSocklab } from './servers.mjs';
import { info, row } from './table.mjs';

/**
 * Milliseconds from spawn() to `prompt` on the child's stdout (stdin a pipe,
 * kept open), then to the child's exit after `.exit` is typed.
 */
async function promptThenExit(spawnChild, prompt) {
  const t0 = performance.now();
  const proc = spawnChild();
  try {
    await waitFor(proc, prompt, 10_000, 'first prompt');
    const toPrompt = performance.now() - t0;
    proc.child.stdin.end('.exit\n');
    await withTimeout(proc.exit, 10_000, 'exit after .exit');
    return { toPrompt, toExit: performance.now() - t0 };
  } finally {
    await stop(proc);
  }
}

export async function startupRows(rounds, log) {
  // NODE_EXTRA_CA_CERTS makes every node process parse that file of CAs before
  // any JavaScript runs (~415 M instructions here, 3× what `node -i` does);
  // a user's machine rarely sets it, and it would hide socklab's own cost.
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS;
  try {
    log(`start-up: median of ${rounds} after one warm-up each, socklab -e '.set time on' vs node -i, to the first prompt and to the exit after .exit (NODE_EXTRA_CA_CERTS unset)`);
    const exits = { node: [], socklab: [], floor: [] };
    const side = (name, spawnChild, prompt) => async () => {
      const { toPrompt, toExit } = await promptThenExit(spawnChild, prompt);
      exits[name].push(toExit);
      return { value: toPrompt, note: `exit at ${toExit.toFixed(1)} ms` };
    };
    // The floor of any program built on node:repl: a file that only starts it, with a context of
    // its own as socklab's (docs/performance.md, "Still open": row 7 cannot go below this).
    const dir = mkdtempSync(join(tmpdir(), 'socklab-bench-repl-'));
    const floorFile = join(dir, 'repl.cjs');
    writeFileSync(floorFile, "require('node:repl').start({ useGlobal: false });\n");
    const sides = {
      node: side('node', () => start(process.execPath, ['-i']), /(^|\n)> /),
      socklab: side('socklab', () => startSocklab(['.set time on']), /socklab> /),
      floor: side('floor', () => start(process.execPath, [floorFile]), /(^|\n)> /),
    };
    try {
      // The first start of each reads its files from disk; the user's second start does not.
      for (const name of Object.keys(sides)) {
        await sides[name]();
        exits[name].length = 0;
      }
      const r = await interleave(rounds, sides, log);
      return [
        row('7. start-up to first prompt', 'ms', r.node.median, r.socklab.median, 'lower', 1.0),
        row('7′. start-up to the end of .exit', 'ms', median(exits.node), median(exits.socklab), 'lower', 1.0),
        info('7″. floor: a file that only starts node:repl (own context), to first prompt', 'ms', r.node.median, r.floor.median),
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    if (extraCa !== undefined) process.env.NODE_EXTRA_CA_CERTS = extraCa;
  }
}
