/**
 * One growable byte buffer for the HTTP parser's partial heads, lines and
 * bodies. A peer that trickles bytes one at a time must cost one buffer per
 * connection, not one Buffer object (about 100 B of overhead) per byte: the
 * capacity doubles, so memory stays under twice the bytes held and appending
 * is amortized O(1) per byte.
 */

const EMPTY = Buffer.alloc(0);
const MIN_CAPACITY = 256;

/** Bytes gathered across chunks, copied into one buffer that grows by doubling. */
export class ByteAccumulator {
  private buffer: Buffer = EMPTY;
  private size = 0;

  /** Bytes held, in bytes. */
  get length(): number {
    return this.size;
  }

  /** Copies `data[start, end)` onto the end. */
  append(data: Buffer, start = 0, end = data.length): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.size + n > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(MIN_CAPACITY, this.size + n, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.size);
      this.buffer = grown;
    }
    data.copy(this.buffer, this.size, start, end);
    this.size += n;
  }

  /** The bytes held (a view, valid until the next `append`), without emptying. */
  peek(): Buffer {
    return this.buffer.subarray(0, this.size);
  }

  /** Hands over the bytes held (the caller owns them) and starts empty. */
  take(): Buffer {
    const bytes = this.buffer.subarray(0, this.size);
    this.clear();
    return bytes;
  }

  /** Drops the bytes held and the buffer. */
  clear(): void {
    this.buffer = EMPTY;
    this.size = 0;
  }
}
