/**
 * ByteWindow against a model (one Buffer of everything appended, cut as the
 * window is cut): appends of every size (within a block, across blocks, and
 * long owned chunks kept by reference), trims, literal and regex searches and
 * takes, in any order, must see exactly the model's bytes. A chunk the caller
 * does not own is overwritten after its append (a relay reads the next chunk
 * into the same memory), and what `take` returned
 * is checked again at the end (blocks go back to a pool and are reused).
 * Pure: no sockets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWindow, EXPECT_KEEP_OWNED, WINDOW_BLOCK, type Pattern } from '../../src/observers/byte-window.js';
import { compilePattern } from '../../src/protocols/pattern.js';

type Op =
  | { op: 'append'; bytes: Buffer; owned: boolean }
  | { op: 'trim'; keep: number }
  | { op: 'find'; needle: Buffer; regex: boolean }
  | { op: 'all' }
  | { op: 'count' };

const byte = fc.integer({ min: 0x61, max: 0x64 }); // a-d: needles are found often
const chunk = fc.oneof(
  fc.array(byte, { minLength: 1, maxLength: 70 }),
  fc.array(byte, { minLength: EXPECT_KEEP_OWNED, maxLength: EXPECT_KEEP_OWNED + 100 }),
  fc.array(byte, { minLength: WINDOW_BLOCK - 100, maxLength: WINDOW_BLOCK + 100 }),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ b: chunk, owned: fc.boolean() }).map(({ b, owned }) => ({ op: 'append' as const, bytes: Buffer.from(b), owned })) },
  { weight: 1, arbitrary: fc.nat({ max: 3 * WINDOW_BLOCK }).map((keep) => ({ op: 'trim' as const, keep })) },
  { weight: 2, arbitrary: fc.record({ needle: fc.array(byte, { minLength: 1, maxLength: 4 }).map((b) => Buffer.from(b)), regex: fc.boolean() }).map((r) => ({ op: 'find' as const, ...r })) },
  { weight: 1, arbitrary: fc.constant({ op: 'all' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'count' as const }) },
);

function patternOf(needle: Buffer, regex: boolean): Pattern {
  if (!regex) return { kind: 'bytes', bytes: needle };
  const compiled = compilePattern(`/${needle.toString('latin1')}/`);
  if (compiled === undefined) throw new Error('not a regex');
  return { kind: 'regex', regex: compiled };
}

describe('ByteWindow', () => {
  it('holds exactly the bytes appended and not trimmed or taken, whatever the order of appends, trims and searches', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const w = new ByteWindow();
        let model = Buffer.alloc(0);
        const takes: Array<[Buffer, Buffer]> = [];
        for (const o of ops) {
          if (o.op === 'append') {
            const chunk = Buffer.from(o.bytes);
            w.append(chunk, o.owned);
            // A chunk the caller does not own is overwritten at once (a relay reads the next one into it).
            if (!o.owned) chunk.fill(0x7a); // z: never in a needle
            model = Buffer.concat([model, o.bytes]);
          } else if (o.op === 'trim') {
            const dropped = w.trim(o.keep);
            const expected = Math.max(0, model.length - o.keep);
            expect(dropped).toBe(expected);
            model = model.subarray(expected);
          } else if (o.op === 'find') {
            // Each search is a new `.expect` (a waiting one searches only what is new).
            w.restart();
            const m = w.find(patternOf(o.needle, o.regex), true);
            const at = model.indexOf(o.needle);
            if (at === -1) {
              expect(m).toBeUndefined();
            } else {
              expect(m?.start).toBe(at);
              const taken = w.take(at + o.needle.length);
              const want = Buffer.from(model.subarray(0, at + o.needle.length));
              expect(taken.equals(want)).toBe(true);
              takes.push([taken, want]);
              model = model.subarray(at + o.needle.length);
            }
          } else if (o.op === 'count') {
            expect(w.chunkCount).toBeLessThanOrEqual(Math.max(1, model.length));
          }
          expect(w.bytes).toBe(model.length);
          if (o.op === 'all' || o.op === 'count') expect(w.all().equals(model)).toBe(true);
        }
        expect(w.all().equals(model)).toBe(true);
        for (const [taken, want] of takes) expect(taken.equals(want)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('a short chunk appended after a search is seen by the next search (the growing view is made again)', () => {
    const w = new ByteWindow();
    w.append(Buffer.from('ab'));
    expect(w.find({ kind: 'bytes', bytes: Buffer.from('bc') }, true)).toBeUndefined();
    w.append(Buffer.from('c'));
    w.append(Buffer.from('d'));
    expect(w.find({ kind: 'bytes', bytes: Buffer.from('bcd') }, true)).toEqual({ start: 1, end: 4, captures: [] });
    expect(w.all().toString()).toBe('abcd');
  });
});
