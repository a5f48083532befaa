import readline from 'node:readline';
import type { REPLServer } from 'node:repl';

// readline's redraw first climbs `prevRows` rows (public on the Interface:
// where it believes the cursor sits below the prompt's first row). After we
// print above the prompt the redraw starts on a fresh row, so it must read 0,
// or it would climb into the lines just printed. We climb by getCursorPos()
// ourselves: typing at the end of a line wraps without updating prevRows.
type Redrawable = REPLServer & { prevRows: number; _refreshLine(): void };

/**
 * Print `text` (ending in a newline) above the prompt: clear the prompt and
 * the partly typed line, write the text, redraw prompt, line and cursor as
 * they were. Without a terminal it just writes.
 */
export function printAbove(repl: REPLServer, output: NodeJS.WritableStream, text: string, promptShown: boolean): void {
  const r = repl as Redrawable;
  if (!r.terminal) {
    output.write(text);
    return;
  }
  if (!promptShown) {
    // A command is blocking: no prompt, but the row may hold what the user is
    // typing meanwhile. Print from the row's start and put the typing back.
    readline.cursorTo(output, 0);
    readline.clearLine(output, 0);
    output.write(text + r.line);
    return;
  }
  readline.moveCursor(output, 0, -r.getCursorPos().rows);
  readline.cursorTo(output, 0);
  readline.clearScreenDown(output);
  output.write(text);
  r.prevRows = 0;
  r._refreshLine();
}
