import { QueueStage, tagged } from './stage.js';
import type { FaultKind, FaultParams, FaultSink } from './types.js';

/**
 * At most `kbps` KB/s (1 KB = 1000 B, so kbps is bytes per ms), as
 * toxiproxy's `bandwidth`: a chunk goes on once the link's virtual clock has
 * spent len/rate ms on it; a chunk larger than 100 ms of rate goes in
 * pieces of that size, one every 100 ms.
 */
class BandwidthStage extends QueueStage {
  constructor(name: string, next: FaultSink, private readonly rate: number) {
    super(name, next);
  }
  protected admit(chunk: Buffer, fault: string | undefined, hold: (piece: Buffer, due: number, fault: string | undefined) => void): void {
    const piece = this.rate * 100;
    let due = this.lastDue();
    const tag = tagged(fault, this.name);
    for (let at = 0; at < chunk.length; at += piece) {
      const part = chunk.subarray(at, at + piece);
      due += part.length / this.rate;
      hold(part, due, tag);
    }
  }
}

export const BANDWIDTH: FaultKind = {
  name: 'bandwidth',
  summary: 'at most KBPS kilobytes a second (1 KB = 1000 B); bytes wait in the relay, the sender is slowed by backpressure',
  params: [{ name: 'kbps', type: 'int', positional: true, min: 1, value: 'KBPS', help: 'rate in KB/s (1 KB = 1000 B)' }],
  differs: '0 means no limit there; here it is refused (remove the fault instead)',
  describe: (p: FaultParams) => `${p.kbps} KB/s`,
  make: (name, p, next) => new BandwidthStage(name, next, p.kbps ?? 1),
};
