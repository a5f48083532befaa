import { BANDWIDTH } from './bandwidth.js';
import { DROP } from './drop.js';
import { LATENCY } from './latency.js';
import { LIMIT } from './limit.js';
import { RESET } from './reset.js';
import { SLICER } from './slicer.js';
import { SLOW_CLOSE } from './slow-close.js';
import { TIMEOUT } from './timeout.js';
import type { FaultKind } from './types.js';

/**
 * Every fault kind by name (`.fault pN KIND`), in the order `.help fault`
 * lists them. A new kind is one module and one entry here.
 */
export const FAULT_KINDS: ReadonlyMap<string, FaultKind> = new Map(
  [LATENCY, BANDWIDTH, SLICER, LIMIT, RESET, TIMEOUT, SLOW_CLOSE, DROP].map((k) => [k.name, k]),
);
