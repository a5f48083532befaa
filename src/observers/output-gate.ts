import type { SessionEvent } from '../session/events.js';

/** What the gate needs of a session: one switch that holds or releases reading on every socket. */
export interface ReadingSwitch {
  holdReading(held: boolean): void;
}

/** What the gate needs of an output stream (process.stdout is one). */
export interface GatedStream {
  /** True when the stream's buffer is full: the last write() returned false and 'drain' has not come. */
  readonly writableNeedDrain: boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * Backpressure from an output (a pipe, a file, a slow `--json` reader) to the
 * network: when the stream says it is full, every socket of the session stops
 * reading until the stream drains, so bytes wait in the kernel (and the
 * peers' writes back up) instead of in our memory, and no event is dropped.
 *
 * Consulted after each write (`check()`) and after each event (`watch`, a
 * session subscriber added after the printers, for writers the gate does not
 * wrap, such as the REPL's own output).
 */
export class OutputGate {
  private held = false;
  /** How often output held reading, and for how long in all, ms (for reports and tests). */
  holds = 0;
  heldMs = 0;
  private since = 0;

  constructor(
    private readonly reading: ReadingSwitch,
    private readonly stream: GatedStream,
  ) {}

  /** Hold reading if the stream is full; it is released on the stream's next 'drain'. */
  check(): void {
    if (this.held || !this.stream.writableNeedDrain) return;
    this.held = true;
    this.holds++;
    this.since = Date.now();
    this.reading.holdReading(true);
    this.stream.once('drain', this.release);
  }

  /** The subscriber: `session.subscribe(gate.watch)`, after the printers. */
  readonly watch = (_ev: SessionEvent): void => this.check();

  /** A writer that writes and checks: `gate.writer((t) => stream.write(t))`. */
  writer(write: (text: string) => unknown): (text: string) => void {
    return (text) => {
      write(text);
      this.check();
    };
  }

  /** True while reading is held for this output. */
  get holding(): boolean {
    return this.held;
  }

  private readonly release = (): void => {
    this.held = false;
    this.heldMs += Date.now() - this.since;
    this.reading.holdReading(false);
  };
}
