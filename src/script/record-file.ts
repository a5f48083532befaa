import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, statSync, writeSync, type Stats } from 'node:fs';
import vm from 'node:vm';
import type { CommandTable } from '../commands/define.js';
import { isBlankOrComment, isCommandLine } from '../commands/dispatch.js';
import { SocklabError, messageOf, osErrorCode } from '../errors.js';
import { checkScript } from './check.js';
import { readScriptSync } from './source.js';

/** What `.record` does with a FILE that exists already (SPEC section 3). */
export type RecordMode = 'new' | 'append' | 'force';

/** An open recording: one line written per call, straight to the file. */
export interface RecordFile {
  write(line: string): void;
  close(): void;
}

/**
 * Open FILE for `.record` (SPEC section 3). `new`: FILE must not exist.
 * `append`: FILE must exist and be a socklab script (see `isSocklabScript`).
 * `force`: FILE is emptied. Regular files only: a FIFO, a device, a
 * directory, or a symlink to one is refused. The file is opened with
 * O_NONBLOCK (a FIFO swapped in after the check fails with ENXIO, never
 * blocks in open()) and checked again on the open descriptor.
 *
 * Throws `SocklabError` `E_IO` naming the file and what is wrong.
 */
export function openRecordFile(path: string, name: string, mode: RecordMode, commands: CommandTable): RecordFile {
  const existing = statOrUndefined(path, name);
  if (existing === undefined && mode === 'append') throw new SocklabError('E_IO', `cannot append to ${name}: it does not exist (.record ${name} starts it)`);
  if (existing !== undefined) {
    if (!existing.isFile()) throw new SocklabError('E_IO', `cannot record to ${name}: it is ${kindOf(existing)}; .record writes regular files only`);
    if (mode === 'new') throw new SocklabError('E_IO', `cannot record to ${name}: it exists. --append adds to it (a socklab script), --force overwrites it`);
    if (mode === 'append') {
      const why = notAScript(path, name, commands);
      if (why !== undefined) throw new SocklabError('E_IO', `cannot append to ${name}: it is not a socklab script (${why}); --force overwrites it`);
    }
  }
  const flags =
    constants.O_WRONLY | constants.O_NONBLOCK | (existing === undefined ? constants.O_CREAT | constants.O_EXCL : mode === 'append' ? constants.O_APPEND : 0);
  let fd: number;
  try {
    fd = openSync(path, flags, 0o644);
  } catch (err) {
    throw new SocklabError('E_IO', `cannot record to ${name}: ${reason(err)}`, { cause: err });
  }
  try {
    const opened = fstatSync(fd);
    if (!opened.isFile()) throw new SocklabError('E_IO', `cannot record to ${name}: it is ${kindOf(opened)}; .record writes regular files only`);
    // Emptied only now that the descriptor is known to be a regular file.
    if (mode === 'force') ftruncateSync(fd, 0);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let open = true;
  return {
    write(line) {
      writeSync(fd, `${line}\n`);
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/**
 * Why the file at `path` is not a socklab script, or undefined when it is:
 * a script is UTF-8 text within the script bounds (no NUL byte), whose every
 * line is blank, a `#` comment, a dot-command that parses, or JavaScript
 * that compiles on its own (as `.record` writes it).
 */
export function notAScript(path: string, name: string, commands: CommandTable): string | undefined {
  let source: string;
  try {
    source = readScriptSync(path, name) ?? '';
  } catch (err) {
    return messageOf(err).replace(`${name} is not a socklab script: `, '');
  }
  const { problems } = checkScript(source, commands, true);
  const first = problems[0];
  if (first !== undefined) return `line ${first.number} is not a command socklab runs`;
  const lines = source.split(/\r?\n/);
  const index = lines.findIndex((line) => !isBlankOrComment(line) && !isCommandLine(line) && !compiles(line));
  return index === -1 ? undefined : `line ${index + 1} is neither a command nor JavaScript`;
}

/** True when a JavaScript line is complete on its own (inside an async function: top-level await is kept). */
export function compiles(code: string): boolean {
  try {
    new vm.Script(`(async () => {\n${code}\n})`);
    return true;
  } catch {
    return false;
  }
}

function statOrUndefined(path: string, name: string): Stats | undefined {
  try {
    lstatSync(path);
  } catch (err) {
    if (osErrorCode(err) === 'ENOENT') return undefined;
    throw new SocklabError('E_IO', `cannot record to ${name}: ${reason(err)}`, { cause: err });
  }
  try {
    // A symlink counts as what it points to: to a regular file it is fine, to a FIFO it is not.
    return statSync(path);
  } catch (err) {
    throw new SocklabError('E_IO', `cannot record to ${name}: it is a symlink to nothing (${reason(err)})`, { cause: err });
  }
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  return 'a device';
}

function reason(err: unknown): string {
  const code = osErrorCode(err);
  const known: Record<string, string> = {
    EEXIST: 'it appeared meanwhile; try again',
    ENXIO: 'it is a FIFO with no reader',
    EACCES: 'permission denied',
    ENOENT: 'no such folder',
    EISDIR: 'it is a directory',
  };
  return (code !== undefined ? known[code] : undefined) ?? messageOf(err);
}
