/**
 * The history file (`~/.socklab_history`), kept by socklab rather than by
 * node:repl's `setupHistory`. Node's writer truncates the file when a session
 * starts and then rewrites the whole list from offset 0 after each line,
 * without truncating again: once the list is full (or two sessions share the
 * file) a shorter rewrite leaves the tail of the old text behind, so entries
 * run together without a newline and Up recalls a merged line; a crash
 * between the truncate and the write loses everything.
 *
 * Here every entry is one line, oldest first, appended with one `write` (an
 * O_APPEND write of a short line is not interleaved with another process's),
 * so two sessions on one file each add their own lines. Past twice the limit
 * the file is cut to the newest `size` entries by writing a new file and
 * renaming it over the old (readers see the old file or the new, never half).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { REPLServer } from 'node:repl';
import { SocklabError, osErrorCode } from '../errors.js';

/** Entries kept, as Node's own REPL keeps (NODE_REPL_HISTORY_SIZE's default). */
export const HISTORY_SIZE = 1000;

/** The first line of a file in this format; a file without it is node:repl's (newest first). */
export const HISTORY_HEADER = '# socklab history: one entry a line, oldest first';

/** True when `entry` can be kept as one line (readline never makes one with CR or LF, but a caller could). */
export function storable(entry: string): boolean {
  return entry.trim() !== '' && !/[\r\n]/.test(entry);
}

/** Parse a history file's text: the entries, oldest first (node:repl's older format is reversed). */
export function parseHistory(text: string): string[] {
  const lines = text.split('\n');
  // A second header comes from two sessions creating the file at once: not an entry.
  if (lines[0] === HISTORY_HEADER) return lines.slice(1).filter((l) => storable(l) && l !== HISTORY_HEADER);
  // node:repl wrote newest first, joined by os.EOL, and split on any run of CR/LF when reading.
  return text.split(/[\r\n]+/).filter(storable).reverse();
}

/**
 * One history file. `load()` once, then `add()` each entry readline adds.
 * Methods throw `SocklabError('E_IO')` with the OS error as cause when the
 * file cannot be read or written; the REPL then says so once and goes on.
 */
export class HistoryFile {
  /** Lines in the file as far as this process knows (other sessions append too; a cut re-reads). */
  private lines = 0;
  private migrate = false;

  constructor(
    readonly path: string,
    readonly size = HISTORY_SIZE,
  ) {}

  /** The newest `size` entries, newest first (readline's order). A missing file is an empty history. */
  load(): string[] {
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if (osErrorCode(err) !== 'ENOENT') throw this.failure('read', err);
    }
    const entries = parseHistory(text);
    this.lines = entries.length;
    // A file in node:repl's format is rewritten in this one before the first append.
    this.migrate = text !== '' && !text.startsWith(`${HISTORY_HEADER}\n`);
    return entries.slice(-this.size).reverse();
  }

  /** Append one entry (ignored when it is blank or holds CR/LF); past twice `size` lines, cut the file. */
  add(entry: string): void {
    if (!storable(entry)) return;
    if (this.migrate) {
      this.rewrite(parseHistory(this.read()));
      this.migrate = false;
    }
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'a', 0o600);
      // A new file gets the header first; `a` keeps both writes at the end.
      if (this.lines === 0 && this.read() === '') writeSync(fd, `${HISTORY_HEADER}\n`);
      writeSync(fd, `${entry}\n`);
    } catch (err) {
      throw this.failure('write', err);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    this.lines += 1;
    if (this.lines > 2 * this.size) this.rewrite(parseHistory(this.read()));
  }

  private read(): string {
    try {
      return readFileSync(this.path, 'utf8');
    } catch (err) {
      if (osErrorCode(err) === 'ENOENT') return '';
      throw this.failure('read', err);
    }
  }

  /** Replace the file with the newest `size` of `entries`: a temporary file renamed over it. */
  private rewrite(entries: string[]): void {
    const kept = entries.slice(-this.size);
    const temp = `${this.path}.${process.pid}.tmp`;
    try {
      const fd = openSync(temp, 'w', 0o600);
      try {
        writeSync(fd, [HISTORY_HEADER, ...kept].map((l) => `${l}\n`).join(''));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.path);
    } catch (err) {
      rmSync(temp, { force: true });
      throw this.failure('write', err);
    }
    this.lines = kept.length;
  }

  private failure(what: 'read' | 'write', err: unknown): SocklabError {
    const code = osErrorCode(err) ?? 'error';
    return new SocklabError('E_IO', `cannot ${what} the history file ${this.path} (${code}): lines typed now are not kept`, { cause: err });
  }
}

/**
 * Load `file` into the REPL's history list and append each line readline adds
 * to it. A file that cannot be read or written is reported once to `failed`
 * (an E_IO SocklabError); the session goes on without it.
 */
export function keepHistory(server: REPLServer, file: HistoryFile, failed: (err: unknown) => void): void {
  let last: string | undefined;
  try {
    const entries = file.load();
    (server as unknown as { history: string[] }).history = entries;
    last = entries[0];
  } catch (err) {
    failed(err);
    return;
  }
  const onHistory = (list: string[]): void => {
    // readline emits the list after every line, also when it did not add one (a repeat of the newest).
    const newest = list[0];
    if (newest === undefined || newest === last) return;
    last = newest;
    try {
      file.add(newest);
    } catch (err) {
      failed(err);
      server.off('history', onHistory);
    }
  };
  server.on('history', onHistory);
}
