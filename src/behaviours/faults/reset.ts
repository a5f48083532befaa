import { PassStage } from './stage.js';
import type { FaultKind, FaultSink } from './types.js';

/**
 * On the next chunk or FIN in this direction, wait `after` ms, then RST both
 * sockets of the link (toxiproxy `reset_peer`). What arrives meanwhile is
 * discarded, as toxiproxy stops reading.
 */
class ResetStage extends PassStage {
  private timer: NodeJS.Timeout | undefined;
  private armed = false;
  constructor(name: string, next: FaultSink, private readonly after: number) {
    super(name, next);
  }
  override data(): void {
    this.fire();
  }
  override end(): void {
    this.fire();
  }
  override remove(): void {
    this.dispose();
  }
  override dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
  private fire(): void {
    if (this.armed) return;
    this.armed = true;
    const go = (): void => this.next.reset(`fault ${this.name}`);
    if (this.after === 0) queueMicrotask(go);
    else this.timer = setTimeout(go, this.after);
  }
}

export const RESET: FaultKind = {
  name: 'reset',
  summary: 'on the next data or FIN in this direction, wait --after MS, then RST both sockets (bytes meanwhile are discarded)',
  params: [{ name: 'after', type: 'duration', default: 0, value: 'MS', help: 'wait this long before the RST' }],
  differs: 'reset_peer, whose timeout is --after here; removing the fault before the RST cancels it here',
  describe: (p) => (p.after ? `after ${p.after} ms` : 'at once'),
  make: (name, p, next) => new ResetStage(name, next, p.after ?? 0),
};
