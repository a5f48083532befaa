/**
 * DatagramLog against a model (an array of the datagrams): pushes of every
 * size up to a UDP payload's 65,507 bytes, drops of any count, in any order;
 * every datagram reads back with its own boundaries and bytes. Pure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DatagramLog } from '../../src/observers/datagram-log.js';

type Op = { op: 'push'; size: number; fill: number } | { op: 'drop'; n: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ size: fc.oneof(fc.nat({ max: 100 }), fc.integer({ min: 20_000, max: 65_507 })), fill: fc.nat({ max: 255 }) }).map((r) => ({ op: 'push' as const, ...r })) },
  { weight: 1, arbitrary: fc.nat({ max: 40 }).map((n) => ({ op: 'drop' as const, n })) },
);

describe('DatagramLog', () => {
  it('reads back every datagram kept, oldest first, with its bytes and boundaries, whatever the pushes and drops', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const log = new DatagramLog();
        let model: Buffer[] = [];
        let n = 0;
        for (const o of ops) {
          if (o.op === 'push') {
            // Each datagram distinct: its first byte counts pushes, the rest is its fill.
            const d = Buffer.alloc(o.size, o.fill);
            if (o.size > 0) d[0] = n++ & 0xff;
            log.push(d);
            d.fill(0xee); // the log holds a copy: the sender's buffer may change afterwards
            const copy = Buffer.alloc(o.size, o.fill);
            if (o.size > 0) copy[0] = (n - 1) & 0xff;
            model.push(copy);
          } else {
            log.drop(o.n);
            model = model.slice(Math.min(o.n, model.length));
          }
          expect(log.length).toBe(model.length);
          expect(log.bytes).toBe(model.reduce((s, d) => s + d.length, 0));
        }
        for (let i = 0; i < model.length; i++) {
          expect(log.lengthAt(i)).toBe(model[i]?.length);
          expect(log.at(i).equals(model[i] as Buffer)).toBe(true);
        }
        expect(log.join().equals(Buffer.concat(model))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('lets go of the blocks of datagrams dropped: a long stream keeps only what is kept', () => {
    const log = new DatagramLog();
    const d = Buffer.alloc(1000, 7);
    for (let i = 0; i < 10_000; i++) {
      log.push(d);
      if (log.length > 100) log.drop(50);
    }
    expect(log.length).toBeLessThanOrEqual(100);
    // 100 datagrams of 1,000 bytes span at most three 64 KiB blocks.
    expect((log as unknown as { blocks: Buffer[] }).blocks.length).toBeLessThanOrEqual(3);
  });
});
