import type { FaultSink, FaultStage } from './types.js';

/** `latency` or `latency, slicer`: the faults that changed a chunk, in the order it passed them. */
export function tagged(fault: string | undefined, name: string): string {
  return fault === undefined ? name : `${fault}, ${name}`;
}

/**
 * A stage that passes everything on unchanged; a fault kind overrides what
 * it changes (toxiproxy's noop toxic is this class as it is).
 */
export class PassStage implements FaultStage {
  constructor(
    readonly name: string,
    protected readonly next: FaultSink,
  ) {}
  data(chunk: Buffer, fault?: string): void {
    this.next.data(chunk, fault);
  }
  end(): void {
    this.next.end();
  }
  reset(fault: string): void {
    this.next.reset(fault);
  }
  close(fault: string): void {
    this.next.close(fault);
  }
  onRelease?: () => void;
  held(): number {
    return 0;
  }
  remove(): void {}
  dispose(): void {}
}

/**
 * Bytes each held piece is counted as beyond its length (the Buffer view and
 * the queue entry): many tiny pieces (slicer --size 1) count honestly toward
 * the link's backpressure bound.
 */
export const HELD_PIECE_COST = 64;

/** What a queueing stage holds: a chunk due at `due` (performance.now() ms), or the FIN, close or reset behind it. */
type Held = { due: number; chunk: Buffer; fault: string | undefined } | { due: number; chunk?: undefined; pass: (next: FaultSink) => void };

/**
 * A stage that holds chunks and hands each on at its due time, in order:
 * a chunk never overtakes one before it, and the FIN (or a close or reset
 * from a stage before) goes on right after the last chunk before it, as in
 * toxiproxy where each toxic is one goroutine reading its channel in order.
 * Subclasses say when each chunk is due (`admit`).
 */
export abstract class QueueStage extends PassStage {
  private readonly queue: Held[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private gone = false;

  /** Queue `chunk` (with its fault tag): call `hold` once per piece, with its due time. */
  protected abstract admit(chunk: Buffer, fault: string | undefined, hold: (piece: Buffer, due: number, fault: string | undefined) => void): void;

  /** When the last piece queued is due (now, when nothing is held). */
  protected lastDue(): number {
    return this.queue[this.queue.length - 1]?.due ?? performance.now();
  }

  override data(chunk: Buffer, fault?: string): void {
    if (this.gone) return this.next.data(chunk, fault);
    this.admit(chunk, fault, (piece, due, tag) => {
      this.queue.push({ due: Math.max(due, this.lastDue()), chunk: piece, fault: tag });
      this.bytes += piece.length;
    });
    this.pump();
  }
  override end(): void {
    this.behind((next) => next.end());
  }
  override reset(fault: string): void {
    this.behind((next) => next.reset(fault));
  }
  override close(fault: string): void {
    this.behind((next) => next.close(fault));
  }
  override held(): number {
    return this.bytes + this.queue.length * HELD_PIECE_COST;
  }
  /** Removed: everything held goes on now, in order. */
  override remove(): void {
    this.gone = true;
    this.stop();
    this.release(Infinity);
  }
  override dispose(): void {
    this.gone = true;
    this.stop();
    this.queue.length = 0;
    this.bytes = 0;
  }

  private behind(pass: (next: FaultSink) => void): void {
    if (this.gone || this.queue.length === 0) return pass(this.next);
    this.queue.push({ due: this.lastDue(), pass });
  }

  private stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Hand on what is due; wait for the next one. */
  private pump(): void {
    if (this.timer !== undefined) return;
    this.release(performance.now());
    const head = this.queue[0];
    if (head === undefined || this.gone) return;
    // Rounded up: a timer may fire a fraction of a ms early by performance.now(); it re-arms then.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(1, Math.ceil(head.due - performance.now())));
  }

  private release(now: number): void {
    if (this.queue.length === 0 || this.queue[0]!.due > now) return;
    while (this.queue.length > 0 && this.queue[0]!.due <= now) {
      const item = this.queue.shift()!;
      if (item.chunk === undefined) item.pass(this.next);
      else {
        this.bytes -= item.chunk.length;
        this.next.data(item.chunk, item.fault);
      }
    }
    this.onRelease?.();
  }
}
