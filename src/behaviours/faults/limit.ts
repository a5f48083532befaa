import { PassStage, tagged } from './stage.js';
import type { FaultKind, FaultSink } from './types.js';

/** Pass `bytes` bytes in this direction, then close the link (toxiproxy `limit_data`). */
class LimitStage extends PassStage {
  private left: number;
  private done = false;
  constructor(name: string, next: FaultSink, private readonly bytes: number) {
    super(name, next);
    this.left = bytes;
  }
  override data(chunk: Buffer, fault?: string): void {
    if (this.done) return;
    if (chunk.length < this.left) {
      this.left -= chunk.length;
      return this.next.data(chunk, fault);
    }
    const cut = chunk.length > this.left;
    if (this.left > 0) this.next.data(cut ? chunk.subarray(0, this.left) : chunk, cut ? tagged(fault, this.name) : fault);
    this.left = 0;
    this.done = true;
    this.next.close(`fault ${this.name} (limit ${this.bytes} B passed)`);
  }
  override end(): void {
    if (!this.done) this.next.end();
  }
}

export const LIMIT: FaultKind = {
  name: 'limit',
  summary: 'pass BYTES bytes in this direction, then close the link (FIN both ways); the chunk that crosses it is cut',
  params: [{ name: 'bytes', type: 'int', positional: true, value: 'BYTES', help: 'bytes passed before the link closes' }],
  differs: 'limit_data',
  describe: (p) => `${p.bytes} B`,
  make: (name, p, next) => new LimitStage(name, next, p.bytes ?? 0),
};
