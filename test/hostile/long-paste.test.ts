/**
 * The fast path for a long paste into the terminal REPL (src/repl/long-line.ts),
 * on readline's own line state: past LONG_LINE characters a character at the
 * end is appended and echoed alone; past 1 MiB it is dropped so the line is
 * refused on Enter. (Issue 9: a 2 MB paste froze the REPL for 37 s.)
 */
import { describe, expect, it } from 'vitest';
import { MAX_LINE_LENGTH } from '../../src/commands/dispatch.js';
import { LONG_LINE, appendLongLine, flushEcho } from '../../src/repl/long-line.js';

function editor(line: string) {
  const writes: string[] = [];
  const rl = { line, cursor: line.length, prevRows: 0, getPrompt: () => 'socklab> ' };
  const output = { write: (s: string) => writes.push(s) } as unknown as NodeJS.WritableStream;
  return { rl, writes, output };
}

describe('appendLongLine', () => {
  it('leaves short lines, controls and edits in the middle to readline', () => {
    const short = editor('abc');
    expect(appendLongLine(short.rl, short.output, 'x', 80)).toBe(false);
    const long = editor('x'.repeat(LONG_LINE));
    expect(appendLongLine(long.rl, long.output, '\r', 80)).toBe(false);
    expect(appendLongLine(long.rl, long.output, '\x1b', 80)).toBe(false);
    long.rl.cursor = 5;
    expect(appendLongLine(long.rl, long.output, 'y', 80)).toBe(false);
  });

  it('appends to a long line, echoes the character (gathered, once per input chunk) and keeps the row count', async () => {
    const { rl, writes, output } = editor('x'.repeat(LONG_LINE));
    expect(appendLongLine(rl, output, 'y', 80)).toBe(true);
    expect(appendLongLine(rl, output, 'z', 80)).toBe(true);
    expect(rl.line.length).toBe(LONG_LINE + 2);
    expect(rl.cursor).toBe(LONG_LINE + 2);
    expect(writes).toEqual([]);
    await Promise.resolve();
    expect(writes).toEqual(['yz']);
    // A key readline handles (Enter) writes what was gathered first, so the echo keeps its place.
    expect(appendLongLine(rl, output, 'w', 80)).toBe(true);
    expect(appendLongLine(rl, output, '\r', 80)).toBe(false);
    expect(writes).toEqual(['yz', 'w']);
    flushEcho(output);
    expect(writes).toEqual(['yz', 'w']);
    expect(rl.prevRows).toBe(Math.floor(('socklab> '.length + LONG_LINE + 2) / 80));
  });

  it('a 2 MB paste stops growing one character past 1 MiB, so the dispatcher refuses it', () => {
    const { rl, writes, output } = editor('x'.repeat(LONG_LINE));
    for (let i = 0; i < 2_000_000; i++) appendLongLine(rl, output, 'x', 80);
    flushEcho(output);
    expect(rl.line.length).toBe(MAX_LINE_LENGTH + 1);
    expect(writes.join('').length).toBe(MAX_LINE_LENGTH + 1 - LONG_LINE);
    expect(writes.length).toBe(1);
  });
});
