/** The page's pure parts: the bounded ring of frames and the terminal colours read back as classes. */
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { RING_CHARS, RING_ENTRIES, Ring } from '../../src/serve/ring.js';
import { toSpans } from '../../src/serve/spans.js';

describe('Ring', () => {
  it('numbers entries from 1 and keeps them all while under its bounds', () => {
    const ring = new Ring();
    expect([ring.first, ring.last, ring.next]).toEqual([1, 0, 1]);
    for (let i = 1; i <= 10; i++) ring.push(`f${i}`);
    expect([ring.first, ring.last]).toEqual([1, 10]);
    expect(ring.get(1)).toBe('f1');
    expect(ring.get(11)).toBeUndefined();
  });

  it('drops the oldest past RING_ENTRIES entries, numbers running on', () => {
    const ring = new Ring();
    for (let i = 1; i <= RING_ENTRIES + 1; i++) ring.push(`f${i}`);
    expect(ring.last).toBe(RING_ENTRIES + 1);
    expect(ring.first).toBeGreaterThan(1);
    expect(ring.get(ring.first - 1)).toBeUndefined();
    expect(ring.get(ring.first)).toBe(`f${ring.first}`);
    expect(ring.last - ring.first + 1).toBeLessThanOrEqual(RING_ENTRIES);
  });

  it('drops the oldest past RING_CHARS characters, and never the newest', () => {
    const ring = new Ring();
    const big = 'x'.repeat(RING_CHARS / 4);
    for (let i = 0; i < 10; i++) ring.push(big);
    expect((ring.last - ring.first + 1) * big.length).toBeLessThanOrEqual(RING_CHARS);
    ring.push('y'.repeat(RING_CHARS * 2));
    expect(ring.get(ring.last)?.length).toBe(RING_CHARS * 2);
  });
});

describe('toSpans', () => {
  const c = pc.createColors(true);
  it('reads picocolors back as paints, merging runs of one paint', () => {
    expect(toSpans(`${c.bold('c1 ')}  ${c.green('connected')}`)).toEqual([
      ['bold', 'c1 '],
      ['', '  '],
      ['green', 'connected'],
    ]);
    expect(toSpans(c.dim(`a${c.red('b')}c`))).toEqual([
      ['dim', 'a'],
      ['red', 'b'],
      ['dim', 'c'],
    ]);
  });

  it('leaves a peer’s escaped ESC as the text it is (the printer never lets a raw one through)', () => {
    expect(toSpans(`${c.cyan('← 4 B  "\\x1b[31m"')}`)).toEqual([['cyan', '← 4 B  "\\x1b[31m"']]);
  });
});
