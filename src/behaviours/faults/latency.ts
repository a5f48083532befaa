import { QueueStage, tagged } from './stage.js';
import type { FaultKind, FaultParams, FaultSink } from './types.js';

/** Each chunk is handed on `ms` (± `jitter`) after it was read, in order (toxiproxy `latency`). */
class LatencyStage extends QueueStage {
  constructor(name: string, next: FaultSink, private readonly ms: number, private readonly jitter: number) {
    super(name, next);
  }
  protected admit(chunk: Buffer, fault: string | undefined, hold: (piece: Buffer, due: number, fault: string | undefined) => void): void {
    // toxiproxy: latency + a uniform draw in [-jitter, jitter).
    const delay = this.jitter > 0 ? this.ms + Math.floor(Math.random() * 2 * this.jitter) - this.jitter : this.ms;
    hold(chunk, performance.now() + Math.max(0, delay), tagged(fault, this.name));
  }
}

export const LATENCY: FaultKind = {
  name: 'latency',
  summary: 'hand each chunk on MS late (± --jitter MS); the FIN follows the last chunk',
  params: [
    { name: 'ms', type: 'duration', positional: true, value: 'MS', help: 'delay per chunk' },
    { name: 'jitter', type: 'duration', default: 0, value: 'MS', help: 'each delay is MS ± up to this much' },
  ],
  describe: (p: FaultParams) => `${p.ms} ms${p.jitter ? ` ± ${p.jitter} ms` : ''}`,
  make: (name, p, next) => new LatencyStage(name, next, p.ms ?? 0, p.jitter ?? 0),
};
