/**
 * examples/tcp-states.lab run as a script by the built CLI (its server moved
 * to port 0): the kernel's states it walks through, as ss reports them —
 * ESTABLISHED on both sides, FIN_WAIT2 on the client that sent FIN first and
 * CLOSE_WAIT on the server's side, then TIME_WAIT on the client only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupLessons, hasTool, lessonSource, runLesson, socklab, tempDir, withListenPort } from '../helpers/lessons.js';
import { TCP_STATE_NOTES } from '../../src/render/kernel.js';

afterEach(cleanupLessons);

const HAS_SS = process.platform === 'linux' && hasTool('ss');

/** The `kernel` line of the `.show` of `id` in the output. */
function kernelLineOf(out: string, id: string): string | undefined {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l === `id               ${id}`);
  return lines.slice(start).find((l) => l.startsWith('kernel '))?.slice(17);
}

describe('tcp-states.lab', () => {
  it.runIf(HAS_SS)('walks one connection through ESTABLISHED, FIN_WAIT2 / CLOSE_WAIT and TIME_WAIT, and says who waits', async () => {
    const { exit, proc } = await runLesson('tcp-states', withListenPort(lessonSource('tcp-states'), 0));
    expect(exit, proc.describe()).toEqual({ code: 0, signal: null });
    expect(proc.stderr(), proc.describe()).toBe('');
    const out = proc.stdout();
    expect(out).toMatch(/^c1 +client +client +\S+ +\S+ +open +ESTABLISHED /m);
    expect(out).toMatch(/^c2 +conn +conn of s1 +\S+ +\S+ +open +ESTABLISHED /m);
    expect(kernelLineOf(out, 'c1')).toBe('FIN_WAIT2  (ss)');
    expect(kernelLineOf(out, 'c2')).toBe('CLOSE_WAIT  (ss)');
    // .explain on: each state the lesson reaches is explained where it shows.
    for (const state of ['ESTABLISHED', 'FIN_WAIT2', 'CLOSE_WAIT', 'TIME_WAIT'] as const) expect(out).toContain(TCP_STATE_NOTES[state]);
    expect(out).toMatch(/^c1 \(client\) ↔ c2 \(conn\) +127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+ +\d+s +c1 sent FIN first: its side waits; c2 closed second and does not$/m);
  });

  it('runs without ss too (a PATH without it): each view says so in one line, no stack, exit 0', async () => {
    const file = join(tempDir(), 'tcp-states.lab');
    writeFileSync(file, withListenPort(lessonSource('tcp-states'), 0));
    const proc = socklab(['--no-time', '--no-color', file], { env: { PATH: tempDir() } });
    expect(await proc.waitForExit(10_000), proc.describe()).toEqual({ code: 0, signal: null });
    const out = proc.stdout();
    const statement =
      process.platform === 'linux'
        ? "the kernel's view needs `ss` from iproute2 on Linux (no ss on PATH: install iproute2)"
        : `the kernel's view needs \`ss\` from iproute2 on Linux (this system is ${process.platform})`;
    // .ls --tcp, .tcp: the line alone; .show c1, .show c2: as the kernel line.
    expect(out.split('\n').filter((l) => l === statement)).toHaveLength(2);
    expect(out.split('\n').filter((l) => l === `kernel           ${statement}`)).toHaveLength(2);
    expect(out + proc.stderr()).not.toMatch(/^\s+at /m);
    expect(proc.stderr()).toBe('');
  });
});
