import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { SocklabError } from '../errors.js';
import { checkFile, type FileUse, type Permissions } from '../script/permissions.js';

/** Largest `file:` payload read, the payload decoder's own limit (64 MiB). */
export const MAX_FILE_PAYLOAD = 64 * 1024 * 1024;

/**
 * Read the file of a `file:PATH` payload, refusing more than `max` bytes.
 * `readFileSync` reads a device until its end: `file:/dev/zero` would block
 * the process and grow its memory until it dies. This reads a device or a
 * pipe at most `max + 1` bytes, and opens without blocking (a FIFO with no
 * writer reads as empty instead of hanging the REPL).
 */
export function readPayloadFile(path: string, max = MAX_FILE_PAYLOAD): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (stats.isFile()) {
      if (stats.size > max) throw tooLarge(path, `is ${stats.size} bytes, over`, max);
      return readFileSync(fd);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) return Buffer.concat(chunks, total);
      total += n;
      if (total > max) throw tooLarge(path, 'gives more than', max);
      chunks.push(chunk.subarray(0, n));
    }
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
