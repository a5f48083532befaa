import { SocklabError } from '../errors.js';

/** setTimeout's largest delay; anything longer fires at once. */
const MAX_MS = 2 ** 31 - 1;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Milliseconds from `500`, `500ms`, `5s`, `2m`, `1.5s` or `1h`, as ncat reads
 * them: a plain number is milliseconds. The result is rounded to whole
 * milliseconds and is at most 2^31-1 (the longest `setTimeout`).
 *
 * Throws `SocklabError` `E_BAD_DURATION` for anything else (negative, empty,
 * unknown suffix, too long).
 */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/.exec(text.trim());
  const unit = UNIT_MS[match?.[2] ?? 'ms'];
  if (!match || unit === undefined) {
    throw new SocklabError('E_BAD_DURATION', `bad duration "${text}": use milliseconds or a suffix: 500ms, 5s, 2m`);
  }
  const ms = Math.round(Number(match[1]) * unit);
  if (!Number.isFinite(ms) || ms > MAX_MS) {
    throw new SocklabError('E_BAD_DURATION', `bad duration "${text}": at most ${MAX_MS} ms (about 24.8 days)`);
  }
  return ms;
}
