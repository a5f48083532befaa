import { kindOf, type Endpoint } from '../session/endpoint.js';
import { queryKernel, type KernelKey } from '../observers/kernel-view.js';
import type { SsSocket, TcpState } from '../protocols/ss.js';
import { LS_TCP_HEADER, TCP_STATE_NOTES, describeState, formatLeft, kernelLsCells, kernelShowLines } from '../render/kernel.js';
import { escapeMessage } from '../render/escape.js';
import { formatTable } from '../render/units.js';
import { MAX_CLOSED_KEPT } from '../session/manager.js';
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

/**
 * `.ls --tcp`: the table with the kernel's columns after Node's `state` (the
 * 6th), so the two read side by side; one ss call for every row. `before`:
 * the line that says why there is no kernel view; `after`: with `.explain on`,
 * a note for each state shown. `rowsNow` makes Node's rows once ss has
 * answered, so the table is one moment's.
 */
export async function withKernelColumns(
  eps: readonly Endpoint[],
  header: string[],
  rowsNow: () => string[][],
  explain: boolean,
): Promise<{ header: string[]; rows: string[][]; before: string; after: string }> {
  const keys = eps.map(keyOf);
  const view = await queryKernel(keys.filter((k): k is KernelKey => typeof k === 'object'));
  const rows = rowsNow();
  const at = header.indexOf('state') + 1;
  const cells = keys.map((key) => {
    const isTcp = typeof key === 'object';
    return kernelLsCells(isTcp && view.ok ? view.find(key) : undefined, isTcp && view.ok);
  });
  const states = new Set(cells.map((c) => c[0]).filter((s): s is TcpState => s !== undefined && Object.hasOwn(TCP_STATE_NOTES, s)));
  return {
    header: [...header.slice(0, at), ...LS_TCP_HEADER, ...header.slice(at)],
    rows: rows.map((r, i) => [...r.slice(0, at), ...(cells[i] ?? []), ...r.slice(at)]),
    before: view.ok ? '' : `${view.reason}\n`,
    after: view.ok && explain ? [...states].map((s) => `\n     ↳ ${TCP_STATE_NOTES[s]}`).join('') : '',
  };
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
    `The side that closed second does not wait. socklab remembers its recent connections (closed ones too, up to the last ${MAX_CLOSED_KEPT}) and asks the kernel with ss -tino (iproute2, Linux); both ends are shown when both are on this machine. ` +
    "`.show cN` adds the kernel's state, queues, RTT, congestion window and retransmits of one connection; `.ls --tcp` adds them as columns. With `.explain on`, each state is explained.",
  examples: ['.tcp', '.explain TIME_WAIT'],
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
