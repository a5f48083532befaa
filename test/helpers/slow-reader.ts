import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';

/**
 * Reads a child's output slowly, the way a slow `--json` consumer does, so
 * the child's writes back up: one chunk (≤ 64 KiB, libuv's read size), then
 * nothing until `pace()` resolves (by default one 1 ms timer tick). `onChunk`
 * sees every byte, in order, up to the end. Returns a function that stops.
 *
 * A `'data'` listener paused between chunks, not `read()` called from a
 * timer: when a child exits, Node resumes each of its stdio streams
 * (`flushStdio` in lib/internal/child_process.js) so they reach their end,
 * and what a stream nobody listens to still holds is emitted to no one. The
 * timer-driven `read()` this replaces lost the tail of the output whenever the
 * child exited before the reader caught up (docs/reliability.md).
 */
export function readSlowly(stream: Readable, onChunk: (chunk: Buffer) => void, pace: () => Promise<unknown> = () => sleep(1)): () => void {
  let waiting = false;
  let stopped = false;
  const onData = (chunk: Buffer): void => {
    onChunk(chunk);
    // Flowing again while we wait (the child's exit resumed the stream): take everything.
    if (waiting) return;
    waiting = true;
    stream.pause();
    void pace().then(() => {
      waiting = false;
      if (!stopped) stream.resume();
    });
  };
  stream.on('data', onData);
  return () => {
    stopped = true;
    stream.off('data', onData);
  };
}
