import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { SocklabError } from '../errors.js';
import { checkFile, type FileUse, type Permissions } from '../script/permissions.js';

/** Largest `file:` payload read, the payload decoder's own limit (64 MiB). */
export const MAX_FILE_PAYLOAD = 64 * 1024 * 1024;

/**
 * Read the file of a `file:PATH` payload, refusing more than `max` bytes.
 * Only a regular file is read (as `.record` writes only one): a FIFO with no
 * writer would send nothing and say nothing, one with an idle writer fails
 * with EAGAIN, and a device (`/dev/zero`) never ends. Opened without blocking,
 * so a FIFO is refused rather than waited on. Throws `E_IO` for anything that
 * is not a regular file, `E_LIMIT` past `max`.
 */
export function readPayloadFile(path: string, max = MAX_FILE_PAYLOAD): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      const kind = stats.isFIFO() ? 'a FIFO' : stats.isDirectory() ? 'a directory' : stats.isSocket() ? 'a socket' : 'a device';
      throw new SocklabError('E_IO', `file:${path} is ${kind}: a file: payload is read from a regular file`);
    }
    if (stats.size > max) throw tooLarge(path, `is ${stats.size} bytes, over`, max);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

function tooLarge(path: string, what: string, max: number): SocklabError {
  return new SocklabError('E_LIMIT', `file:${path} ${what} the ${max}-byte limit of a payload: send it in smaller parts`);
}

/** The file a payload reads, if it is `file:PATH` (for the permission check of scripts). */
export function payloadFileUse(payload: string | undefined, what: string): FileUse[] {
  return payload?.startsWith('file:') === true ? [{ path: payload.slice(5), access: 'read', what }] : [];
}

/** The file a `--reply` spec reads: a `file:PATH` spec without placeholders is a fixed reply read once. */
export function replyFileUse(spec: string | undefined, what: string): FileUse[] {
  return spec !== undefined && !/[{}]/.test(spec) ? payloadFileUse(spec, what) : [];
}

/**
 * A `readFile` for `decodePayload` that sends every path through the
 * script's permission check first (`perms` undefined: the person typing).
 */
export function permittedReader(perms: Permissions | undefined, what: string): (path: string) => Buffer {
  return (path) => readPayloadFile(checkFile(perms, { path, access: 'read', what }));
}
