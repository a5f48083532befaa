import { SocklabError } from '../../errors.js';
import { parseArgs, type ArgsSpec, type OptionSpec } from '../../parse/command-line.js';
import { FAULT_KINDS } from './index.js';
import { parseDuration } from '../../parse/duration.js';
import type { FaultKind, FaultParam, FaultParams } from './types.js';

/** Which directions of a link a fault applies to. */
export type FaultDirections = 'up' | 'down' | 'both';

/** A fault as `.fault pN …` asked for it, checked. */
export interface FaultRequest {
  kind: FaultKind;
  params: FaultParams;
  dirs: FaultDirections;
  /** The chance (0–1) that a link gets it. */
  toxicity: number;
}

const COMMON: Record<string, OptionSpec> = {
  up: { type: 'flag', help: 'client → target only' },
  down: { type: 'flag', help: 'target → client only' },
  toxicity: { type: 'string', value: 'P', help: 'the chance (0–1) that a link gets it (default 1)' },
};

/** `latency MS [--jitter MS]` — a kind's words, for usage lines and `.help fault`. */
export function kindUsage(kind: FaultKind): string {
  const words = kind.params.map((p) => (p.positional ? p.value : kind.problem && p.default === undefined ? `--${p.name} ${p.value}` : `[--${p.name} ${p.value}]`));
  return [kind.name, ...words].join(' ');
}

function spec(kind: FaultKind): ArgsSpec {
  const options: Record<string, OptionSpec> = { ...COMMON };
  for (const p of kind.params) if (!p.positional) options[p.name] = { type: p.type, value: p.value, help: p.help, min: p.min ?? 0 };
  return {
    usage: `.fault pN [--up|--down] ${kindUsage(kind)} [--toxicity P] [as NAME]`,
    positionals: kind.params.filter((p) => p.positional).map((p) => p.value),
    options,
  };
}

/** The kind named `word`, or E_USAGE listing the kinds. */
export function faultKind(word: string): FaultKind {
  const kind = FAULT_KINDS.get(word);
  if (kind === undefined) {
    throw new SocklabError('E_USAGE', `unknown fault "${word}": the kinds are ${[...FAULT_KINDS.keys()].join(', ')} (.help fault)`);
  }
  return kind;
}

/**
 * Read `KIND [params] [--toxicity P]` (`--up`/`--down` may come before KIND,
 * given in `before`). Throws E_USAGE / E_BAD_DURATION with one line saying
 * what was wrong and the kind's usage.
 */
export function parseFault(word: string, rest: string, before: { up?: boolean; down?: boolean; toxicity?: string }): FaultRequest {
  const kind = faultKind(word);
  const s = spec(kind);
  const a = parseArgs(s, rest);
  const params: Record<string, number> = {};
  let i = 0;
  for (const p of kind.params) {
    if (p.positional) params[p.name] = positional(kind, p, a.positionals[i++] ?? '', s.usage);
    else if (a.options[p.name] !== undefined) params[p.name] = Number(a.options[p.name]);
    else if (p.default !== undefined) params[p.name] = p.default;
  }
  const problem = kind.problem?.(params);
  if (problem !== undefined) throw new SocklabError('E_USAGE', `${problem} — usage: ${s.usage}`);
  const up = before.up === true || a.options.up === true;
  const down = before.down === true || a.options.down === true;
  if (up && down) throw new SocklabError('E_USAGE', `--up and --down together: leave both out for both directions — usage: ${s.usage}`);
  return { kind, params, dirs: up ? 'up' : down ? 'down' : 'both', toxicity: toxicity((a.options.toxicity as string | undefined) ?? before.toxicity, s.usage) };
}

function positional(kind: FaultKind, p: FaultParam, raw: string, usage: string): number {
  const min = p.min ?? 0;
  if (p.type === 'duration') {
    let ms: number;
    try {
      ms = parseDuration(raw);
    } catch (err) {
      throw new SocklabError('E_BAD_DURATION', `${kind.name} ${p.value}: ${(err as Error).message} — usage: ${usage}`, { cause: err });
    }
    if (ms >= min) return ms;
  } else if (/^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= Number.MAX_SAFE_INTEGER) return Number(raw);
  const what = p.type === 'duration' ? `a duration ≥ ${min} ms (500, 500ms, 2s)` : `a whole number ≥ ${min}`;
  throw new SocklabError('E_USAGE', `${kind.name} ${p.value} takes ${what}, not "${raw}" — usage: ${usage}`);
}

function toxicity(raw: string | undefined, usage: string): number {
  if (raw === undefined) return 1;
  const p = /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(raw) ? Number(raw) : NaN;
  if (!(p >= 0 && p <= 1)) throw new SocklabError('E_USAGE', `--toxicity takes a chance from 0 to 1 (0.25 = one link in four), not "${raw}" — usage: ${usage}`);
  return p;
}
