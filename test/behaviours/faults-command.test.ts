/**
 * `.fault` as a command: bad parameters give one clear line each (and a
 * script with one is refused before anything runs), `.help fault` lists the
 * kinds from the table, `.fault pN` lists what is in force, names and
 * `--toxicity` 0 and 1, and `.ls` naming the faults of each link.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../src/behaviours/faults/index.js';
import { sliceBounds } from '../../src/behaviours/faults/slicer.js';
import { COMMANDS } from '../../src/commands/index.js';
import { commandRig, type CommandRig } from '../helpers/commands.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeAll, is, peerClient, peerServer, tempDir } from '../helpers/loopback.js';

afterEach(closeAll);

async function relayRig(): Promise<{ rig: CommandRig; port: number }> {
  const peer = await peerServer({ echo: true });
  const rig = commandRig();
  await rig.ok(`.proxy 0 ${peer.port}`);
  const ep = rig.ctx.session.get('p1');
  if (ep.kind !== 'relay') throw new Error('p1 is not a relay');
  return { rig, port: Number(ep.address.split(':').at(-1)) };
}

describe('.fault: bad input, one clear line each', () => {
  const cases: Array<[string, RegExp]> = [
    ['.fault p1 bogus 5', /unknown fault "bogus": the kinds are latency, bandwidth, slicer, limit, reset, timeout, slow-close, drop/],
    ['.fault p1 latency', /missing MS — usage: \.fault pN \[--up\|--down\] latency MS \[--jitter MS\]/],
    ['.fault p1 latency fast', /latency MS: bad duration "fast"/],
    ['.fault p1 latency -5', /unknown option --5|bad duration "-5"/],
    ['.fault p1 latency 200 --jiter 5', /unknown option --jiter: did you mean --jitter\?/],
    ['.fault p1 latency 200 300', /unexpected "300"/],
    ['.fault p1 bandwidth 0', /bandwidth KBPS takes a whole number ≥ 1, not "0"/],
    ['.fault p1 bandwidth 1.5', /bandwidth KBPS takes a whole number ≥ 1, not "1.5"/],
    ['.fault p1 slicer', /slicer needs --size N/],
    ['.fault p1 slicer --size 0', /--size takes a whole number ≥ 1, not "0"/],
    ['.fault p1 limit x', /limit BYTES takes a whole number ≥ 0, not "x"/],
    ['.fault p1 drop 5', /unexpected "5"/],
    ['.fault p1 latency 10 --toxicity 1.5', /--toxicity takes a chance from 0 to 1 \(0\.25 = one link in four\), not "1\.5"/],
    ['.fault p1 latency 10 --toxicity half', /--toxicity takes a chance from 0 to 1/],
    ['.fault p1 --up latency 10 --down', /--up and --down together/],
    ['.fault p1 latency 10 as all', /bad name "all"/],
    ['.fault p1 latency 10 as "a\x1bb"', /bad name/],
    ['.fault p1 off', /\.fault pN off takes one fault name, or all/],
    ['.fault p1 off a b', /\.fault pN off takes one fault name, or all/],
  ];
  it.each(cases)('%s', async (line, message) => {
    const { rig } = await relayRig();
    const error = await rig.fail(line);
    expect(error.code).toMatch(/^E_(USAGE|BAD_DURATION)$/);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
    // Nothing changed, and the session goes on.
    await rig.ok('.fault p1');
    expect(rig.printed.at(-1)).toMatch(/no faults/);
  });

  it('refuses a line in a script before anything runs (check time)', () => {
    const command = COMMANDS.get('fault')!;
    const check = (words: string[], options = {}) => command.check?.({ positionals: words, options }, COMMANDS);
    expect(() => check(['p1', 'slicer --size 0'])).toThrow(/--size takes a whole number ≥ 1/);
    expect(() => check(['p1', 'latency 2x'])).toThrow(/bad duration/);
    expect(() => check(['p1', 'latency 200'])).not.toThrow();
  });

  it('names what is wrong about the relay and its faults', async () => {
    const { rig } = await relayRig();
    expect((await rig.fail('.fault p9 latency 5')).code).toBe('E_UNKNOWN_ID');
    await rig.ok('.listen 0');
    expect((await rig.fail('.fault s1 latency 5')).message).toMatch(/s1 is a server: faults go on a relay \(p1, made by \.proxy\)/);
    expect((await rig.fail('.fault p1 off slow')).message).toMatch(/p1 has no fault named slow: it has none/);
    await rig.ok('.fault p1 latency 5 as slow');
    expect((await rig.fail('.fault p1 latency 9 as slow')).message).toMatch(/p1 already has a fault named slow: \.fault p1 off slow first/);
    expect((await rig.fail('.fault p1 off quick')).message).toMatch(/in force: slow, or all/);
  });
});

describe('.help fault', () => {
  it('lists every kind in the table with its usage, and where socklab differs from toxiproxy', async () => {
    const rig = commandRig();
    await rig.ok('.help fault');
    const help = rig.printed.join('\n');
    for (const kind of FAULT_KINDS.values()) expect(help).toContain(`${kind.name}`);
    expect(help).toContain('latency MS [--jitter MS]');
    expect(help).toContain('slicer --size N [--variation N] [--delay MS]');
    expect(help).toContain('bandwidth KBPS');
    expect(help.replace(/\s+/g, ' ')).toContain('slicer --size N [--variation N] [--delay MS] — cut each chunk');
    expect(help.replace(/\s+/g, ' ')).toContain('[toxiproxy: its delay is in microseconds; --delay here is in milliseconds]');
    expect(help).toMatch(/^ {4}slicer /m);
    expect(help).toMatch(/^ {4}drop — /m);
  });
});

describe('.fault pN: the list, names and toxicity', () => {
  it('lists name, parameters, direction, toxicity and the live links each fault is on', async () => {
    const { rig, port } = await relayRig();
    await rig.ok('.fault p1 latency 50 --jitter 10');
    await rig.ok('.fault p1 --down slicer --size 4 --delay 5 as chop');
    await rig.ok('.fault p1 --toxicity 0 latency 20');
    await peerClient(port);
    await rig.log.waitFor(is('connect', 'c2'));
    await rig.ok('.fault p1');
    const table = rig.printed.at(-1) ?? '';
    expect(table).toMatch(/^name +fault +dir +toxicity +live links$/m);
    expect(table).toMatch(/^latency +latency 50 ms ± 10 ms +both +1 +1 of 1 \(c1 ⇄ c2\)$/m);
    expect(table).toMatch(/^chop +slicer --size 4 --delay 5 ms +down +1 +1 of 1 \(c1 ⇄ c2\)$/m);
    expect(table).toMatch(/^latency2 +latency 20 ms +both +0 +0 of 1$/m);
    // .ls: the client row shows the faults on what it reads (up), the target's row those on down.
    await rig.ok('.ls');
    const ls = rig.printed.at(-1) ?? '';
    expect(ls).toMatch(/^c1 .*open, faults: latency +/m);
    expect(ls).toMatch(/^c2 .*open, faults: latency, chop +/m);
    await rig.ok('.fault p1 off all');
    await rig.ok('.ls');
    expect(rig.printed.at(-1)).not.toContain('faults:');
    const notes = rig.log.of('note', 'p1').map((n) => n.message);
    expect(notes).toContain('fault chop: slicer --size 4 --delay 5 ms, down (target → client), on 0 of 0 live links and each new one');
    expect(notes).toContain('removed faults latency, chop, latency2 (live links at once)');
  });

  it('--toxicity 1 gives every link the fault, 0 none; both apply to links made later', async () => {
    const { rig, port } = await relayRig();
    await rig.ok('.fault p1 --up latency 1 --toxicity 1 as always');
    await rig.ok('.fault p1 --up slicer --size 1 --toxicity 0 as never');
    const clients = await Promise.all([1, 2, 3].map(() => peerClient(port)));
    for (const c of clients) c.write('ab');
    await rig.log.waitFor((ev) => rig.log.of('relay').filter((r) => r.dir === 'up').length === 3 && ev.type === 'relay');
    const up = rig.log.of('relay').filter((r) => r.dir === 'up');
    // Every chunk went through `always`, none was sliced by `never`.
    expect(up.map((r) => [r.data.toString(), r.fault])).toEqual([['ab', 'always'], ['ab', 'always'], ['ab', 'always']]);
  });
});

describe('.fault in scripts', () => {
  it('is recorded as typed and replays: the replayed relay has the same faults', async () => {
    const peer = await peerServer({ echo: true });
    const file = join(tempDir(), 'faults.lab');
    const rig = commandRig();
    await rig.ok(`.record ${file}`);
    await rig.ok(`.proxy 0 ${peer.port}`);
    await rig.ok('.fault p1 --up latency 5 as slow');
    await rig.ok('.fault p1 --down bandwidth 10 --toxicity 0.5');
    await rig.ok('.fault p1 off slow');
    await rig.ok('.record stop');
    expect(readFileSync(file, 'utf8')).toContain('.fault p1 --down bandwidth 10 --toxicity 0.5\n.fault p1 off slow\n');
    const again = commandRig();
    await again.ok(`.replay ${file}`);
    await again.ok('.fault p1');
    expect(again.printed.at(-1)).toMatch(/^bandwidth +bandwidth 10 KB\/s +down +0\.5 +0 of 0$/m);
    expect(again.printed.at(-1)).not.toContain('slow');
  });
});

describe('slicer cut points (toxiproxy chunk())', () => {
  it('covers the input, in order, with pieces of at most size + variation', () => {
    for (const [len, size, variation] of [[100, 10, 0], [1000, 7, 3], [5, 10, 2], [1, 1, 0], [4096, 1, 0]] as const) {
      const b = sliceBounds(0, len, size, variation);
      expect(b[0]).toBe(0);
      expect(b.at(-1)).toBe(len);
      for (let i = 1; i < b.length; i += 2) {
        expect(b[i]! - b[i - 1]!).toBeLessThanOrEqual(size + variation);
        expect(b[i]! - b[i - 1]!).toBeGreaterThan(0);
        if (i > 1) expect(b[i - 1]).toBe(b[i - 2]);
      }
    }
  });
});
