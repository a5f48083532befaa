/**
 * The history file: one entry a line, oldest first, appended; cut past twice
 * the limit by a rename; node:repl's older format (newest first) read and
 * rewritten. The end-to-end checks (real sessions in tmux, two at once) are in
 * test/e2e/attach-complete.test.ts.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HISTORY_HEADER, HISTORY_SIZE, HistoryFile, parseHistory } from '../../src/repl/history.js';
import { closeAll, tempDir } from '../helpers/loopback.js';
import { thrown } from '../helpers/errors.js';

afterEach(closeAll);

const linesOf = (file: string): string[] => readFileSync(file, 'utf8').split('\n');

describe('HistoryFile', () => {
  it('keeps 1,000 entries like Node’s REPL', () => {
    expect(HISTORY_SIZE).toBe(1000);
  });

  it('appends one line per entry, oldest first, to a new file made private (0600)', () => {
    const path = join(tempDir(), 'h');
    const h = new HistoryFile(path);
    expect(h.load()).toEqual([]);
    h.add('6*7');
    h.add('.ls');
    expect(readFileSync(path, 'utf8')).toBe(`${HISTORY_HEADER}\n6*7\n.ls\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(new HistoryFile(path).load()).toEqual(['.ls', '6*7']);
  });

  it('keeps a line with control characters as one entry; blank lines and lines with CR or LF are not stored', () => {
    const path = join(tempDir(), 'h');
    const h = new HistoryFile(path);
    h.load();
    const odd = '.sendln c1 a\x1fb\x07c\x1b[2J\u0085\u202e';
    for (const entry of [odd, '   ', '', 'a\nb', 'a\rb', 'last']) h.add(entry);
    expect(new HistoryFile(path).load()).toEqual(['last', odd]);
  });

  it('two sessions on one file each append their own lines; none is merged or lost', () => {
    const path = join(tempDir(), 'h');
    const a = new HistoryFile(path);
    const b = new HistoryFile(path);
    a.load();
    b.load();
    for (let i = 0; i < 50; i++) {
      a.add(`a line ${i} ${'x'.repeat(i)}`);
      b.add(`b ${i}`);
    }
    const entries = new HistoryFile(path).load().reverse();
    expect(entries).toHaveLength(100);
    expect(entries.filter((e) => e.startsWith('a line '))).toEqual(Array.from({ length: 50 }, (_, i) => `a line ${i} ${'x'.repeat(i)}`));
    expect(entries.filter((e) => e.startsWith('b '))).toEqual(Array.from({ length: 50 }, (_, i) => `b ${i}`));
    // Both created the file at the same moment: a second header is not an entry.
    expect(linesOf(path).filter((l) => l === HISTORY_HEADER).length).toBeLessThanOrEqual(2);
  });

  it('past twice the limit the file is cut to the newest entries, by a rename (no temporary file left)', () => {
    const dir = tempDir();
    const path = join(dir, 'h');
    const h = new HistoryFile(path, 10);
    h.load();
    for (let i = 1; i <= 20; i++) h.add(`line ${i}`);
    expect(linesOf(path)).toHaveLength(1 + 20 + 1);
    h.add('line 21');
    expect(readFileSync(path, 'utf8')).toBe([HISTORY_HEADER, ...Array.from({ length: 10 }, (_, i) => `line ${i + 12}`)].map((l) => `${l}\n`).join(''));
    expect(readdirSync(dir)).toEqual(['h']);
    expect(new HistoryFile(path, 10).load()).toEqual(Array.from({ length: 10 }, (_, i) => `line ${21 - i}`));
  });

  it('loads at most `size` entries, the newest', () => {
    const path = join(tempDir(), 'h');
    writeFileSync(path, [HISTORY_HEADER, ...Array.from({ length: 1500 }, (_, i) => `e${i}`)].map((l) => `${l}\n`).join(''));
    const entries = new HistoryFile(path).load();
    expect(entries).toHaveLength(1000);
    expect(entries[0]).toBe('e1499');
    expect(entries.at(-1)).toBe('e500');
  });

  it('reads node:repl’s format (newest first, no header) and rewrites it in this one before appending', () => {
    const path = join(tempDir(), 'h');
    writeFileSync(path, '.exit\n.set maxbytes 64\r\n6*7');
    expect(parseHistory(readFileSync(path, 'utf8'))).toEqual(['6*7', '.set maxbytes 64', '.exit']);
    const h = new HistoryFile(path);
    expect(h.load()).toEqual(['.exit', '.set maxbytes 64', '6*7']);
    h.add('.ls');
    expect(readFileSync(path, 'utf8')).toBe(`${HISTORY_HEADER}\n6*7\n.set maxbytes 64\n.exit\n.ls\n`);
  });

  it('a file that cannot be read or written is an E_IO error naming the file and the OS code', () => {
    const dir = tempDir();
    const missing = new HistoryFile(join(dir, 'no-such-dir', 'h'));
    expect(missing.load()).toEqual([]);
    const err = thrown(() => missing.add('x'));
    expect(err.code).toBe('E_IO');
    expect(err.message).toBe(`cannot write the history file ${join(dir, 'no-such-dir', 'h')} (ENOENT): lines typed now are not kept`);
    const unreadable = thrown(() => new HistoryFile(dir).load());
    expect(unreadable.message).toMatch(/^cannot read the history file .* \(EISDIR\)/);
  });
});
