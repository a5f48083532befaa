/**
 * Issue 10, item 15: `.set eol cr`, `.sendln c1` with no payload, and the
 * shape of `--repeat` / `--chunk` / `--delay`: the payload is repeated and
 * joined, then cut into --chunk writes with --delay between them; --delay
 * without --chunk waits between repetitions. Checked on the wire with a
 * Python reader that records the chunks it receives.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pieces } from '../../src/endpoints/tcp-send.js';
import { closeAll } from '../helpers/loopback.js';
import { commandRig } from '../helpers/commands.js';
import { pythonPeer, type PythonPeer } from '../helpers/python-peer.js';

afterEach(closeAll);

/** Connect c1 to a Python reader, run `lines`, end c1; the chunks Python received and the writes socklab made. */
async function onTheWire(lines: string[], setup: string[] = []): Promise<{ chunks: string[]; writes: string[]; sendTimes: number[] }> {
  const py: PythonPeer = await pythonPeer();
  const rig = commandRig();
  for (const l of setup) await rig.ok(l);
  await rig.ok(`.connect ${py.port}`);
  await py.accepted;
  const done = py.ask('chunks', ['EOF', 'RESET']);
  for (const l of lines) await rig.ok(l);
  await rig.ok('.end c1');
  expect(await done).toMatch(/^EOF/);
  const chunks = py.lines.filter((l) => l.startsWith('chunk ')).map((l) => l.slice(6));
  const sends = rig.log.of('send', 'c1');
  return { chunks, writes: sends.map((e) => e.data.toString('latin1')), sendTimes: sends.map((e) => e.t) };
}

/** Reader chunks never split a write: every boundary between chunks is a boundary between writes. */
function boundaries(parts: string[]): Set<number> {
  const out = new Set<number>();
  let at = 0;
  for (const p of parts) out.add((at += p.length));
  return out;
}

describe('--repeat, --chunk, --delay', () => {
  it('--repeat 2 --chunk 3 abcd: joined, then cut: abc dab cd (the old code wrote abc d abc d)', async () => {
    const { chunks, writes } = await onTheWire(['.send --repeat 2 --chunk 3 c1 abcd']);
    expect(writes).toEqual(['abc', 'dab', 'cd']);
    expect(chunks.join('')).toBe('abcdabcd');
    for (const b of boundaries(chunks)) expect(boundaries(writes)).toContain(b);
  });

  it('--repeat 3 --delay 100ms (no --chunk): three writes, the delay between repetitions (the old code ignored it)', async () => {
    const { chunks, writes, sendTimes } = await onTheWire(['.send --repeat 3 --delay 100ms c1 xyz']);
    expect(writes).toEqual(['xyz', 'xyz', 'xyz']);
    expect(chunks.join('')).toBe('xyzxyzxyz');
    // A lower bound only: the delay happened (never a speed).
    expect(sendTimes[2]! - sendTimes[0]!).toBeGreaterThanOrEqual(190);
  });

  it('--chunk 2 --delay 20ms: the delay between every two writes', async () => {
    const { writes, chunks, sendTimes } = await onTheWire(['.send --chunk 2 --delay 20ms c1 hello']);
    expect(writes).toEqual(['he', 'll', 'o']);
    expect(chunks.join('')).toBe('hello');
    expect(sendTimes[2]! - sendTimes[0]!).toBeGreaterThanOrEqual(38);
  });

  it('--repeat without --chunk or --delay: joined into one write', async () => {
    const { writes } = await onTheWire(['.send --repeat 4 c1 ab']);
    expect(writes).toEqual(['abababab']);
  });

  it('pieces: a large repeat stays a few blocks; chunks span repetitions at any size', () => {
    const data = Buffer.from('abcd');
    expect([...pieces(data, 3, 5)].map((p) => p.data.toString())).toEqual(['abcda', 'bcdab', 'cd']);
    expect([...pieces(data, 3, 5)].map((p) => p.pause)).toEqual([false, true, true]);
    expect([...pieces(data, 100_000)].length).toBeLessThan(10);
  });
});

describe('end-of-line', () => {
  it('.set eol cr: .sendln appends a lone CR', async () => {
    const { chunks } = await onTheWire(['.sendln c1 AT'], ['.set eol cr']);
    expect(chunks.join('')).toBe('AT\\r');
  });

  it('.sendln c1 with no payload sends the end-of-line alone, as Enter in nc does', async () => {
    const { chunks } = await onTheWire(['.sendln c1', '.set eol crlf', '.sendln c1']);
    expect(chunks.join('')).toBe('\\n\\r\\n');
  });

  it('.set eol takes lf, crlf, cr, none; anything else is one clear line', async () => {
    const rig = commandRig();
    for (const v of ['lf', 'crlf', 'cr', 'none']) await rig.ok(`.set eol ${v}`);
    expect((await rig.fail('.set eol lfcr')).message).toMatch(/lf \| crlf \| cr \| none/);
    expect((await rig.fail('.send c1')).message).toMatch(/missing PAYLOAD/);
  });
});
