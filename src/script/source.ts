import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import net from 'node:net';
import { SocklabError, messageOf, osErrorCode } from '../errors.js';

/** Longest script accepted, in bytes (SPEC section 6). */
export const MAX_SCRIPT_BYTES = 16 * 1024 * 1024;
/** Longest line of a script accepted, in bytes. */
export const MAX_SCRIPT_LINE = 1024 * 1024;

/**
 * Read a script file with its bounds (SPEC section 6): a regular file or a
 * FIFO (a named pipe), at most `MAX_SCRIPT_BYTES` with no line over
 * `MAX_SCRIPT_LINE`, valid UTF-8 text without NUL bytes. A device
 * (`/dev/zero`), a directory or a socket is refused before a byte is read;
 * the file is opened without blocking, so a FIFO nobody writes to is waited
 * for on the thread pool, never in `open()` on the main thread.
 *
 * Throws `SocklabError` `E_LIMIT` past a bound, `E_SCRIPT` for what is not a
 * script (naming what is wrong, never quoting the file), `E_IO` when it
 * cannot be read. `name` is how messages call the file.
 */
export async function readScriptFile(path: string, name = path): Promise<string> {
  const fd = openScript(path, name);
  const stats = statOpen(fd);
  if (!stats.isFIFO()) return readRegular(fd, stats, name);
  // A FIFO: libuv reads the non-blocking descriptor as a pipe (as it reads a piped stdin),
  // so waiting for a writer blocks neither the event loop nor signals.
  return readScriptStream(new net.Socket({ fd, readable: true, writable: false }), name);
}

/**
 * The text of the regular file at `path` (the checker reads nested
 * `.replay` files with it): anything else, a FIFO included, is refused.
 */
export function readScriptSync(path: string, name: string): string {
  const fd = openScript(path, name);
  const stats = statOpen(fd);
  if (stats.isFIFO()) {
    closeSync(fd);
    throw notScriptKind(name, 'a FIFO (a nested .replay reads regular files)');
  }
  return readRegular(fd, stats, name);
}

/** fstat of a descriptor just opened; closes it if that fails. */
function statOpen(fd: number): Stats {
  try {
    return fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

function openScript(path: string, name: string): number {
  try {
    // O_NONBLOCK: open() on a FIFO with no writer returns at once instead of hanging the process.
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = osErrorCode(err);
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : messageOf(err);
    throw new SocklabError('E_IO', `cannot read script ${name}: ${reason}`, { cause: err });
  }
}

/** Read and close `fd`, a regular file (anything else but a FIFO is refused here). */
function readRegular(fd: number, stats: Stats, name: string): string {
  try {
    if (!stats.isFile()) throw notScriptKind(name, stats.isDirectory() ? 'a directory' : stats.isSocket() ? 'a socket' : 'a device');
    if (stats.size > MAX_SCRIPT_BYTES) throw tooLong(name);
    // Read in bounded steps: the size may change under us (a file still being written).
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(256 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_SCRIPT_BYTES) throw tooLong(name);
      chunks.push(chunk.subarray(0, n));
    }
    return scriptText(Buffer.concat(chunks, total), name);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read a script from a stream (stdin, a FIFO) with the same bounds as a
 * file; stops reading as soon as a bound is passed (bounded memory).
 */
export async function readScriptStream(stream: NodeJS.ReadableStream & { destroy?(): void }, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  const lines: LineState = { open: 0, number: 1 };
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      total += buf.length;
      if (total > MAX_SCRIPT_BYTES) throw tooLong(name);
      scanLines(buf, lines, name);
      chunks.push(buf);
    }
  } catch (err) {
    stream.destroy?.();
    if (err instanceof SocklabError) throw err;
    throw new SocklabError('E_IO', `cannot read ${name}: ${messageOf(err)}`, { cause: err });
  }
  return scriptText(Buffer.concat(chunks, total), name);
}

/**
 * True when stdin may be read as a script: a pipe, a file or /dev/null
 * (empty), not a device like /dev/zero.
 */
export function checkStdinKind(fd = 0): void {
  const stats = statFd(fd);
  if (stats === undefined || !stats.isCharacterDevice()) return;
  const devNull = statSync('/dev/null', { throwIfNoEntry: false });
  if (devNull !== undefined && devNull.rdev === stats.rdev) return;
  throw notScriptKind('<stdin>', 'a device');
}

function statFd(fd: number): Stats | undefined {
  try {
    return fstatSync(fd);
  } catch {
    return undefined;
  }
}

/** Where a streamed script is: the length of its open line and that line's 1-based number. */
interface LineState {
  open: number;
  number: number;
}

/** Advance `state` over `buf`; throws as soon as a line passes the bound (naming its number). */
function scanLines(buf: Buffer, state: LineState, name: string): void {
  let start = 0;
  for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a, start)) {
    if (state.open + nl - start > MAX_SCRIPT_LINE) throw lineTooLong(name, state.number);
    state.open = 0;
    state.number++;
    start = nl + 1;
  }
  state.open += buf.length - start;
  if (state.open > MAX_SCRIPT_LINE) throw lineTooLong(name, state.number);
}

/** The bytes as script text, or an error naming what is wrong (the content is never quoted). */
export function scriptText(buf: Buffer, name: string): string {
  scanLines(buf, { open: 0, number: 1 }, name);
  if (buf.includes(0)) throw notScript(name, 'it holds NUL bytes (a binary file)');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch (err) {
    throw new SocklabError('E_SCRIPT', `${name} is not a socklab script: it is not UTF-8 text`, { cause: err });
  }
  return text;
}

function notScript(name: string, why: string): SocklabError {
  return new SocklabError('E_SCRIPT', `${name} is not a socklab script: ${why}`);
}

function notScriptKind(name: string, kind: string): SocklabError {
  return new SocklabError('E_SCRIPT', `${name} is ${kind}, not a script: a script is a regular file or a pipe`);
}

function tooLong(name: string): SocklabError {
  return new SocklabError('E_LIMIT', `${name} is longer than ${MAX_SCRIPT_BYTES / 1024 / 1024} MiB, the limit of a script: split it and .replay the parts`);
}

function lineTooLong(name: string, line: number): SocklabError {
  return new SocklabError('E_LIMIT', `${name}:${line}: line longer than ${MAX_SCRIPT_LINE / 1024 / 1024} MiB, the limit of a script line: use file:PATH for large payloads`);
}
