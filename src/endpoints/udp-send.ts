import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { SocklabError } from '../errors.js';
import { nodeDns } from '../lazy-builtins.js';
import { parseAddress } from '../parse/address.js';
import { formatHostPort, type KindSendOptions, type SendResult } from '../session/endpoint.js';
import type { Session } from '../session/session.js';
import type { SendEvent } from '../session/events.js';
import { MAX_UDP_PAYLOAD_V4, MAX_UDP_PAYLOAD_V6, UdpState, type UdpEndpoint, type UdpPeer } from './udp-types.js';

/** Datagrams handed to Node at once before waiting for their callbacks: `--repeat 1000000` stays bounded. */
const IN_FLIGHT = 64;

/** Options of a UDP send: `to` may be a parsed peer (a reply) or the text of `--to`. */
export type UdpSendOptions = Omit<KindSendOptions, 'to'> & { to?: string | UdpPeer };

/**
 * `.send` on UDP sockets: one datagram per repetition, to `--to`, else the
 * `--connect` peer, else the last peer that sent to it (SPEC 9). Resolves once
 * the kernel took every datagram; a `send` event (with `to`) follows each.
 * Errors: E_USAGE (no destination, --chunk, --to on a connected socket),
 * E_BAD_ADDRESS, E_NET (a `--to` name that does not resolve, an OS error),
 * E_LIMIT (larger than a UDP datagram can be: EMSGSIZE), E_STATE (closed).
 */
export async function sendDatagrams(session: Session, eps: UdpEndpoint[], data: Buffer, options: UdpSendOptions): Promise<SendResult> {
  if ((options as KindSendOptions).chunk !== undefined) {
    throw new SocklabError('E_USAGE', 'UDP keeps message boundaries: one .send is one datagram, so there is no --chunk; --repeat N sends N datagrams');
  }
  // Every target is checked before anything is sent.
  const plans = await Promise.all(eps.map(async (ep) => ({ ep, to: await destination(session, ep, options.to) })));
  for (const { ep, to } of plans) checkSize(ep, to, data.length);
  const sent = await Promise.all(plans.map(({ ep, to }) => sendRepeated(session, ep, to, data, options)));
  return { bytes: sent.reduce((a, b) => a + b, 0), buffered: {} };
}

/** Where a datagram goes: `undefined` = the connected peer. */
async function destination(session: Session, ep: UdpEndpoint, to: string | UdpPeer | undefined): Promise<UdpPeer | undefined> {
  if (ep.state === UdpState.CLOSING || ep.state === UdpState.CLOSED) throw new SocklabError('E_STATE', `cannot send on ${ep.id}: it is ${ep.state}`);
  if (ep.state === UdpState.BINDING) await ep.ready;
  if (to === undefined) {
    if (ep.connected !== undefined) return undefined;
    if (ep.lastPeer !== undefined) return ep.lastPeer;
    throw new SocklabError(
      'E_USAGE',
      `${ep.id} has no destination: give one with .send --to HOST:PORT ${ep.id} …, or bind it with --connect HOST:PORT, or wait until a peer sends to it`,
    );
  }
  if (ep.connected !== undefined) {
    throw new SocklabError('E_USAGE', `${ep.id} is connected to ${ep.connected} and sends only there: leave out --to, or use another .udp socket`);
  }
  if (typeof to !== 'string') return to;
  const other = session.find(to);
  if (other !== undefined) {
    if (other.kind !== 'udp') throw new SocklabError('E_USAGE', `--to ${to}: that is a ${other.kind === 'server' ? 'TCP server' : 'TCP socket'}; give a UDP socket (u1) or HOST:PORT`);
    return reachable(other.local);
  }
  const address = parseAddress(to, 'connect');
  if (address.path !== undefined) throw new SocklabError('E_BAD_ADDRESS', `--to ${to}: UDP sends to HOST:PORT (or u1), not to a path`);
  const host = address.host ?? '127.0.0.1';
  if (net.isIP(host)) return { host, port: address.port };
  const family = isV6(ep) ? 6 : 4;
  const lookup = session.lookup ?? nodeDns().lookup;
  const resolved = await new Promise<string>((resolve, reject) =>
    lookup(host, { family }, (err, addr) => (err ? reject(err) : resolve(typeof addr === 'string' ? addr : (addr[0]?.address ?? '')))),
  ).catch((err: NodeJS.ErrnoException) => {
    throw new SocklabError('E_NET', `--to ${to}: the name ${host} does not resolve to an IPv${family} address (${err.code ?? 'ERR'}); check it, or give an IP address`, {
      cause: err,
      osCode: err.code,
    });
  });
  return { host: resolved, port: address.port };
}

/** A bound address (`host:port`, IPv6 in brackets) to send to: a wildcard bind is reached on loopback. */
export function reachable(local: string): UdpPeer {
  const at = local.lastIndexOf(':');
  const host = local.slice(0, at).replace(/^\[|\]$/g, '');
  const wildcard: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '::1' };
  return { host: wildcard[host] ?? host, port: Number(local.slice(at + 1)) };
}

/**
 * A `--reply` answer: one datagram back to its sender (the connected peer on
 * a connected socket). The data path of `--reply echo`: no promise, no
 * lookup; `peer` is the sender's `host:port`, already formatted. Returns the
 * `send` event for the caller to emit once the replier has returned (never
 * from inside it), or undefined when nothing was sent (EMSGSIZE: an `error`
 * event said so). `done` is called with the error of a send that failed
 * (ENOBUFS under a flood, a route that went away): Node drops the error of a
 * send given no callback, in dgram's `doSend` and in the send's completion.
 */
export function sendReply(session: Session, ep: UdpEndpoint, data: Buffer, to: UdpPeer, peer: string, done: (err: Error | null) => void): SendEvent | undefined {
  const connected = ep.connected !== undefined;
  if (data.length > MAX_UDP_PAYLOAD_V4) {
    try {
      checkSize(ep, connected ? undefined : to, data.length);
    } catch (err) {
      session.emit({ type: 'error', t: session.now(), id: ep.id, code: 'EMSGSIZE', message: (err as Error).message, context: 'udp' });
      return undefined;
    }
  }
  if (connected) ep.socket.send(data, done);
  else ep.socket.send(data, to.port, to.host, done);
  ep.datagramsOut++;
  ep.bytesOut += data.length;
  return { type: 'send', t: session.now(), id: ep.id, data, to: connected ? (ep.connected as string) : peer };
}

/**
 * The `lookup` option of a socket's `dgram.createSocket`: once `bound()`, an
 * IP literal is answered at once; a name (and anything before the bind) goes
 * to `dns.lookup` as dgram's default does. The default answers even an IP
 * literal in a `process.nextTick`, which costs four async-hook calls per
 * datagram sent while async hooks are on.
 */
export function literalLookup(bound: () => boolean): typeof import('node:dns').lookup {
  // The last literal answered: replies to one peer pass the same string each time, so no regex runs per datagram.
  let lastLiteral: string | undefined;
  let lastFamily = 0;
  const lookup = (address: string, family: number, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void => {
    if (address === lastLiteral) return callback(null, address, lastFamily);
    const ipFamily = bound() ? net.isIP(address) : 0;
    if (ipFamily === 0) return nodeDns().lookup(address, family, callback);
    lastLiteral = address;
    lastFamily = ipFamily;
    callback(null, address, ipFamily);
  };
  return lookup as unknown as typeof import('node:dns').lookup;
}

function checkSize(ep: UdpEndpoint, to: UdpPeer | undefined, size: number): void {
  const v6 = to === undefined ? isV6(ep) : net.isIPv6(to.host);
  const max = v6 ? MAX_UDP_PAYLOAD_V6 : MAX_UDP_PAYLOAD_V4;
  if (size <= max) return;
  throw new SocklabError(
    'E_LIMIT',
    `a datagram of ${size} B is too large (EMSGSIZE): UDP over IPv${v6 ? 6 : 4} carries at most ${max} B; send less per .send, or use TCP for a stream`,
    { osCode: 'EMSGSIZE' },
  );
}

async function sendRepeated(session: Session, ep: UdpEndpoint, to: UdpPeer | undefined, data: Buffer, options: UdpSendOptions): Promise<number> {
  const repeat = options.repeat ?? 1;
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  for (let i = 0; i < repeat; i++) {
    if (i > 0 && options.delay) await delay(options.delay);
    if (ep.state === UdpState.CLOSING || ep.state === UdpState.CLOSED) throw new SocklabError('E_STATE', `${ep.id} closed after ${i} of ${repeat} datagrams`);
    const p = sendOne(session, ep, to, data).finally(() => inFlight.delete(p));
    inFlight.add(p);
    sent += data.length;
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return sent;
}

function sendOne(session: Session, ep: UdpEndpoint, to: UdpPeer | undefined, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null): void => {
      ep.sending--;
      if (err) {
        const e = err as NodeJS.ErrnoException;
        session.emit({ type: 'error', t: session.now(), id: ep.id, code: e.code ?? 'ERR', message: e.message, context: 'udp' });
        // An ICMP port unreachable that came back for an earlier datagram, reported on this send
        // (which the kernel then did not send): an event to see, not a failed command.
        if (e.code === 'ECONNREFUSED') return resolve();
        return reject(new SocklabError('E_NET', `${ep.id}: ${e.message}`, { cause: e, osCode: e.code }));
      }
      ep.datagramsOut++;
      ep.bytesOut += data.length;
      session.emit({ type: 'send', t: session.now(), id: ep.id, data, to: to ? formatHostPort(to.host, to.port) : (ep.connected ?? '?') });
      resolve();
    };
    ep.sending++;
    try {
      if (to === undefined) ep.socket.send(data, done);
      else ep.socket.send(data, to.port, to.host, done);
    } catch (err) {
      ep.sending--;
      reject(new SocklabError('E_STATE', `${ep.id}: ${(err as Error).message}`, { cause: err }));
    }
  });
}

function isV6(ep: UdpEndpoint): boolean {
  return net.isIPv6(ep.options.host ?? '127.0.0.1');
}
