/**
 * The page's past: the last log entries as ready server-sent-event frames,
 * bounded by count and by bytes. Every viewer reads from this one ring at
 * its own pace (a cursor per viewer), so a viewer costs a number, not a copy.
 */

/** Entries kept at most. */
export const RING_ENTRIES = 5000;
/** Characters of frames kept at most (about bytes: frames are mostly ASCII). */
export const RING_CHARS = 2 * 1024 * 1024;

export class Ring {
  private frames: string[] = [];
  private chars = 0;
  /** The sequence number of `frames[0]`; sequence numbers start at 1. */
  private firstSeq = 1;

  /** The last sequence number given out (0: none yet). */
  get last(): number {
    return this.firstSeq + this.frames.length - 1;
  }

  /** The oldest sequence number still kept (`last + 1` when empty). */
  get first(): number {
    return this.firstSeq;
  }

  /** The next sequence number, for the frame about to be pushed. */
  get next(): number {
    return this.last + 1;
  }

  /** Keep `frame` as entry `next`; the oldest go when a bound is passed. */
  push(frame: string): void {
    this.frames.push(frame);
    this.chars += frame.length;
    if (this.frames.length <= RING_ENTRIES && this.chars <= RING_CHARS) return;
    // Cut in batches of a tenth, so a long session does not shift the array per entry.
    let cut = 0;
    let freed = 0;
    while (cut < this.frames.length - 1 && (this.frames.length - cut > RING_ENTRIES * 0.9 || this.chars - freed > RING_CHARS * 0.9)) {
      freed += (this.frames[cut] as string).length;
      cut++;
    }
    this.frames.splice(0, cut);
    this.chars -= freed;
    this.firstSeq += cut;
  }

  /**
   * Entries `from` … `to - 1` (all kept) as one encoded Buffer. The last one
   * made is kept: viewers that read in step ask for the same run in one
   * turn, and it is encoded once for all of them, not once per viewer.
   */
  encoded(from: number, to: number): Buffer {
    const m = this.made;
    if (m !== undefined && m.from === from && m.to === to) return m.bytes;
    const bytes = Buffer.from(this.frames.slice(from - this.firstSeq, to - this.firstSeq).join(''));
    this.made = { from, to, bytes };
    return bytes;
  }

  private made: { from: number; to: number; bytes: Buffer } | undefined;

  /** The frame of entry `seq`, or undefined when it is not kept (too old, or not yet). */
  get(seq: number): string | undefined {
    return this.frames[seq - this.firstSeq];
  }
}
