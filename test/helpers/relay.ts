import type { RelaySocketEndpoint } from '../../src/endpoints/relay-types.js';
import type { CommandRig } from './commands.js';

/** The port relay `ref` (default `p1`) listens on. */
export function relayPort(rig: CommandRig, ref = 'p1'): number {
  const ep = rig.ctx.session.get(ref);
  if (ep.kind !== 'relay') throw new Error(`${ref} is not a relay`);
  return Number(ep.address.split(':').at(-1));
}

/** A link socket of a relay (`c1` the client side, `c2` the target side of the first link). */
export function linkSocket(rig: CommandRig, ref: string): RelaySocketEndpoint {
  const ep = rig.ctx.session.get(ref);
  if (ep.kind !== 'relay-socket') throw new Error(`${ref} is not a relay socket`);
  return ep;
}
