import type { RelayLink, RelayDirection } from '../../endpoints/relay-link.js';
import type { RelayEndpoint } from '../../endpoints/relay-types.js';
import { SocklabError } from '../../errors.js';
import type { FaultDirections, FaultRequest } from './parse.js';

/** A fault in force on a relay (`.fault p1 latency 200 as slow`). */
export interface RelayFault extends FaultRequest {
  name: string;
  /** Links it was offered to, live or gone (toxicity decides which got it). */
  offered: number;
  /** Links that got it, live or gone. */
  got: number;
}

/** The faults of one relay, in the order they were added (the order bytes pass them). */
interface RelayFaults {
  readonly faults: Map<string, RelayFault>;
  unsubscribe: () => void;
}

const byRelay = new WeakMap<RelayEndpoint, RelayFaults>();

const DIRS: Record<FaultDirections, RelayDirection[]> = { up: ['up'], down: ['down'], both: ['up', 'down'] };

/** The faults in force on `relay`, oldest first. */
export function faultsOf(relay: RelayEndpoint): RelayFault[] {
  return [...(byRelay.get(relay)?.faults.values() ?? [])];
}

/** `latency`, then `latency2`, …: the first name not in use on the relay. */
export function freeName(relay: RelayEndpoint, base: string): string {
  const taken = byRelay.get(relay)?.faults;
  if (!taken?.has(base)) return base;
  let n = 2;
  while (taken.has(`${base}${n}`)) n++;
  return `${base}${n}`;
}

/** The live links of `relay` that `fault` is on. */
export function linksWith(relay: RelayEndpoint, fault: RelayFault): RelayLink[] {
  const dir = DIRS[fault.dirs][0]!;
  return [...relay.links].filter((l) => l[dir].stages.some((s) => s.name === fault.name));
}

function apply(fault: RelayFault, link: RelayLink): void {
  fault.offered++;
  // One draw per link (toxiproxy draws per direction, again whenever its chain changes): a link keeps its fate.
  if (fault.toxicity < 1 && !(Math.random() < fault.toxicity)) return;
  for (const dir of DIRS[fault.dirs]) {
    const pipe = link[dir];
    pipe.add((next) => fault.kind.make(fault.name, fault.params, next)).onRelease = () => pipe.check();
  }
  fault.got++;
}

/**
 * Add a fault to every live link of `relay` and to each link it makes later.
 * Throws E_USAGE when `name` is taken on this relay.
 */
export function addFault(relay: RelayEndpoint, name: string, request: FaultRequest): RelayFault {
  let state = byRelay.get(relay);
  if (state?.faults.has(name)) throw new SocklabError('E_USAGE', `${relay.id} already has a fault named ${name}: .fault ${relay.id} off ${name} first, or add "as ANOTHER_NAME"`);
  if (state === undefined) {
    const faults = new Map<string, RelayFault>();
    const unsubscribe = relay.onLink((link) => {
      for (const f of faults.values()) apply(f, link);
    });
    state = { faults, unsubscribe };
    byRelay.set(relay, state);
  }
  const fault: RelayFault = { ...request, name, offered: 0, got: 0 };
  state.faults.set(name, fault);
  for (const link of relay.links) apply(fault, link);
  return fault;
}

/**
 * Take faults off every live link at once (what they hold goes on in
 * order) and off links made later. `name` `all` removes every fault.
 * Returns the faults removed; throws E_USAGE naming the faults in force
 * when `name` is none of them.
 */
export function removeFault(relay: RelayEndpoint, name: string): RelayFault[] {
  const state = byRelay.get(relay);
  const all = [...(state?.faults.values() ?? [])];
  const gone = name === 'all' ? all : all.filter((f) => f.name === name);
  if (gone.length === 0 && name !== 'all') {
    const known = all.map((f) => f.name).join(', ');
    throw new SocklabError('E_USAGE', `${relay.id} has no fault named ${name}: ${known ? `in force: ${known}, or all` : 'it has none'}`);
  }
  for (const f of gone) {
    state?.faults.delete(f.name);
    for (const link of linksWith(relay, f)) for (const dir of DIRS[f.dirs]) link[dir].remove(f.name);
  }
  if (state !== undefined && state.faults.size === 0) {
    state.unsubscribe();
    byRelay.delete(relay);
  }
  return gone;
}
