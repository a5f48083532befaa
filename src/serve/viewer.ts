import type { ServerResponse } from 'node:http';
import type { Ring } from './ring.js';

/**
 * Bytes a viewer may have waiting in its connection's write buffer before
 * socklab stops writing to it. Memory per viewer is this plus one frame,
 * whatever the browser does: a viewer that does not read waits for 'drain'.
 */
export const VIEWER_QUEUE_BYTES = 256 * 1024;
/** Entries a viewer that fell out of the ring is sent after its resync (the newest). */
export const RESYNC_ENTRIES = 500;

/** What a viewer needs of the page besides the ring: the current table and diagram frames, encoded. */
export interface Snapshots {
  frames(): Buffer;
}

/**
 * One browser watching, over server-sent events. It has no queue of its
 * own: a cursor into the shared ring (`next`) and Node's write buffer,
 * which `pump` fills only up to VIEWER_QUEUE_BYTES. When its cursor falls
 * out of the ring (it read too slowly, or resumed from too long ago) it is
 * told how much it missed and resynced: the table, the diagram, the newest
 * RESYNC_ENTRIES entries.
 */
export class Viewer {
  /** Sequence number of the next entry to send. */
  private next: number;
  private snapshotsDue = true;
  private waiting = false;
  /** Times this viewer was resynced (for tests and the bench). */
  resyncs = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly ring: Ring,
    private readonly snapshots: Snapshots,
    from: number,
    private readonly tag: string,
  ) {
    this.next = from;
    res.on('drain', () => {
      this.waiting = false;
      this.pump();
    });
  }

  /** Bytes waiting in this viewer's connection (Node's buffer, not the kernel's). */
  get buffered(): number {
    return this.res.writableLength;
  }

  /** The table or diagram changed: send the current ones when there is room. */
  touch(): void {
    this.snapshotsDue = true;
    this.pump();
  }

  /** Send what is new, as far as the bound allows; the rest on 'drain'. */
  pump(): void {
    if (this.waiting || this.res.destroyed || this.res.writableEnded) return;
    if (this.next < this.ring.first) this.resync();
    if (this.snapshotsDue && this.room()) {
      this.snapshotsDue = false;
      this.res.write(this.snapshots.frames());
    }
    // Frames go out in batches up to the bound: a burst of events costs one write per viewer,
    // and viewers in step share one encoded batch (Ring#encoded).
    while (this.next <= this.ring.last) {
      if (!this.room()) return;
      let end = this.next;
      let chars = 0;
      do chars += (this.ring.get(end++) as string).length;
      while (end <= this.ring.last && this.res.writableLength + chars < VIEWER_QUEUE_BYTES);
      this.res.write(this.ring.encoded(this.next, end));
      this.next = end;
    }
  }

  /** End the stream (the server stops, or a test drops the connection). */
  end(): void {
    this.res.end();
  }

  private room(): boolean {
    if (this.res.writableLength < VIEWER_QUEUE_BYTES) return true;
    this.waiting = true;
    return false;
  }

  private resync(): void {
    const restart = Math.max(this.ring.first, this.ring.last - RESYNC_ENTRIES + 1);
    const missed = restart - this.next;
    this.resyncs++;
    // Carries the id of the entry before the restart: a reconnect from here resumes without a gap.
    this.res.write(`id: ${this.tag}.${restart - 1}\nevent: resync\ndata: ${JSON.stringify({ missed })}\n\n`);
    this.next = restart;
    this.snapshotsDue = true;
  }
}
