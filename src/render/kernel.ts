import type { SsSocket, TcpState } from '../protocols/ss.js';
import { formatBytes } from './units.js';

/**
 * Pure renderers of the kernel's view (what `ss` said about a TCP socket):
 * the `kernel` section of `.show`, the columns of `.ls --tcp`, the rows of
 * `.tcp`, and what each TCP state means for `.explain on`.
 */

/**
 * What each state means, for a learner. The names are Linux's (the SPEC's);
 * RFC 9293 section 3.3.2 defines them, written with hyphens.
 */
export const TCP_STATE_NOTES: Readonly<Record<TcpState, string>> = {
  ESTABLISHED:
    'ESTABLISHED (RFC 9293: ESTABLISHED): the handshake is done and data flows both ways. recv-q is what arrived that the program has not read; send-q is what was sent that the peer has not acknowledged.',
  SYN_SENT:
    'SYN_SENT (RFC 9293: SYN-SENT): we sent SYN and wait for SYN-ACK. Unanswered, the kernel sends the SYN again after 1 s, 2 s, 4 s … (retrans counts them) until connect gives up. A server whose accept queue is full answers nothing.',
  SYN_RECEIVED:
    "SYN_RECEIVED (RFC 9293: SYN-RECEIVED): the server's kernel got a SYN and answered SYN-ACK; it waits for the client's ACK to finish the handshake.",
  FIN_WAIT1:
    'FIN_WAIT1 (RFC 9293: FIN-WAIT-1): we sent FIN and it is not acknowledged yet — usually because bytes queued before it are still unacknowledged (a peer that does not read). We can still receive.',
  FIN_WAIT2:
    "FIN_WAIT2 (RFC 9293: FIN-WAIT-2): our FIN is acknowledged; we wait for the peer's FIN. We still receive what the peer sends (a half-close). When its FIN comes, this side goes to TIME_WAIT.",
  CLOSE_WAIT:
    "CLOSE_WAIT (RFC 9293: CLOSE-WAIT): the peer sent FIN and the kernel acknowledged it; now it waits for this program to close its side (end()). A connection that stays here is a program that never closes — a leak.",
  LAST_ACK:
    'LAST_ACK (RFC 9293: LAST-ACK): this side closed second: its FIN is sent and it waits for the ACK; then the connection is gone, with no TIME_WAIT here.',
  TIME_WAIT:
    "TIME_WAIT (RFC 9293: TIME-WAIT): this side sent FIN first. After the peer's FIN it waits 2×MSL (60 s on Linux) so that a lost last ACK can be sent again and stray segments of this connection die before the same address pair is used again. The side that closed second does not wait.",
  CLOSING:
    'CLOSING (RFC 9293: CLOSING): both sides sent FIN at the same time (a simultaneous close); each waits for the ACK of its FIN, then both go to TIME_WAIT.',
  LISTEN: 'LISTEN (RFC 9293: LISTEN): a server socket waiting for SYNs; recv-q counts connections waiting for accept(), send-q is the backlog.',
  CLOSED: 'CLOSED (RFC 9293: CLOSED): no connection; the kernel keeps no state for it.',
};

/**
 * What a TCP state means, named as socklab shows it (`TIME_WAIT`), as RFC
 * 9293 writes it (`TIME-WAIT`) or as ss does (`ESTAB`, `SYN-RECV`), in any
 * case; undefined when `name` is no TCP state.
 */
export function explainTcpState(name: string): string | undefined {
  const upper = name.toUpperCase();
  const aliases: Record<string, TcpState> = { ESTAB: 'ESTABLISHED', 'SYN-RECV': 'SYN_RECEIVED', SYN_RECV: 'SYN_RECEIVED', UNCONN: 'CLOSED', CLOSE: 'CLOSED' };
  const canonical = Object.hasOwn(aliases, upper) ? aliases[upper] : upper.replace(/-(\d)$/, '$1').replaceAll('-', '_');
  return canonical !== undefined && Object.hasOwn(TCP_STATE_NOTES, canonical) ? TCP_STATE_NOTES[canonical as TcpState] : undefined;
}

/** `0.037 ms`, `12.5 ms` — RTTs as ss gives them (ms, up to 3 decimals). */
export function formatMs(ms: number): string {
  return `${Number(ms.toFixed(3))} ms`;
}

/** `52s`, `1m04s`, `850ms` — time left on a kernel timer. */
export function formatLeft(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** `none`, `2 (1 still unacknowledged)`. */
function formatRetrans(s: SsSocket): string {
  if (s.retrans === undefined || s.retrans.total === 0) return 'none';
  return s.retrans.now > 0 ? `${s.retrans.total} (${s.retrans.now} of them in flight now)` : String(s.retrans.total);
}

/** `TIME_WAIT, 52s left`, `ESTABLISHED, keepalive in 1m04s`. */
export function describeState(s: SsSocket): string {
  const t = s.timer;
  if (t === undefined || t.name === 'off') return s.state;
  if (t.name === 'timewait') return `${s.state}, ${formatLeft(t.ms)} left`;
  const what: Record<string, string> = { on: 'retransmit', keepalive: 'keepalive', persist: 'zero-window probe' };
  return `${s.state}, ${what[t.name] ?? t.name} timer ${formatLeft(t.ms)}${t.retries > 0 ? ` (${t.retries} sent)` : ''}`;
}

/**
 * `.show`'s kernel lines for a socket ss knows. `explain`: one more line
 * that says what the state means.
 */
export function kernelShowLines(s: SsSocket, explain: boolean): Array<[string, string]> {
  const lines: Array<[string, string]> = [
    ['kernel', `${describeState(s)}  (ss)`],
    ['  queues', `recv-q ${formatBytes(s.recvQ)} not read yet, send-q ${formatBytes(s.sendQ)} not acknowledged`],
  ];
  if (s.rttMs !== undefined) lines.push(['  rtt', `${formatMs(s.rttMs)}${s.rttVarMs === undefined ? '' : ` ± ${formatMs(s.rttVarMs)}`}`]);
  if (s.cwnd !== undefined) lines.push(['  cwnd', `${s.cwnd} segments`]);
  if (s.state !== 'TIME_WAIT') lines.push(['  retransmits', formatRetrans(s)]);
  if (explain) lines.push(['  why', TCP_STATE_NOTES[s.state]]);
  return lines;
}

/** Header of the columns `.ls --tcp` adds. */
export const LS_TCP_HEADER = ['tcp', 'recv-q', 'send-q', 'rtt', 'cwnd', 'retrans'];

/** `.ls --tcp`'s cells for one socket: empty when it is not a TCP connection, `-` when the kernel has none. */
export function kernelLsCells(s: SsSocket | undefined, isTcp: boolean): string[] {
  if (!isTcp) return LS_TCP_HEADER.map(() => '');
  if (s === undefined) return ['-', '', '', '', '', ''];
  return [
    s.state,
    formatBytes(s.recvQ),
    formatBytes(s.sendQ),
    s.rttMs === undefined ? '' : formatMs(s.rttMs),
    s.cwnd === undefined ? '' : String(s.cwnd),
    s.retrans === undefined ? '0' : String(s.retrans.total),
  ];
}
