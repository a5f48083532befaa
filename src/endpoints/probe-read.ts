import { readSync } from 'node:fs';

const ONE = Buffer.alloc(1);

/**
 * One non-blocking read(2) of at most 1 byte on a socket's fd (libuv keeps
 * it non-blocking, so this never waits), to ask the kernel what is pending:
 * returns 1 (a byte was there, and is dropped), 0 (end of stream: a FIN),
 * or the error code (`EAGAIN`: nothing pending; `ECONNRESET`: an RST).
 *
 * Node reports each of these as a thrown `Error`; most calls end in EAGAIN,
 * so the stack trace that would be captured for it is turned off: capturing
 * it cost more than the syscall (a tenth of a connect/close cycle).
 */
export function probeRead(fd: number): number | string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return readSync(fd, ONE, 0, 1, null);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'EIO';
  } finally {
    Error.stackTraceLimit = limit;
  }
}
