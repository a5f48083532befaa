/** Bytes per block of a DatagramLog: a UDP payload (at most 65,535 bytes) always fits in one. */
const BLOCK = 64 * 1024;
/** Entries the index starts with; it doubles as needed. */
const FIRST_ENTRIES = 64;

/**
 * A queue of datagrams, oldest first, kept as copies in shared 64 KiB blocks
 * with their places in typed arrays: no object per datagram. Keeping each
 * datagram's own Buffer for `.expect` (up to 4,096 per socket) kept them past
 * the young generation, so a UDP flood was copied by every scavenge and
 * marked by every full GC (~3,000 instructions per datagram of a UDP echo).
 * A block is dropped once no datagram in it is kept.
 */
export class DatagramLog {
  /** Blocks in use, oldest first; `blocks[0]` is block number `firstBlock`. */
  private blocks: Buffer[] = [];
  private firstBlock = 0;
  /** Bytes used of the last block. */
  private used = 0;
  /** Entry i (head ≤ i < tail): block number, offset and length of a datagram. */
  private blockOf = new Int32Array(FIRST_ENTRIES);
  private offsetOf = new Int32Array(FIRST_ENTRIES);
  private lengthOf = new Int32Array(FIRST_ENTRIES);
  private head = 0;
  private tail = 0;
  /** Bytes of the datagrams kept. */
  bytes = 0;

  /** Datagrams kept. */
  get length(): number {
    return this.tail - this.head;
  }

  /** Keep a copy of `data` (at most 65,535 bytes) at the end. */
  push(data: Uint8Array): void {
    if (data.length > BLOCK) throw new RangeError(`a datagram of ${data.length} bytes is longer than ${BLOCK}`);
    if (this.blocks.length === 0 || this.used + data.length > BLOCK) {
      this.blocks.push(Buffer.allocUnsafe(BLOCK));
      this.used = 0;
    }
    if (this.tail === this.blockOf.length) this.makeRoom();
    const block = this.blocks[this.blocks.length - 1] as Buffer;
    block.set(data, this.used);
    this.blockOf[this.tail] = this.firstBlock + this.blocks.length - 1;
    this.offsetOf[this.tail] = this.used;
    this.lengthOf[this.tail] = data.length;
    this.tail++;
    this.used += data.length;
    this.bytes += data.length;
  }

  /** The i-th datagram kept (0 = oldest), as a view valid until the next `drop`. */
  at(i: number): Buffer {
    const e = this.head + i;
    const block = this.blocks[(this.blockOf[e] as number) - this.firstBlock] as Buffer;
    const offset = this.offsetOf[e] as number;
    return block.subarray(offset, offset + (this.lengthOf[e] as number));
  }

  /** Length in bytes of the i-th datagram kept. */
  lengthAt(i: number): number {
    return this.lengthOf[this.head + i] as number;
  }

  /** The first `n` datagrams, joined into a new Buffer. */
  join(n = this.length): Buffer {
    const parts: Buffer[] = [];
    for (let i = 0; i < n; i++) parts.push(this.at(i));
    return Buffer.concat(parts);
  }

  /** Forget the oldest `n` datagrams; blocks that no longer hold any are let go. */
  drop(n: number): void {
    const count = Math.min(n, this.length);
    for (let i = 0; i < count; i++) this.bytes -= this.lengthAt(i);
    this.head += count;
    if (this.head === this.tail) {
      // Empty: the index starts over, and only the last block stays (new datagrams go on after what it holds).
      this.head = this.tail = 0;
      if (this.blocks.length > 1) {
        this.firstBlock += this.blocks.length - 1;
        this.blocks = this.blocks.slice(-1);
      }
      return;
    }
    const oldest = this.blockOf[this.head] as number;
    if (oldest > this.firstBlock) {
      this.blocks.splice(0, oldest - this.firstBlock);
      this.firstBlock = oldest;
    }
  }

  /** The index is full at its end: move the kept entries to the front, or double it. */
  private makeRoom(): void {
    const kept = this.tail - this.head;
    const size = kept * 2 < this.blockOf.length ? this.blockOf.length : this.blockOf.length * 2;
    const move = (from: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      if (size === from.length) return from.copyWithin(0, this.head, this.tail);
      const to = new Int32Array(size);
      to.set(from.subarray(this.head, this.tail), 0);
      return to;
    };
    this.blockOf = move(this.blockOf);
    this.offsetOf = move(this.offsetOf);
    this.lengthOf = move(this.lengthOf);
    this.head = 0;
    this.tail = kept;
  }
}
