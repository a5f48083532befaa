/**
 * The output of `ss -tinoH` (iproute2, Linux) → what the kernel knows about
 * each TCP socket. Pure: text in, records out; running `ss` is
 * `src/observers/kernel-view.ts`. The fields read are the ones `ss` prints
 * (man ss(8), iproute2 `misc/ss.c`): nothing is worked out again from
 * /proc, only read from ss's own words.
 *
 * One socket is two lines: the summary (`STATE RECV-Q SEND-Q LOCAL PEER
 * [timer:(NAME,TIME,RETRIES)]`) and, indented by a tab, the `-i` details
 * (`rtt:0.037/0.02 cwnd:11 retrans:0/1 …`; a TIME-WAIT socket has none).
 */

/**
 * TCP states by the names the SPEC uses (Linux's `TCP_*` names; RFC 9293
 * section 3.3.2 writes them with hyphens: FIN-WAIT-1, SYN-RECEIVED …).
 */
export type TcpState =
  | 'ESTABLISHED'
  | 'SYN_SENT'
  | 'SYN_RECEIVED'
  | 'FIN_WAIT1'
  | 'FIN_WAIT2'
  | 'TIME_WAIT'
  | 'CLOSED'
  | 'CLOSE_WAIT'
  | 'LAST_ACK'
  | 'LISTEN'
  | 'CLOSING';

/** ss's state words (`sstate_name` in ss.c) → the state. */
const SS_STATES: Readonly<Record<string, TcpState>> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECEIVED',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  UNCONN: 'CLOSED',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

/** One end of a connection as ss prints it. `port` is undefined for `*`. */
export interface SsAddress {
  /** `127.0.0.1`, `::1`, `::ffff:127.0.0.1` (no brackets, no `%interface`), or `*`. */
  host: string;
  port: number | undefined;
}

/** A kernel timer (`-o`): `timer:(timewait,52sec,0)`. */
export interface SsTimer {
  /** `on` (retransmit), `keepalive`, `timewait`, `persist` (zero window probe), `off`, `unknown`. */
  name: string;
  /** Time left, ms. */
  ms: number;
  /** Retransmissions or probes sent so far. */
  retries: number;
}

/** What ss says about one TCP socket. Sizes are bytes, times ms. */
export interface SsSocket {
  state: TcpState;
  /**
   * Bytes received that the program has not read yet (on a LISTEN socket:
   * connections waiting for accept()).
   */
  recvQ: number;
  /** Bytes sent that the peer has not acknowledged yet (LISTEN: the backlog). */
  sendQ: number;
  local: SsAddress;
  peer: SsAddress;
  timer?: SsTimer;
  /** Smoothed round-trip time, ms (`rtt:SRTT/RTTVAR`). */
  rttMs?: number;
  /** Its mean deviation, ms. */
  rttVarMs?: number;
  /** Congestion window, in segments (`cwnd:10`). */
  cwnd?: number;
  /** Segments sent and not acknowledged (`unacked:1`). */
  unacked?: number;
  /**
   * Retransmissions (`retrans:A/B`): `now` of the segments in flight, `total`
   * over the connection's life. Absent when none happened.
   */
  retrans?: { now: number; total: number };
}

/** Records, and how many summary lines could not be read (a newer ss, garbage on PATH). */
export interface SsParse {
  sockets: SsSocket[];
  unreadable: number;
}

/** Parse the whole output of `ss -tinoH` (with or without `-i`, `-o`). */
export function parseSs(text: string): SsParse {
  const sockets: SsSocket[] = [];
  let unreadable = 0;
  let last: SsSocket | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('\t') || line.startsWith(' ')) {
      if (last !== undefined) readDetails(last, line);
      continue;
    }
    last = parseSummary(line);
    if (last === undefined) unreadable++;
    else sockets.push(last);
  }
  return { sockets, unreadable };
}

/** `ESTAB 0 0 127.0.0.1:34534 127.0.0.1:52109 timer:(keepalive,1min4sec,0)`, or undefined. */
export function parseSummary(line: string): SsSocket | undefined {
  const words = line.trim().split(/\s+/);
  const [stateWord = '', recv = '', send = '', localText = '', peerText = '', ...rest] = words;
  const state = Object.hasOwn(SS_STATES, stateWord) ? SS_STATES[stateWord] : undefined;
  const local = parseSsAddress(localText);
  const peer = parseSsAddress(peerText);
  if (state === undefined || !isCount(recv) || !isCount(send) || local === undefined || peer === undefined) return undefined;
  const socket: SsSocket = { state, recvQ: Number(recv), sendQ: Number(send), local, peer };
  const timerWord = rest.find((w) => w.startsWith('timer:('));
  const timer = timerWord === undefined ? undefined : parseSsTimer(timerWord);
  if (timer !== undefined) socket.timer = timer;
  return socket;
}

/** The `-i` line: `key:value` words; the ones socklab shows are kept. */
function readDetails(socket: SsSocket, line: string): void {
  for (const word of line.trim().split(/\s+/)) {
    const colon = word.indexOf(':');
    if (colon < 0) continue;
    const key = word.slice(0, colon);
    const value = word.slice(colon + 1);
    if (key === 'rtt') {
      const [srtt = '', rttvar = ''] = value.split('/');
      if (isDecimal(srtt)) socket.rttMs = Number(srtt);
      if (isDecimal(rttvar)) socket.rttVarMs = Number(rttvar);
    } else if (key === 'cwnd' && isCount(value)) socket.cwnd = Number(value);
    else if (key === 'unacked' && isCount(value)) socket.unacked = Number(value);
    else if (key === 'retrans') {
      const [now = '', total = ''] = value.split('/');
      if (isCount(now) && isCount(total)) socket.retrans = { now: Number(now), total: Number(total) };
    }
  }
}

/**
 * `127.0.0.1:80`, `[::1]:8080`, `[::ffff:127.0.0.1]:80`, `0.0.0.0:*`,
 * `[::]:*`, `*:*`, `127.0.0.1%lo:53` → host and port; undefined when it is none of these.
 */
export function parseSsAddress(text: string): SsAddress | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const scope = host.indexOf('%');
  if (scope >= 0) host = host.slice(0, scope);
  if (host === '' || !/^[0-9A-Fa-f.:*]+$/.test(host)) return undefined;
  if (portText === '*') return { host, port: undefined };
  if (!isCount(portText) || Number(portText) > 65535) return undefined;
  return { host: host.toLowerCase(), port: Number(portText) };
}

/** `timer:(timewait,52sec,0)` → its name, time left (ms) and count; undefined when unreadable. */
export function parseSsTimer(word: string): SsTimer | undefined {
  if (!word.startsWith('timer:(') || !word.endsWith(')')) return undefined;
  const [name = '', time = '', retries = ''] = word.slice('timer:('.length, -1).split(',');
  const ms = parseSsTime(time);
  if (!/^[a-z]+$/.test(name) || ms === undefined || !isCount(retries)) return undefined;
  return { name, ms, retries: Number(retries) };
}

/**
 * A time as ss's `print_ms_timer` writes it, → ms: `52sec`, `040ms` (40 ms),
 * `4.888ms` (4.888 s: seconds, a dot, then milliseconds), `1min4sec`,
 * `10min` (past 9 minutes the seconds are dropped). Undefined when unreadable.
 */
export function parseSsTime(text: string): number | undefined {
  const m = /^(?:(\d{1,6})min)?(?:(\d{1,2})sec)?(?:(?:(\d{1,2})\.)?(\d{1,3})ms)?$/.exec(text);
  if (m === null || text === '') return undefined;
  const [, min = '0', sec = '0', secBeforeMs = '0', ms = '0'] = m;
  return (Number(min) * 60 + Number(sec) + Number(secBeforeMs)) * 1000 + Number(ms);
}

const isCount = (s: string): boolean => /^\d{1,15}$/.test(s);
const isDecimal = (s: string): boolean => /^\d{1,9}(?:\.\d{1,6})?$/.test(s);
