import readline from 'node:readline';
import type { REPLServer } from 'node:repl';

// readline keeps how many rows below the prompt's first row the cursor sits
// (`prevRows`, public on the Interface object) and moves up that far before it
// redraws. After printing above the prompt we redraw from a fresh row, so it
// must read 0, or the redraw would climb into the lines just printed.
type Redrawable = REPLServer & { prevRows: number; _refreshLine(): void };

/**
 * Print `text` (ending in a newline) above the prompt: clear the prompt and
 * the partly typed line, write the text, redraw prompt, line and cursor as
 * they were. Without a terminal it just writes.
 */
export function printAbove(repl: REPLServer, output: NodeJS.WritableStream, text: string, promptShown: boolean): void {
  const r = repl as Redrawable;
  if (!r.terminal || !promptShown) {
    output.write(text);
    return;
  }
  readline.moveCursor(output, 0, -r.prevRows);
  readline.cursorTo(output, 0);
  readline.clearScreenDown(output);
  output.write(text);
  r.prevRows = 0;
  r._refreshLine();
}
