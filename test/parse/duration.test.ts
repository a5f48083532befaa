import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SocklabError } from '../../src/errors.js';
import { parseDuration } from '../../src/parse/duration.js';

describe('parseDuration', () => {
  it.each<[string, number]>([
    ['0', 0],
    ['500', 500],
    ['500ms', 500],
    ['5s', 5000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['1.5', 2],
    ['0.4ms', 0],
    ['0.0015s', 2],
    [' 5s ', 5000],
    ['2147483647', 2 ** 31 - 1],
    ['2147483.647s', 2 ** 31 - 1],
  ])('%j → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each<[string, string]>([
    ['5x', 'bad duration "5x": use milliseconds or a suffix: 500ms, 5s, 2m'],
    ['', 'bad duration "": use milliseconds'],
    ['   ', 'use milliseconds'],
    ['-5', 'bad duration "-5"'],
    ['-5s', 'bad duration "-5s"'],
    ['NaN', 'bad duration "NaN"'],
    ['Infinity', 'bad duration "Infinity"'],
    ['1e3', 'bad duration "1e3"'],
    ['5.', 'bad duration "5."'],
    ['5 s', 'bad duration "5 s"'],
    ['5S', 'bad duration "5S"'],
    ['s', 'bad duration "s"'],
    ['0x10', 'bad duration "0x10"'],
    ['1d', 'bad duration "1d"'],
    ['2147483648', 'at most 2147483647 ms'],
    ['597h', 'at most 2147483647 ms'],
    ['9'.repeat(400), 'at most 2147483647 ms'],
  ])('%j is refused', (text, message) => {
    let error: unknown;
    try {
      parseDuration(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SocklabError);
    expect((error as SocklabError).code).toBe('E_BAD_DURATION');
    expect((error as SocklabError).message).toContain(message);
  });

  it('returns a whole number of ms in setTimeout range, or throws E_BAD_DURATION', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          const ms = parseDuration(text);
          expect(Number.isInteger(ms) && ms >= 0 && ms <= 2 ** 31 - 1).toBe(true);
        } catch (err) {
          expect((err as SocklabError).code).toBe('E_BAD_DURATION');
        }
      }),
    );
  });

  it('reads every whole number of seconds as 1000 times that', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_147_483 }), (seconds) => {
        expect(parseDuration(`${seconds}s`)).toBe(seconds * 1000);
      }),
    );
  });
});
