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

/** A snapshot's current frame as a viewer needs it (`SnapshotFrame`). */
export interface Snapshot {
  /** 0 while there is none; goes up each time the frame changes. */
  readonly version: number;
  readonly bytes: Buffer;
}

/** What a viewer needs of the page besides the ring: the current table and diagram. */
export interface Snapshots {
  readonly table: Snapshot;
  readonly diagram: Snapshot;
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
  /** The table's and the diagram's version this viewer was sent last (-1: send the current one). */
  private tableSent = -1;
  private diagramSent = -1;
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

  /** The table or diagram changed: send what changed when there is room. */
  touch(): void {
    this.pump();
  }

  /** Send what is new, as far as the bound allows; the rest on 'drain'. */
  pump(): void {
    if (this.waiting || this.res.destroyed || this.res.writableEnded) return;
    if (this.next < this.ring.first) this.resync();
    const { table, diagram } = this.snapshots;
    if (this.tableSent !== table.version && this.room()) {
      this.tableSent = table.version;
      if (table.version > 0) this.res.write(table.bytes);
    }
    if (this.diagramSent !== diagram.version && this.room()) {
      this.diagramSent = diagram.version;
      if (diagram.version > 0) this.res.write(diagram.bytes);
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
    this.tableSent = -1;
    this.diagramSent = -1;
  }
}
