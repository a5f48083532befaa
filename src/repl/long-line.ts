import { MAX_LINE_LENGTH } from '../commands/dispatch.js';

/** Past this many characters a typed line is appended to without readline's redraw. */
export const LONG_LINE = 1024;

/** The parts of readline's Interface a long paste touches (public in practice, untyped). */
interface LineEditor {
  line: string;
  cursor: number;
  prevRows: number;
  getPrompt(): string;
}

/**
 * The fast path for a long paste into the terminal. readline handles every
 * pasted character as a keypress and rewrites the whole line whenever it
 * wraps to a new row: a 2 MB paste rewrote gigabytes and froze the REPL for
 * 37 s. Past LONG_LINE characters, a plain character typed at the end of the
 * line is appended and echoed alone (the terminal wraps it); past
 * MAX_LINE_LENGTH it is dropped, so the line stays one character too long and
 * the dispatcher refuses it on Enter, with the usual one-line error (SPEC §6).
 *
 * Returns true when it handled the key (readline must not see it).
 */
export function appendLongLine(rl: LineEditor, output: NodeJS.WritableStream, key: string | undefined, columns: number | undefined): boolean {
  const plain = key !== undefined && key.length === 1 && rl.cursor === rl.line.length && rl.line.length >= LONG_LINE && isPrintable(key.charCodeAt(0));
  // Any other key goes to readline, which writes at once: what was echoed so far goes first.
  if (!plain) {
    flushEcho(output);
    return false;
  }
  if (rl.line.length > MAX_LINE_LENGTH) return true;
  rl.line += key;
  rl.cursor++;
  echo(output, key);
  // Keep readline's idea of the rows below the prompt right for its next redraw.
  if (columns !== undefined && columns > 0) rl.prevRows = Math.floor((rl.getPrompt().length + rl.line.length) / columns);
  return true;
}

// Only printable characters: Enter, Tab, escapes and controls go to readline as usual.
function isPrintable(code: number): boolean {
  return !(code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0));
}

// The echo of a paste is gathered and written once per chunk of input (the keys of one
// chunk arrive in one synchronous loop): one write per character was 2 million system
// calls to the terminal for a 2 MB paste.
const pending = new Map<NodeJS.WritableStream, string[]>();

function echo(output: NodeJS.WritableStream, key: string): void {
  let keys = pending.get(output);
  if (keys === undefined) {
    keys = [];
    pending.set(output, keys);
    queueMicrotask(() => flushEcho(output));
  }
  keys.push(key);
}

/** Write the gathered echo now (before anything else reaches the terminal). */
export function flushEcho(output: NodeJS.WritableStream): void {
  const keys = pending.get(output);
  if (keys === undefined) return;
  pending.delete(output);
  output.write(keys.join(''));
}
