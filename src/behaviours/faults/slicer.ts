import { PassStage, QueueStage, tagged } from './stage.js';
import type { FaultKind, FaultParams, FaultSink, FaultStage } from './types.js';

/**
 * Cut points of `[start, end)` as toxiproxy's slicer makes them: halve
 * (the middle moved by up to ± variation) until a piece is within
 * size + variation bytes.
 */
export function sliceBounds(start: number, end: number, size: number, variation: number): number[] {
  if (end - start - size <= variation) return [start, end];
  let mid = start + Math.floor((end - start) / 2);
  if (variation > 0) mid += Math.floor(Math.random() * 2 * variation) - variation;
  return [...sliceBounds(start, mid, size, variation), ...sliceBounds(mid, end, size, variation)];
}

function slices(chunk: Buffer, size: number, variation: number): Buffer[] {
  const b = sliceBounds(0, chunk.length, size, variation);
  const out: Buffer[] = [];
  for (let i = 1; i < b.length; i += 2) out.push(chunk.subarray(b[i - 1], b[i]));
  return out;
}

/** Slices, each `delay` ms after the one before. */
class DelayedSlicer extends QueueStage {
  constructor(name: string, next: FaultSink, private readonly p: FaultParams) {
    super(name, next);
  }
  protected admit(chunk: Buffer, fault: string | undefined, hold: (piece: Buffer, due: number, fault: string | undefined) => void): void {
    const tag = tagged(fault, this.name);
    let due = Math.max(this.lastDue(), performance.now());
    // toxiproxy: the first slice goes at once, then each after the delay.
    for (const s of slices(chunk, this.p.size ?? 1, this.p.variation ?? 0)) {
      hold(s, due, tag);
      due += this.p.delay ?? 0;
    }
  }
}

/** Slices handed on together, in the same turn (separate writes, separate relay events). */
class Slicer extends PassStage {
  constructor(name: string, next: FaultSink, private readonly p: FaultParams) {
    super(name, next);
  }
  override data(chunk: Buffer, fault?: string): void {
    const tag = tagged(fault, this.name);
    for (const s of slices(chunk, this.p.size ?? 1, this.p.variation ?? 0)) this.next.data(s, tag);
  }
}

export const SLICER: FaultKind = {
  name: 'slicer',
  summary: 'cut each chunk into pieces of about --size N bytes (± --variation N), --delay MS apart',
  params: [
    { name: 'size', type: 'int', min: 1, value: 'N', help: 'average piece size in bytes (required)' },
    { name: 'variation', type: 'int', default: 0, value: 'N', help: 'pieces vary by up to this many bytes' },
    { name: 'delay', type: 'duration', default: 0, value: 'MS', help: 'time between pieces' },
  ],
  differs: 'its delay is in microseconds; --delay here is in milliseconds',
  problem: (p) => (p.size === undefined ? 'slicer needs --size N (bytes per piece, ≥ 1)' : undefined),
  describe: (p: FaultParams) => `--size ${p.size}${p.variation ? ` --variation ${p.variation}` : ''}${p.delay ? ` --delay ${p.delay} ms` : ''}`,
  make: (name, p, next): FaultStage => ((p.delay ?? 0) > 0 ? new DelayedSlicer(name, next, p) : new Slicer(name, next, p)),
};
