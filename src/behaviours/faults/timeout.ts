import { PassStage } from './stage.js';
import type { FaultKind, FaultSink } from './types.js';

/**
 * Swallow every byte in this direction; `ms` after the fault reached the
 * link, close it (0: never). Removing the fault closes the link too, as
 * toxiproxy's Cleanup does: a caller that waited this long gets an answer.
 */
class TimeoutStage extends PassStage {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  constructor(name: string, next: FaultSink, ms: number) {
    super(name, next);
    if (ms > 0) this.timer = setTimeout(() => this.shut(`fault ${name} (${ms} ms passed)`), ms);
  }
  override data(): void {}
  override remove(): void {
    this.shut(`fault ${this.name} removed`);
  }
  override dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.closed = true;
  }
  private shut(why: string): void {
    if (this.closed) return;
    this.dispose();
    this.next.close(why);
  }
}

export const TIMEOUT: FaultKind = {
  name: 'timeout',
  summary: 'swallow every byte in this direction; close the link MS later (0: never); removing the fault closes the link',
  params: [{ name: 'ms', type: 'duration', positional: true, value: 'MS', help: 'close the link after this long (0 = only when removed)' }],
  differs: 'a FIN closes the link there; here it is passed on (half-close)',
  describe: (p) => (p.ms ? `close after ${p.ms} ms` : 'until removed'),
  make: (name, p, next) => new TimeoutStage(name, next, p.ms ?? 0),
};
