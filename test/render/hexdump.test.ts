import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hexdump } from '../../src/render/hexdump.js';

const hasHexdump = spawnSync('hexdump', ['-C'], { input: '' }).status === 0;

/** The real tool's lines, without its closing offset line (`-v`: no `*` folding). */
function realHexdump(buf: Uint8Array): string {
  const out = spawnSync('hexdump', ['-C', '-v'], { input: buf, encoding: 'latin1' }).stdout;
  return out.split('\n').slice(0, -2).join('\n');
}

describe('hexdump', () => {
  it('shows a short chunk in the hexdump -C shape', () => {
    expect(hexdump(Buffer.from('hello\n'))).toBe(
      '00000000  68 65 6c 6c 6f 0a                                 |hello.|',
    );
  });

  it('splits full lines into two groups of 8 and dots non-printables', () => {
    const buf = Buffer.from([...Buffer.from('0123456789abcdef'), 0x00, 0x7f, 0x80, 0xff, 0x1b]);
    expect(hexdump(buf).split('\n')).toEqual([
      '00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|',
      '00000010  00 7f 80 ff 1b                                    |.....|',
    ]);
  });

  it('returns an empty string for an empty chunk', () => {
    expect(hexdump(new Uint8Array(0))).toBe('');
    expect(hexdump(new Uint8Array(0), 42)).toBe('');
  });

  it('starts at the running offset without realigning to 16', () => {
    const lines = hexdump(new Uint8Array(20).fill(0x41), 0x1234).split('\n');
    expect(lines.map((l) => l.slice(0, 8))).toEqual(['00001234', '00001244']);
    expect(lines[1]).toBe('00001244  41 41 41 41                                       |AAAA|');
  });

  it('widens the offset past 8 hex digits as hexdump does', () => {
    expect(hexdump(Buffer.from('x'), 0x1_0000_0000)).toBe(
      '100000000  78                                                |x|',
    );
  });

  it('has no trailing newline and aligns every ASCII column', () => {
    const out = hexdump(randomBytes(100), 7);
    expect(out.endsWith('\n')).toBe(false);
    for (const line of out.split('\n')) expect(line.indexOf('|')).toBe(60);
  });

  it.skipIf(!hasHexdump).each([0, 1, 7, 8, 9, 15, 16, 17, 40, 255])(
    'matches the real hexdump -C for %i random bytes',
    (n) => {
      const buf = randomBytes(n);
      expect(hexdump(buf).split('\n')).toEqual(realHexdump(buf).split('\n'));
    },
  );
});
