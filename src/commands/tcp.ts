import { kindOf, type Endpoint } from '../session/endpoint.js';
import { queryKernel, type KernelKey, type KernelView } from '../observers/kernel-view.js';
import type { SsSocket } from '../protocols/ss.js';
import { TCP_STATE_NOTES, describeState, formatLeft, kernelLsCells, kernelShowLines } from '../render/kernel.js';
import { escapeMessage } from '../render/escape.js';
import { formatTable } from '../render/units.js';
import { defineCommand } from './define.js';

/**
 * The kernel's view in the commands: `.tcp` (connections in TIME_WAIT), the
 * `kernel` section of `.show` and the columns of `.ls --tcp`. One `ss` call
 * per command, never one per row.
 */

/** The endpoint's 4-tuple, or why it has none; undefined for kinds that are never TCP. */
function keyOf(ep: Endpoint): KernelKey | string | undefined {
  return kindOf(ep).kernelKey?.(ep);
}

const label = (ep: Endpoint): string => (ep.alias === undefined ? ep.id : `${ep.id} (${ep.alias})`);

/** `.show`'s kernel lines for one endpoint; none for kinds that are never TCP (UDP, a server). */
export async function kernelSection(ep: Endpoint, explain: boolean): Promise<Array<[string, string]>> {
  const key = keyOf(ep);
  if (key === undefined) return [];
  if (typeof key === 'string') return [['kernel', `- (${key})`]];
  const view = await queryKernel([key]);
  if (!view.ok) return [['kernel', view.reason]];
  const own = view.find(key);
  if (own !== undefined) return kernelShowLines(own, explain);
  const peer = view.findPeer(key);
  const closed = ep.closedAt !== undefined;
  let text = closed ? 'gone: the kernel holds nothing for this connection on our side any more' : 'not found by ss (it may be closing right now)';
  if (peer?.state === 'TIME_WAIT') text += `; the peer's side is in ${describeState(peer)} (it sent FIN first, so it is the one that waits)`;
  return [['kernel', text]];
}

/** The kernel's answer for the TCP connections among `eps`, in one ss call (undefined when there are none). */
export async function kernelRows(eps: readonly Endpoint[]): Promise<{ view: KernelView; keys: Map<Endpoint, KernelKey | string | undefined> }> {
  const keys = new Map(eps.map((ep) => [ep, keyOf(ep)] as const));
  const tuples = [...keys.values()].filter((k): k is KernelKey => typeof k === 'object');
  return { view: await queryKernel(tuples), keys };
}

/** `.ls --tcp`'s cells for one row, from {@link kernelRows}. */
export function kernelCells(view: KernelView, key: KernelKey | string | undefined): string[] {
  const isTcp = typeof key === 'object';
  return kernelLsCells(isTcp && view.ok ? view.find(key) : undefined, isTcp && view.ok);
}

/** One connection of the session: its sockets here (one, or both ends on loopback). */
interface Connection {
  key: KernelKey;
  ends: Endpoint[];
}

/** The session's TCP connections, both ends of a loopback connection as one (closed ones too). */
function connections(eps: readonly Endpoint[]): Connection[] {
  const byTuple = new Map<string, Connection>();
  for (const ep of eps) {
    const key = keyOf(ep);
    if (typeof key !== 'object') continue;
    const a = `${key.local.host}|${key.local.port}`;
    const b = `${key.remote.host}|${key.remote.port}`;
    const tuple = a < b ? `${a}|${b}` : `${b}|${a}`;
    const conn = byTuple.get(tuple);
    if (conn === undefined) byTuple.set(tuple, { key, ends: [ep] });
    else conn.ends.push(ep);
  }
  return [...byTuple.values()];
}

/** The socket of this session whose own address is `side`, if it holds one. */
function endAt(conn: Connection, side: SsSocket): Endpoint | undefined {
  return conn.ends.find((ep) => {
    const key = keyOf(ep);
    return typeof key === 'object' && key.local.host === side.local.host && key.local.port === side.local.port;
  });
}

const hostPort = (a: { host: string; port: number | undefined }): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);

/** One `.tcp` row for a connection with a side in TIME_WAIT. */
function timeWaitRow(conn: Connection, waiting: SsSocket[]): string[] {
  const ids = conn.ends.map(label).join(' ↔ ');
  const [first] = waiting as [SsSocket, ...SsSocket[]];
  const waiter = endAt(conn, first);
  const left = formatLeft(first.timer?.ms ?? 0);
  let who: string;
  if (waiting.length > 1) who = 'both sent FIN at once (a simultaneous close, CLOSING): both sides wait';
  else if (waiter === undefined) who = `the peer sent FIN first: its side waits; ${conn.ends.map((ep) => ep.id).join(' and ')} closed second and wait${conn.ends.length > 1 ? '' : 's'} for nothing`;
  else {
    const other = conn.ends.find((ep) => ep !== waiter);
    who = `${waiter.id} sent FIN first: its side waits; ${other === undefined ? "the peer's side" : other.id} closed second and does not`;
  }
  return [ids, `${hostPort(first.local)} → ${hostPort(first.peer)}`, left, who];
}

export const tcp = defineCommand({
  name: 'tcp',
  group: 'view',
  summary: 'recent TCP connections still in TIME_WAIT, and who closed first (from ss)',
  args: { usage: '.tcp', positionals: [] },
  help:
    'The side that sends FIN first ends in TIME_WAIT: its kernel keeps the connection 60 s (2×MSL on Linux) after the close, so a lost last ACK can be sent again and stray segments die. ' +
    "The side that closed second does not wait. socklab remembers its recent connections (closed ones too, up to the last 200) and asks the kernel with ss -tino (iproute2, Linux); both ends are shown when both are on this machine. " +
    "`.show cN` adds the kernel's state, queues, RTT, congestion window and retransmits of one connection; `.ls --tcp` adds them as columns. With `.explain on`, each state is explained.",
  examples: ['.tcp', '.close c1', '.show c1'],
  async run(ctx) {
    const conns = connections(ctx.session.list());
    if (conns.length === 0) {
      ctx.print('no TCP connection in this session yet: .connect opens one');
      return;
    }
    const view = await queryKernel(conns.map((c) => c.key));
    if (!view.ok) {
      ctx.print(escapeMessage(view.reason));
      return;
    }
    const rows: string[][] = [];
    for (const conn of conns) {
      const waiting = [view.find(conn.key), view.findPeer(conn.key)].filter((s): s is SsSocket => s?.state === 'TIME_WAIT');
      if (waiting.length > 0) rows.push(timeWaitRow(conn, waiting));
    }
    if (rows.length === 0) {
      const n = conns.length;
      ctx.print(`no connection of this session is in TIME_WAIT (${n} checked; the kernel keeps one 60 s after a close, on the side that sent FIN first)`);
      return;
    }
    let text = formatTable([['connection', 'waiting side → peer', 'left', 'who closed first'], ...rows]);
    if (ctx.settings.explain) text += `\n     ↳ ${TCP_STATE_NOTES.TIME_WAIT}`;
    ctx.print(escapeMessage(text));
  },
});
