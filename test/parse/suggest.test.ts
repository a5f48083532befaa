import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../src/parse/suggest.js';

describe('editDistance', () => {
  it.each([
    ['reply', 'reply', 0],
    ['rply', 'reply', 1],
    ['repyl', 'reply', 1],
    ['lsiten', 'listen', 1],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ])('%s ~ %s = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('closest', () => {
  const commands = ['listen', 'connect', 'send', 'sendln', 'set', 'close'];
  it('finds typos, swaps and prefixes', () => {
    expect(closest('lisen', commands)).toBe('listen');
    expect(closest('lsiten', commands)).toBe('listen');
    expect(closest('conect', commands)).toBe('connect');
    expect(closest('sen', commands)).toBe('send');
  });
  it('offers nothing when nothing is close', () => {
    expect(closest('frobnicate', commands)).toBeUndefined();
    expect(closest('x', commands)).toBeUndefined();
  });
});
