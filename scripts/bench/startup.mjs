// Row 7: start-up to the first prompt, socklab vs node's own REPL.
import { interleave } from './pairs.mjs';
import { start, stop, waitFor } from './procs.mjs';
import { startSocklab } from './servers.mjs';
import { row } from './table.mjs';

/** Milliseconds from spawn() to `prompt` on the child's stdout (stdin a pipe, kept open). */
async function untilPrompt(spawnChild, prompt) {
  const t0 = performance.now();
  const proc = spawnChild();
  try {
    await waitFor(proc, prompt, 10_000, 'first prompt');
    return performance.now() - t0;
  } finally {
    await stop(proc);
  }
}

export async function startupRows(rounds, log) {
  log(`start-up: median of ${rounds} after one warm-up each, socklab -e '.set time on' vs node -i`);
  const sides = {
    node: () => untilPrompt(() => start(process.execPath, ['-i']), /(^|\n)> /),
    socklab: () => untilPrompt(() => startSocklab(['.set time on']), /socklab> /),
  };
  // The first start of each reads its files from disk; the user's second start does not.
  await sides.node();
  await sides.socklab();
  const r = await interleave(rounds, sides, log);
  return [row('7. start-up to first prompt', 'ms', r.node.median, r.socklab.median, 'lower', 1.3)];
}
