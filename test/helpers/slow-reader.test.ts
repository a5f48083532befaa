/**
 * The slow reader the `--json` backpressure tests rely on: it must not lose
 * what a child wrote last when the child exits before the reader caught up
 * (Node resumes a child's stdio streams at its exit).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { readSlowly } from './slow-reader.js';

describe('readSlowly', () => {
  it('gets the last bytes of a child that exited before they were read', async () => {
    // The child writes `first`, waits for a line, writes `second` and exits.
    const child = spawn('sh', ['-c', 'printf first; read go; printf second'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    const chunks: Buffer[] = [];
    let readAtExit = -1;
    // A listener, not `exited.then`: Node resumes the stream on the next tick after 'exit'.
    child.once('exit', () => (readAtExit = Buffer.concat(chunks).length));
    // After the first chunk the reader lets the child go on, and reads nothing more until it has exited.
    const stop = readSlowly(child.stdout, (c) => chunks.push(c), async () => {
      child.stdin.end('go\n');
      await exited;
    });
    await once(child.stdout, 'end');
    stop();
    expect(Buffer.concat(chunks).toString()).toBe('firstsecond');
    expect(readAtExit).toBe('first'.length);
  });
});
