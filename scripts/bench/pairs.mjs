// Interleaved runs and their medians: baseline, socklab, baseline, socklab…
// in one invocation, so slow drift of the machine hits both sides alike.
import { startServer } from './servers.mjs';
import { stop } from './procs.mjs';

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * Run each named side `rounds` times, interleaved (a, b, a, b, …); every run
 * returns a number, or { value, note, cpu? } (the note is only logged).
 * Resolves to { name: { median, samples, cpu } }, cpu the median of the cpu
 * values (NaN when none).
 */
export async function interleave(rounds, sides, log) {
  const samples = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of Object.entries(sides)) {
      const result = await run();
      const value = typeof result === 'number' ? result : result.value;
      samples[name].push(value);
      if (typeof result === 'object' && result.cpu !== undefined) cpu[name].push(result.cpu);
      const note = typeof result === 'number' ? '' : `  (${result.note})`;
      log?.(`  ${name} #${i + 1}: ${Number.isFinite(value) ? value.toFixed(1) : value}${note}`);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, { median: median(s), samples: s, cpu: median(cpu[k]) }]));
}

/** Start a server of `kind`, run `fn(port, proc)`, always stop the server. */
export async function withServer(kind, fn) {
  const { proc, port } = await startServer(kind);
  try {
    return await fn(port, proc);
  } finally {
    await stop(proc);
  }
}
