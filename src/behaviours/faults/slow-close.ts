import { PassStage } from './stage.js';
import type { FaultKind, FaultSink } from './types.js';

/** Hand the FIN on `ms` late; bytes pass (toxiproxy `slow_close`). Removed while waiting: the FIN goes now. */
class SlowCloseStage extends PassStage {
  private timer: NodeJS.Timeout | undefined;
  private finPassed = false;
  constructor(name: string, next: FaultSink, private readonly ms: number) {
    super(name, next);
  }
  override end(): void {
    if (this.timer !== undefined || this.finPassed) return;
    this.timer = setTimeout(() => this.passFin(), this.ms);
  }
  override remove(): void {
    if (this.timer !== undefined) this.passFin();
  }
  override dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
  private passFin(): void {
    this.dispose();
    this.finPassed = true;
    this.next.end();
  }
}

export const SLOW_CLOSE: FaultKind = {
  name: 'slow-close',
  summary: 'hand the FIN on MS late (bytes pass at once)',
  params: [{ name: 'ms', type: 'duration', positional: true, value: 'MS', help: 'delay of the FIN' }],
  differs: 'slow_close',
  describe: (p) => `FIN ${p.ms} ms late`,
  make: (name, p, next) => new SlowCloseStage(name, next, p.ms ?? 0),
};
