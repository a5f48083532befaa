import { PassStage } from './stage.js';
import type { FaultKind } from './types.js';

/** Discard every byte in this direction; the connection stays, a FIN still passes. */
class DropStage extends PassStage {
  override data(): void {}
}

export const DROP: FaultKind = {
  name: 'drop',
  summary: 'discard every byte in this direction; the connection stays open and a FIN still passes',
  params: [],
  differs: 'none; timeout 0 is the nearest, but it closes the link when removed',
  describe: () => 'every byte',
  make: (name, _p, next) => new DropStage(name, next),
};
