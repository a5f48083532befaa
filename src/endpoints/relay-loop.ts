import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { formatHostPort } from '../session/endpoint.js';
import type { Registry } from '../session/manager.js';
import { RelayState, type RelayEndpoint, type RelayTarget } from './relay-types.js';

/** New links a relay accepts per window before it stops accepting (a loop guard, as rules have). */
export interface RelayLinkRate {
  /** Links accepted in one window past which the relay stops accepting. */
  links: number;
  /** The window, ms. */
  perMs: number;
}

/** The default guard: more than 1,000 new links in a second is a loop, not a class. */
export const RELAY_LINK_RATE: RelayLinkRate = { links: 1000, perMs: 1000 };

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** Whether `host` names this machine (loopback, a wildcard, or one of its interfaces' addresses). */
function isThisMachine(host: string): boolean {
  if (host === 'localhost' || host.startsWith('127.') || host === '::1' || WILDCARDS.has(host)) return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === host));
}

/** Whether a connection to `target` lands on a server bound at `at`. */
function reaches(target: RelayTarget, at: AddressInfo | string): boolean {
  if (typeof at === 'string') return target.path !== undefined && resolve(target.path) === resolve(at);
  if (target.path !== undefined || target.port !== at.port) return false;
  if (target.host === at.address) return true;
  if (WILDCARDS.has(at.address)) return isThisMachine(target.host);
  return target.host === 'localhost' && (at.address === '127.0.0.1' || at.address === '::1');
}

const shown = (t: RelayTarget): string => t.path ?? formatHostPort(t.host, t.port);

/**
 * The loop `relay` would make, if its target is its own listening address
 * or leads back to it through other relays of this session: the steps as
 * `p1 → 127.0.0.1:7000 (p2)`, one per relay; undefined when there is none.
 * Targets named by a hostname other than `localhost` are not resolved.
 */
export function relayLoop(reg: Registry, relay: RelayEndpoint): string[] | undefined {
  const home = relay.server.address();
  if (home === null) return undefined;
  const relays = reg.list().filter((ep): ep is RelayEndpoint => ep.kind === 'relay' && ep !== relay && ep.state === RelayState.LISTENING);
  const steps: string[] = [];
  const seen = new Set<RelayEndpoint>();
  let at = relay;
  for (;;) {
    const target = at.targetAddress;
    if (reaches(target, home)) return [...steps, `${at.id} → ${shown(target)} (${relay.id})`];
    const next = relays.find((r) => !seen.has(r) && r.server.address() !== null && reaches(target, r.server.address()!));
    if (next === undefined) return undefined;
    steps.push(`${at.id} → ${shown(target)} (${next.id})`);
    seen.add(next);
    at = next;
  }
}
