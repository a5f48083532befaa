/**
 * The `hexdump -C` view of a chunk, with the offset running on per socket and
 * direction across chunks, as socat's `-x` does.
 */

const HEX = '0123456789abcdef';

/** Each byte value as two hex digits and as its `hexdump -C` character. */
interface ByteColumns {
  hex: string[];
  ascii: string[];
}
// Built at the first hex dump, not at start-up (an interpreted loop, ~0.6 M instructions).
let columns: ByteColumns | undefined;
function makeColumns(): ByteColumns {
  const hex: string[] = [];
  const ascii: string[] = [];
  for (let b = 0; b < 256; b++) {
    hex.push(HEX[b >> 4]! + HEX[b & 15]!);
    ascii.push(b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.');
  }
  return { hex, ascii };
}

// Width of the hex column of a full line: 16 × "xx " plus the gap after byte 8.
const HEX_WIDTH = 16 * 3 + 1;

/**
 * Lines in `hexdump -C` shape for `buf`, offsets starting at `offset` (the bytes
 * already shown in this direction of this socket). No trailing newline; lines
 * joined with \n. Unlike `hexdump`, there is no closing offset line and no `*`
 * folding of repeated lines: each chunk is a piece of a longer stream.
 */
export function hexdump(buf: Uint8Array, offset = 0): string {
  const { hex: BYTE_HEX, ascii: BYTE_ASCII } = (columns ??= makeColumns());
  const lines: string[] = [];
  for (let start = 0; start < buf.length; start += 16) {
    const end = Math.min(start + 16, buf.length);
    let hex = '';
    let ascii = '';
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      hex += BYTE_HEX[b]! + (i - start === 7 ? '  ' : ' ');
      ascii += BYTE_ASCII[b]!;
    }
    const at = (offset + start).toString(16).padStart(8, '0');
    lines.push(at + '  ' + hex.padEnd(HEX_WIDTH) + ' |' + ascii + '|');
  }
  return lines.join('\n');
}
