import readline from 'node:readline';
import type { REPLServer } from 'node:repl';

// readline redraws the prompt (`_refreshLine`) by first climbing `prevRows`
// rows: where it believes the cursor sits below the prompt's first row, set by
// its last redraw. Two things make that belief wrong, and each cost a line:
// - pasted text (and tmux send-keys) is written character by character without
//   a redraw (readline's fast path while `isCompletionEnabled` is false), so a
//   paste that wraps leaves `prevRows` on an earlier row, and the next redraw
//   (a Left arrow across the wrap, a resize, Ctrl+L) starts a row too low;
// - a terminal that rewraps its lines on resize (tmux, VTE, iTerm2, kitty,
//   Windows Terminal) moves the cursor to where the text now wraps: the old
//   `prevRows` climbs too little (a ghost copy of the prompt) or too far (into
//   the event line above, which the redraw then erases). A terminal that does
//   not rewrap (xterm) is not what this assumes.
// And while a blocking command runs readline has no prompt on screen but still
// counts one. So `prevRows` is set from the line before each key and redraw.
//
// The width those rows are counted at must be the terminal's width at the
// moment of the write. Node updates `columns` only when it gets to SIGWINCH,
// after whatever socket events were queued before it; an event printed in
// between was drawn for the old width (and erased rows above the prompt when
// the window got wider). So every draw first asks the tty itself (the ioctl
// node's own SIGWINCH handler uses) and handles a change as a resize first.
// What no program can see: tmux rewraps its screen at once but tells the
// pane's tty the new size up to 250 ms later (it batches resizes, skipping
// intermediate sizes); a line printed in that gap is drawn for the old width.
type Redrawable = REPLServer & { prevRows: number; line: string; _refreshLine(): void };

/** A tty WriteStream's native handle: fills `[columns, rows]` from the terminal, returns an errno (0 = ok). */
type SizedStream = NodeJS.WritableStream & {
  columns?: number;
  rows?: number;
  _handle?: { getWindowSize?(size: [number, number]): number };
};

/**
 * The prompt and the half-typed line on a terminal, and the lines printed
 * above them (STYLE.md habit 11). `shown` says whether the prompt is on
 * screen: false after Enter and while a blocking command runs, true once the
 * prompt is drawn again (`promptDrawn`). Without a terminal it just writes.
 */
export class PromptScreen {
  private shown = true;

  constructor(
    private readonly repl: REPLServer,
    private readonly output: NodeJS.WritableStream,
  ) {}

  private get r(): Redrawable {
    return this.repl as Redrawable;
  }

  /**
   * Print `text` (ending in a newline) above the prompt: clear the prompt and
   * the partly typed line, write the text, redraw prompt, line and cursor as
   * they were. With no prompt on screen, write it where the cursor is (the
   * start of a row).
   */
  print(text: string): void {
    if (!this.r.terminal || !this.shown) {
      this.output.write(text);
      return;
    }
    this.syncSize();
    this.clear();
    this.output.write(text);
    this.r._refreshLine();
  }

  /** Take the prompt and the typed line off the screen (a blocking command starts); readline keeps the line. */
  hide(): void {
    if (this.r.terminal && this.shown) {
      this.syncSize();
      this.clear();
    }
    this.shown = false;
  }

  /** Enter was pressed: readline moved to a fresh row and drew no prompt. */
  lineEntered(): void {
    this.shown = false;
  }

  /** readline drew the prompt (displayPrompt). */
  promptDrawn(): void {
    this.shown = true;
  }

  /** Before readline handles a key: make `prevRows` say where the cursor is. */
  beforeKey(): void {
    if (!this.r.terminal || !this.shown) return;
    this.syncSize();
    this.r.prevRows = cursorRow(this.r);
  }

  /**
   * The terminal was resized (and, in a rewrapping terminal, the prompt rows
   * rewrapped to the new width, cursor and all): redraw from the row the
   * cursor is on now. With no prompt on screen nothing is drawn.
   */
  resized(): void {
    if (!this.r.terminal || !this.shown) return;
    this.syncSize();
    this.r.prevRows = this.r.getCursorPos().rows;
    this.r._refreshLine();
  }

  /**
   * Take over the terminal's 'resize' events from `readlineListeners` (the
   * listeners repl.start added), which redraw from the old width's row count.
   */
  takeResize(readlineListeners: Array<(...args: unknown[]) => void>): void {
    for (const listener of readlineListeners) this.output.removeListener('resize', listener);
    const onResize = (): void => this.resized();
    this.output.on('resize', onResize);
    this.repl.on('close', () => this.output.removeListener('resize', onResize));
  }

  /**
   * Read the terminal's size now; when it is not the one node last saw, take
   * it and emit 'resize' (as node's SIGWINCH handler would, later), so the
   * prompt is redrawn for the new width before anything else is drawn.
   */
  private syncSize(): void {
    const tty = this.output as SizedStream;
    const size: [number, number] = [0, 0];
    if (tty._handle?.getWindowSize?.(size) !== 0) return;
    const [columns, rows] = size;
    if (columns === 0 || (columns === tty.columns && rows === tty.rows)) return;
    tty.columns = columns;
    tty.rows = rows;
    this.output.emit('resize');
  }

  private clear(): void {
    readline.moveCursor(this.output, 0, -cursorRow(this.r));
    readline.cursorTo(this.output, 0);
    readline.clearScreenDown(this.output);
    this.r.prevRows = 0;
  }
}

/** The row the cursor is on, counted from the prompt's first row (readline's own count can be stale, see above). */
function cursorRow(r: Redrawable): number {
  return r.getCursorPos().rows;
}
